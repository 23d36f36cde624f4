using System.CommandLine;
using System.Globalization;
using EdgeProfile.Cli.HubApi;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary><c>stores list</c>: the hub's enrolled stores, CDN nodes and partners.</summary>
public static class StoresCommand
{
    /// <summary>Builds <c>stores</c> with <c>list</c>.</summary>
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of a table" };
        var hub = new HubConnectionOptions();
        var list = new Command("list", "List enrolled stores: kind, last seen, backlog, model version") { json };
        hub.AddTo(list);
        list.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var (stores, raw) = await client.GetStoresAsync(ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
                return ExitCodes.Ok;
            }

            if (stores.Count == 0)
            {
                Console.Out.WriteLine($"No stores enrolled at {client.BaseUrl} yet (create a token with: edgeprofile enroll create --store ID)");
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn("Store").AddColumn("Kind").AddColumn("Status").AddColumn("Enrolled")
                .AddColumn("Last seen").AddColumn(new TableColumn("Backlog").RightAligned())
                .AddColumn(new TableColumn("Acked through").RightAligned()).AddColumn("Model");
            var now = DateTimeOffset.UtcNow;
            foreach (var s in stores)
            {
                table.AddRow(
                    Markup.Escape(s.StoreId),
                    Markup.Escape(s.Kind),
                    s.Revoked ? "[red]revoked[/]" : s.LastSeen is null ? "[yellow]never connected[/]" : "[green]active[/]",
                    s.EnrolledAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                    s.LastSeen is { } seen ? $"{Ago(now - seen)} ago" : "-",
                    s.Backlog.ToString("N0", CultureInfo.InvariantCulture) + (s.Backlog > 0 && s.OldestBacklogAgeMs > 0 ? $" ({Ago(TimeSpan.FromMilliseconds(s.OldestBacklogAgeMs))})" : ""),
                    s.AckedThrough.ToString("N0", CultureInfo.InvariantCulture),
                    Markup.Escape(string.IsNullOrEmpty(s.ModelVersion) ? "-" : s.ModelVersion));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });

        return new Command("stores", "Stores, CDN nodes and partners known to the hub") { list };
    }

    /// <summary>A short human duration: 12s, 5m, 3h, 2d.</summary>
    public static string Ago(TimeSpan t)
    {
        if (t < TimeSpan.Zero)
        {
            t = TimeSpan.Zero;
        }

        return t.TotalSeconds < 90 ? $"{t.TotalSeconds:0}s"
            : t.TotalMinutes < 90 ? $"{t.TotalMinutes:0}m"
            : t.TotalHours < 36 ? $"{t.TotalHours:0}h"
            : $"{t.TotalDays:0}d";
    }
}
