using System.Globalization;
using EdgeProfile.Cli.HubApi;
using Spectre.Console;

namespace EdgeProfile.Cli.Output;

/// <summary>Federated jobs as text for people: the job list, one job's summary, its rounds and each client's participation.</summary>
public static class FlJobRenderer
{
    /// <summary>A table of jobs, newest as the hub lists them.</summary>
    public static void WriteList(IAnsiConsole console, IReadOnlyList<FlJobSummary> jobs)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(jobs);
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("Job").NoWrap()).AddColumn("Name").AddColumn("State")
            .AddColumn(new TableColumn("Round").RightAligned()).AddColumn("Strategy").AddColumn("SecAgg")
            .AddColumn(new TableColumn("ε").RightAligned()).AddColumn(new TableColumn("Created").NoWrap())
            .AddColumn("Model").AddColumn("Reason");
        foreach (var j in jobs)
        {
            table.AddRow(
                Markup.Escape(j.Id),
                Markup.Escape(j.Name ?? ""),
                State(j.State),
                Invariant($"{j.Round}/{j.Rounds}"),
                Markup.Escape(j.Strategy ?? ""),
                j.SecureAggregation ? "yes" : "no",
                Number(j.Epsilon, "0.###"),
                j.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                Markup.Escape(j.ModelVersion ?? "-"),
                Markup.Escape(j.Reason ?? ""));
        }

        console.Write(table);
    }

    /// <summary>One line: what the job is and where it stands.</summary>
    public static string SummaryLine(FlJobSummary job) => Headline(job) + ", " + Details(job);

    // Where the job stands: state (with the reason of a failure or stop) and round.
    private static string Headline(FlJobSummary job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var reason = string.IsNullOrEmpty(job.Reason) ? "" : $" ({job.Reason})";
        return Invariant($"Job {job.Id} ({job.Name}): {job.State}{reason}, round {job.Round}/{job.Rounds}");
    }

    // How it runs and what it produced: strategy, privacy spent, newest model, times.
    private static string Details(FlJobSummary job)
    {
        var finished = job.FinishedAt is { } at ? Invariant($", finished {at.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z") : "";
        var epsilon = job.Epsilon is { } e ? Invariant($", ε spent {e:0.###}") : "";
        var model = job.ModelVersion is { } m ? $", model {m}" : "";
        return Invariant($"{job.Strategy}{(job.SecureAggregation ? " with secure aggregation" : "")}{epsilon}{model}, created {job.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z{finished}");
    }

    /// <summary>The job's summary, its spec in one line, a table of rounds and a table of clients.</summary>
    public static void WriteDetail(IAnsiConsole console, FlJobDetail job)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(job);
        // Two lines rather than SummaryLine: a failure's reason makes it longer than a terminal is wide.
        console.MarkupLine("[bold]" + Markup.Escape(Headline(job.Summary)) + "[/]");
        console.MarkupLine("  " + Markup.Escape(Details(job.Summary)));
        if (job.Spec is { } spec)
        {
            var privacy = spec.NoiseMultiplier > 0
                ? Invariant($"noise σ {spec.NoiseMultiplier:0.###}, clip {spec.ClipNorm:0.###}, budget ε {(spec.Epsilon is { } eps ? eps.ToString("0.###", CultureInfo.InvariantCulture) : "none")} δ {spec.Delta:0.###E+0}")
                : spec.ClipNorm is { } clip ? Invariant($"clip {clip:0.###}, no noise") : "no clipping, no noise";
            console.MarkupLine(Markup.Escape(Invariant(
                $"  features {string.Join(", ", spec.Features)}; tasks {string.Join(", ", spec.Tasks.Select(t => $"{t.Name} ({t.Kind}, {t.Label})"))}")));
            console.MarkupLine(Markup.Escape(Invariant(
                $"  {spec.Rounds} rounds, fraction {spec.Fraction:0.##}, min {spec.MinClients} clients, timeout {spec.RoundTimeoutSeconds} s; local {spec.LocalEpochs} epoch(s), batch {spec.BatchSize}, lr {spec.LearningRate:0.#####} {spec.Optimizer}{(spec.ProximalMu > 0 ? Invariant($", μ {spec.ProximalMu:0.####}") : "")}; {privacy}; {spec.Compression}; clients {(spec.Clients.Count == 0 ? "all enrolled" : string.Join(", ", spec.Clients))}")));
        }

        if (job.RoundReports.Count == 0)
        {
            console.MarkupLine("  [grey]no rounds yet[/]");
        }
        else
        {
            console.Write(RoundTable(job.RoundReports));
        }

        if (job.Participation.Count > 0)
        {
            console.Write(ParticipationTable(job.Participation));
        }
    }

    /// <summary>Rounds: updates of invited, dropped, stragglers, rejected, loss and AUC metrics, ε, model version.</summary>
    public static Table RoundTable(IReadOnlyList<FlRoundReport> rounds)
    {
        ArgumentNullException.ThrowIfNull(rounds);
        var metricNames = MetricColumns(rounds.Select(r => r.Metrics));
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("Round").RightAligned()).AddColumn("State")
            .AddColumn(new TableColumn("Updates").RightAligned()).AddColumn(new TableColumn("Dropped").RightAligned())
            .AddColumn(new TableColumn("Stragglers").RightAligned()).AddColumn("Rejected");
        foreach (var name in metricNames)
        {
            table.AddColumn(new TableColumn(Markup.Escape(name)).RightAligned());
        }

        table.AddColumn(new TableColumn("ε").RightAligned()).AddColumn("Model").AddColumn("Reason");
        foreach (var r in rounds.OrderBy(r => r.Round))
        {
            var cells = new List<string>
            {
                Invariant($"{r.Round}"),
                State(r.State) + (r.Attempt > 1 ? Invariant($" (attempt {r.Attempt})") : ""),
                Invariant($"{r.Updates}/{r.Invited}"),
                Invariant($"{r.Dropped}"),
                Invariant($"{r.Stragglers}"),
                Markup.Escape(r.Rejected is { Count: > 0 } rejected ? string.Join(", ", rejected) : "-"),
            };
            cells.AddRange(metricNames.Select(n => r.Metrics is not null && r.Metrics.TryGetValue(n, out var v) ? Number(v, "0.0000") : "-"));
            cells.Add(Number(r.Epsilon, "0.###"));
            cells.Add(Markup.Escape(r.ModelVersion ?? "-"));
            cells.Add(Markup.Escape(r.Reason ?? ""));
            table.AddRow(cells.ToArray());
        }

        return table;
    }

    /// <summary>Clients: how many rounds each updated in, dropped, failed, straggled or was rejected, its latest
    /// sample count and metrics, and the reason of its latest problem.</summary>
    public static Table ParticipationTable(IReadOnlyList<FlParticipation> participation)
    {
        ArgumentNullException.ThrowIfNull(participation);
        var metricNames = MetricColumns(participation.Select(p => p.Metrics));
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("Client").NoWrap())
            .AddColumn(new TableColumn("Updated").RightAligned()).AddColumn(new TableColumn("Dropped").RightAligned())
            .AddColumn(new TableColumn("Failed").RightAligned()).AddColumn(new TableColumn("Straggler").RightAligned())
            .AddColumn(new TableColumn("Rejected").RightAligned()).AddColumn(new TableColumn("Samples").RightAligned());
        foreach (var name in metricNames)
        {
            table.AddColumn(new TableColumn(Markup.Escape(name)).RightAligned());
        }

        table.AddColumn("Last problem");
        foreach (var client in participation.GroupBy(p => p.Client, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var byRound = client.OrderBy(p => p.Round).ToList();
            int Count(string status) => byRound.Count(p => string.Equals(p.Status, status, StringComparison.OrdinalIgnoreCase));
            var lastUpdate = byRound.LastOrDefault(p => string.Equals(p.Status, "updated", StringComparison.OrdinalIgnoreCase));
            var lastProblem = byRound.LastOrDefault(p => !string.Equals(p.Status, "updated", StringComparison.OrdinalIgnoreCase));
            var cells = new List<string>
            {
                Markup.Escape(client.Key),
                Invariant($"{Count("updated")}"),
                Invariant($"{Count("dropped")}"),
                Invariant($"{Count("failed")}"),
                Invariant($"{Count("straggler")}"),
                Invariant($"{Count("rejected")}"),
                lastUpdate is null ? "-" : lastUpdate.Samples.ToString("N0", CultureInfo.InvariantCulture),
            };
            cells.AddRange(metricNames.Select(n => lastUpdate?.Metrics is { } m && m.TryGetValue(n, out var v) ? Number(v, "0.0000") : "-"));
            cells.Add(lastProblem is null ? "" : Markup.Escape(Invariant($"round {lastProblem.Round} {lastProblem.Status}{(string.IsNullOrEmpty(lastProblem.Reason) ? "" : ": " + lastProblem.Reason)}")));
            table.AddRow(cells.ToArray());
        }

        return table;
    }

    // Loss first, then the AUCs: the metrics an operator follows round by round (the rest is in --json).
    private static List<string> MetricColumns(IEnumerable<IReadOnlyDictionary<string, double>?> metrics)
    {
        var names = metrics.Where(m => m is not null).SelectMany(m => m!.Keys).Distinct(StringComparer.Ordinal).ToList();
        var loss = names.Where(n => n.Contains("loss", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal);
        var auc = names.Where(n => n.Contains("auc", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal);
        return [.. loss, .. auc];
    }

    private static string State(string? state) => state switch
    {
        "completed" => "[green]completed[/]",
        "running" => "[blue]running[/]",
        "failed" => "[red]failed[/]",
        "stopped" => "[yellow]stopped[/]",
        "retrying" => "[yellow]retrying[/]",
        null => "-",
        _ => Markup.Escape(state),
    };

    private static string Number(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
