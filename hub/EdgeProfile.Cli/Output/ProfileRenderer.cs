using System.Globalization;
using EdgeProfile.Cli.Commands;
using EdgeProfile.Hub.Api;
using Spectre.Console;

namespace EdgeProfile.Cli.Output;

/// <summary>Writes a global profile as text for people: identifiers, global and per-store features, tags with reasons.</summary>
public static class ProfileRenderer
{
    /// <summary>Writes <paramref name="profile"/>; <paramref name="askedFor"/> is the key it was looked up with.</summary>
    public static void Write(IAnsiConsole console, GlobalProfile profile, string askedFor)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(profile);
        var now = DateTimeOffset.UtcNow;
        console.MarkupLine($"[bold]Customer {Markup.Escape(profile.ProfileId)}[/] [grey](looked up as {Markup.Escape(askedFor)})[/]");
        var ids = profile.Identifiers ?? [];
        console.MarkupLine($"  [grey]identifiers:[/] {Markup.Escape(string.Join(", ", ids.Select(Abbreviate)))}");

        if (profile.Global is { } g)
        {
            var channels = g.Channels is { Count: > 0 } ? string.Join(", ", g.Channels) : "-";
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"  global: {g.StoresSeen} store(s), visits {g.Visits7d} (7d) / {g.Visits30d} (30d), spend {Money(g.Spend7d)} (7d) / {Money(g.Spend30d)} (30d)")));
            console.MarkupLine(Markup.Escape(
                $"          last seen {(g.LastSeen is { } seen ? StoresCommand.Ago(now - seen) + " ago" : "-")}, last channels {channels}, last category {g.LastCategory ?? "-"}"));
        }

        // One text block per store rather than a wide table: it stays readable in an 80-column terminal.
        foreach (var s in profile.Stores ?? [])
        {
            var seen = s.LastSeen is { } at ? StoresCommand.Ago(now - at) + " ago" : "-";
            console.MarkupLine($"  [bold]{Markup.Escape(s.StoreId)}[/] [grey]as {Markup.Escape(Abbreviate(s.CustomerKey))}[/]");
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"      visits {s.Visits7d}/{s.Visits30d}, spend {Money(s.Spend7d)}/{Money(s.Spend30d)} CNY (7d/30d), {s.EventsTotal} events, last seen {seen} via {s.LastChannel ?? "-"}")));
            console.MarkupLine(Markup.Escape($"      last category {s.LastCategory ?? "-"}; tags {(s.Tags is { Count: > 0 } ? string.Join(", ", s.Tags) : "none")}"));
        }

        var tags = profile.Tags ?? [];
        console.MarkupLine(tags.Count == 0 ? "  [grey]tags:[/] none" : "  [grey]tags:[/]");
        foreach (var t in tags)
        {
            console.MarkupLine($"    [green]{Markup.Escape(t.Name)}[/] — {Markup.Escape(t.Reason)}");
        }

        foreach (var s in profile.Scores ?? [])
        {
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"  score {s.Task} = {(s.Value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) : "[" + string.Join(", ", (s.Values ?? []).Select(x => x.ToString("0.###", CultureInfo.InvariantCulture))) + "]")} at {s.StoreId} (model {s.Model}, {s.ScoredAt:yyyy-MM-dd HH:mm}Z{(s.MissingFeatures > 0 ? $", {s.MissingFeatures} features missing" : "")})")));
        }

        var reasons = profile.Reasons ?? [];
        if (reasons.Count > 0)
        {
            console.MarkupLine("  [grey]why:[/]");
            foreach (var reason in reasons)
            {
                console.MarkupLine($"    • {Markup.Escape(reason)}");
            }
        }
    }

    /// <summary>Shortens pseudonymised keys (email/phone/card hashes) for display; others are shown whole.</summary>
    public static string Abbreviate(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return key;
        }

        var kind = key[..colon];
        var value = key[(colon + 1)..];
        return kind is "email" or "phone" or "card" && value.Length > 14 ? $"{kind}:{value[..12]}…" : key;
    }

    private static string Money(double v) => v.ToString("#,0.00", CultureInfo.InvariantCulture);
}
