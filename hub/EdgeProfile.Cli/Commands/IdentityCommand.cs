using System.CommandLine;
using System.Globalization;
using EdgeProfile.Cli.HubApi;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// Identity resolution for operators: <c>identity show KEY</c> (identifiers, links with store and time, audited merges,
/// rejections and unmerges) and <c>identity unmerge SEQ</c> (undo a merge; the two sides then stay apart).
/// </summary>
public static class IdentityCommand
{
    /// <summary>Builds <c>identity</c> with <c>show</c> and <c>unmerge</c>.</summary>
    public static Command Create() => new("identity", "How customer identifiers were resolved into profiles, and undoing a wrong merge") { Show(), Unmerge() };

    private static Command Show()
    {
        var key = new Argument<string>("KEY") { Description = "A customer key: loyalty:L-1002, app:u-77, device:..., email:a@b.cn (pseudonymised by the hub), or ep:<profile id>" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of tables" };
        var hub = new HubConnectionOptions();
        var show = new Command("show", "Show a profile's identifiers, the links that joined them (store, time, status, reason) and its merge audit") { key, json };
        hub.AddTo(show);
        show.SetGuardedAction(async (r, ct) =>
        {
            var customerKey = r.GetValue(key)!.Trim();
            if (!customerKey.Contains(':', StringComparison.Ordinal))
            {
                throw new CliException($"'{customerKey}' is not a customer key: expected kind:value, e.g. loyalty:L-1002 or app:u-77", ExitCodes.Usage);
            }

            using var client = hub.CreateClient(r);
            var found = await client.GetIdentityAsync(customerKey, ct).ConfigureAwait(false)
                ?? throw new CliException($"no profile for '{customerKey}' at the hub {client.BaseUrl}");
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(found.Json));
                return ExitCodes.Ok;
            }

            // Keys and reasons are long; redirected output would otherwise wrap them at 80 columns.
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 200);
            var history = found.History;
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(history.Profile)}[/]: {Markup.Escape(string.Join(", ", history.Identifiers))}");
            var links = new Table().Border(TableBorder.Rounded).Title("Links")
                .AddColumn("From").AddColumn("To").AddColumn("Store").AddColumn("First seen").AddColumn("Status").AddColumn("Reason");
            foreach (var l in history.Links)
            {
                links.AddRow(Markup.Escape(l.From), Markup.Escape(l.To), Markup.Escape(l.Store), l.FirstSeen.ToString("u", CultureInfo.InvariantCulture),
                    Markup.Escape(l.Status), Markup.Escape(l.Reason ?? ""));
            }

            AnsiConsole.Write(links);
            var audit = new Table().Border(TableBorder.Rounded).Title("Audit (undo a merge with: edgeprofile identity unmerge SEQ)")
                .AddColumn(new TableColumn("Seq").RightAligned()).AddColumn("At").AddColumn("Action").AddColumn("By").AddColumn("Profiles").AddColumn("Identifiers").AddColumn("Note");
            foreach (var a in history.Audit)
            {
                var note = a.UndoneBy is { } undone ? $"undone by {undone}" : a.Reason ?? "";
                audit.AddRow(a.Seq.ToString(CultureInfo.InvariantCulture), a.At.ToString("u", CultureInfo.InvariantCulture), Markup.Escape(a.Action),
                    Markup.Escape(a.Actor), Markup.Escape(a.Other is null ? a.Profile : $"{a.Profile} / {a.Other}"),
                    Markup.Escape(string.Join(", ", a.Keys)), Markup.Escape(note));
            }

            AnsiConsole.Write(audit);
            return ExitCodes.Ok;
        });
        return show;
    }

    private static Command Unmerge()
    {
        var seq = new Argument<long>("SEQ") { Description = "The merge's audit number, from: edgeprofile identity show KEY" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var unmerge = new Command("unmerge", "Undo a merge: the absorbed profile's identifiers get their own profile back and stay apart from then on") { seq, json };
        hub.AddTo(unmerge);
        unmerge.SetGuardedAction(async (r, ct) =>
        {
            var merge = r.GetValue(seq);
            using var client = hub.CreateClient(r);
            var done = await client.UnmergeAsync(merge, ct).ConfigureAwait(false)
                ?? throw new CliException($"the hub {client.BaseUrl} has no identity audit record {merge}");
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(done.Json));
            }
            else
            {
                var result = done.Result;
                AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"Merge {result.Merge} undone (audit {result.Seq}): {string.Join(", ", result.Identifiers)} moved from {result.From} back to {result.Restored}")));
            }

            return ExitCodes.Ok;
        });
        return unmerge;
    }
}
