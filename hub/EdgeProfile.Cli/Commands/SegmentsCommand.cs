using System.CommandLine;
using System.Globalization;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Hub.Api;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// Segments (audiences) at the hub: <c>segments list</c>, <c>segments define NAME --expr "..."</c>,
/// <c>segments show NAME</c>, <c>segments delete NAME</c> and <c>segments export NAME --out FILE</c> (members as CSV).
/// </summary>
public static class SegmentsCommand
{
    private const string ExpressionHelp =
        "The rule, e.g. \"spend_30d >= 100 and (has_tag(\\\"vip\\\") or channel(\\\"app\\\"))\". Fields: visits_7d visits_30d spend_7d spend_30d " +
        "stores_seen last_seen_days last_category identifier_count; functions: has_tag channel category_prefix searched; and, or, not, ( )";

    /// <summary>Builds <c>segments</c> with <c>list</c>, <c>define</c>, <c>show</c>, <c>delete</c> and <c>export</c>.</summary>
    public static Command Create() => new("segments", "Segments (audiences): rules over profile fields and tags, kept up to date as profiles change")
    {
        List(), Define(), Show(), Delete(), Export(),
    };

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of a table" };
        var hub = new HubConnectionOptions();
        var list = new Command("list", "List segments: version, member count, rule, description") { json };
        hub.AddTo(list);
        list.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var (segments, raw) = await client.ListSegmentsAsync(ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
                return ExitCodes.Ok;
            }

            if (segments.Count == 0)
            {
                Console.Out.WriteLine($"No segments at {client.BaseUrl} yet (define one with: edgeprofile segments define NAME --expr \"spend_30d >= 100\")");
                return ExitCodes.Ok;
            }

            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn(new TableColumn("Name").NoWrap()).AddColumn(new TableColumn("Ver").RightAligned().NoWrap())
                .AddColumn(new TableColumn("Members").RightAligned().NoWrap()).AddColumn("Expression").AddColumn("Description");
            foreach (var s in segments)
            {
                table.AddRow(Markup.Escape(s.Name), "v" + s.Version.ToString(CultureInfo.InvariantCulture), s.Members.ToString("N0", CultureInfo.InvariantCulture),
                    Markup.Escape(s.Expression), Markup.Escape(s.Description));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Define()
    {
        var name = NameArgument();
        var expr = new Option<string>("--expr") { Description = ExpressionHelp, HelpName = "EXPRESSION", Required = true };
        var description = new Option<string?>("--description") { Description = "What the segment is for (kept when omitted; \"\" clears it)", HelpName = "TEXT" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var define = new Command("define", "Create or replace a segment (the next version); the hub recomputes its members over every profile") { name, expr, description, json };
        hub.AddTo(define);
        define.SetGuardedAction(async (r, ct) =>
        {
            var segmentName = r.GetValue(name)!.Trim();
            using var client = hub.CreateClient(r);
            var (segment, raw) = await client.DefineSegmentAsync(segmentName, r.GetValue(expr)!, r.GetValue(description), ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
            }
            else
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Segment {segment.Name} v{segment.Version} {(segment.Version == 1 ? "created" : "replaced")}: {segment.Members:N0} members ({segment.Expression})"));
            }

            return ExitCodes.Ok;
        });
        return define;
    }

    private static Command Show()
    {
        var name = NameArgument();
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var show = new Command("show", "Show a segment: rule, description, version, member count") { name, json };
        hub.AddTo(show);
        show.SetGuardedAction(async (r, ct) =>
        {
            var segmentName = r.GetValue(name)!.Trim();
            using var client = hub.CreateClient(r);
            var found = await client.GetSegmentAsync(segmentName, ct).ConfigureAwait(false)
                ?? throw NotFound(segmentName, client);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(found.Json));
                return ExitCodes.Ok;
            }

            Write(found.Segment);
            return ExitCodes.Ok;
        });
        return show;
    }

    private static Command Delete()
    {
        var name = NameArgument();
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON (the segment as it was) instead of text" };
        var hub = new HubConnectionOptions();
        var delete = new Command("delete", "Delete a segment and its member list") { name, json };
        hub.AddTo(delete);
        delete.SetGuardedAction(async (r, ct) =>
        {
            var segmentName = r.GetValue(name)!.Trim();
            using var client = hub.CreateClient(r);
            var deleted = await client.DeleteSegmentAsync(segmentName, ct).ConfigureAwait(false)
                ?? throw NotFound(segmentName, client);
            Console.Out.WriteLine(r.GetValue(json)
                ? HubRestClient.Indent(deleted.Json)
                : string.Create(CultureInfo.InvariantCulture, $"Segment {deleted.Segment.Name} deleted (v{deleted.Segment.Version}, {deleted.Segment.Members:N0} members)"));
            return ExitCodes.Ok;
        });
        return delete;
    }

    private static Command Export()
    {
        var name = NameArgument();
        var output = new Option<string>("--out")
        {
            Description = "The CSV file to write (replaced if it exists), or - for standard output. Columns: profile_id, identifiers, visits_30d, spend_30d, channels, tags, since",
            HelpName = "FILE",
            Required = true,
        };
        var hub = new HubConnectionOptions();
        var export = new Command("export", "Export a segment's members as CSV, streamed from the hub") { name, output };
        hub.AddTo(export);
        export.SetGuardedAction(async (r, ct) =>
        {
            var segmentName = r.GetValue(name)!.Trim();
            var path = r.GetValue(output)!;
            using var client = hub.CreateClient(r);
            if (path == "-")
            {
                var stdout = Console.OpenStandardOutput();
                await using (stdout.ConfigureAwait(false))
                {
                    _ = await client.ExportSegmentAsync(segmentName, stdout, ct).ConfigureAwait(false) ?? throw NotFound(segmentName, client);
                }

                return ExitCodes.Ok;
            }

            var target = Path.GetFullPath(path);
            // Written beside the target and moved into place: an export that breaks off leaves no half file behind.
            var partial = target + ".partial";
            long? rows;
            try
            {
                var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true);
                await using (file.ConfigureAwait(false))
                {
                    rows = await client.ExportSegmentAsync(segmentName, file, ct).ConfigureAwait(false);
                }

                if (rows is null)
                {
                    File.Delete(partial);
                    throw NotFound(segmentName, client);
                }

                File.Move(partial, target, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                TryDelete(partial);
                throw new CliException($"--out {target}: {ex.Message}", ExitCodes.Failed);
            }
            catch
            {
                TryDelete(partial);
                throw;
            }

            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Exported {rows:N0} members of segment {segmentName} to {target}"));
            return ExitCodes.Ok;
        });
        return export;
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "The segment name: 1-64 characters of a-z 0-9 _ -" };

    private static CliException NotFound(string name, HubRestClient client) =>
        new($"no segment '{name}' at the hub {client.BaseUrl} (see: edgeprofile segments list)");

    private static void Write(SegmentSummary s)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[bold]Segment[/]", Markup.Escape(s.Name));
        grid.AddRow("Expression", Markup.Escape(s.Expression));
        grid.AddRow("Description", Markup.Escape(s.Description.Length == 0 ? "-" : s.Description));
        grid.AddRow("Version", "v" + s.Version.ToString(CultureInfo.InvariantCulture));
        grid.AddRow("Members", s.Members.ToString("N0", CultureInfo.InvariantCulture));
        grid.AddRow("Created", s.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
        grid.AddRow("Updated", s.UpdatedAt.ToString("u", CultureInfo.InvariantCulture));
        AnsiConsole.Write(grid);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the error that got us here matters more.
        }
    }
}
