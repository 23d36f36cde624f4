using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeProfile.Core.Features;
using EdgeProfile.Synthesis.Reporting;
using EdgeProfile.Synthesis.Selection;
using nietras.SeparatedValues;

namespace EdgeProfile.Synthesis;

/// <summary>Writes a run's files: <c>report.json</c>, <c>report.md</c>, <c>feature_matrix.csv</c> and <c>definitions.json</c>.</summary>
public static class SynthesisOutput
{
    /// <summary>File names written.</summary>
    public static IReadOnlyList<string> FileNames { get; } = ["report.json", "report.md", "feature_matrix.csv", "definitions.json"];

    /// <summary>Writes the files into <paramref name="directory"/> (created if needed) and returns their full paths.</summary>
    public static IReadOnlyList<string> Write(SynthesisResult result, string directory)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(directory);
        Directory.CreateDirectory(directory);
        var paths = FileNames.Select(n => Path.GetFullPath(Path.Combine(directory, n))).ToList();
        File.WriteAllText(paths[0], ToJson(result.Report) + "\n");
        File.WriteAllText(paths[1], ToMarkdown(result.Report));
        WriteMatrix(result, paths[2]);
        File.WriteAllText(paths[3], result.Definitions.Set.ToJson() + "\n");
        return paths;
    }

    /// <summary>The report as indented JSON.</summary>
    public static string ToJson(SynthesisReport report) => JsonSerializer.Serialize(report, ReportJson.Default.SynthesisReport);

    /// <summary>The report as Markdown.</summary>
    public static string ToMarkdown(SynthesisReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        void Line(FormattableString s) => md.Append(s.ToString(CultureInfo.InvariantCulture)).Append('\n');
        var i = report.Input;
        var l = report.Label;
        var s = report.Summary;
        Line($"# Feature synthesis report");
        Line($"");
        Line($"- Data: `{i.Csv}`{(i.Mapping is null ? "" : $" with mapping `{i.Mapping}`")}");
        Line($"- Rows: {i.RowsRead:N0} read, {i.RowsLoaded:N0} loaded, {i.RowsSkipped:N0} skipped (no customer); {i.Customers:N0} customers, {i.Products:N0} products, {i.Categories:N0} categories, {i.Stores:N0} stores; {i.From} to {i.To}");
        Line($"- Label: **{l.Text}**{(l.CutoffDefaulted ? " (default cutoff: 75 % of the data's span)" : "")}; {l.Rows:N0} rows; base rate {l.BaseRate:P1}; mean {l.Mean:G6}; entropy {l.Entropy:F4} nats");
        Line($"- Candidates: {s.Candidates:N0} (depth {s.Depth}, windows all, {string.Join(", ", s.Windows)}); dropped {string.Join(", ", s.DroppedByReason.Select(kv => $"{kv.Key} {kv.Value}"))}; kept {s.Kept:N0}; selected {s.Selected} (top {s.Top}); registered {s.Registered}");
        Line($"- Limits: missing ≤ {s.MaxMissing:P0}, |r| ≤ {s.MaxCorrelation}");
        Line($"- Time: load {report.Timings.Load:F2} s, synthesis {report.Timings.Synthesis:F2} s, selection {report.Timings.Selection:F2} s");
        foreach (var w in report.Warnings)
        {
            Line($"- Warning: {w}");
        }

        Line($"");
        Line($"## Selected features");
        Line($"");
        Line($"| rank | feature | MI (nats) | kind | registered as | meaning |");
        Line($"|---:|---|---:|---|---|---|");
        foreach (var f in report.Selected)
        {
            Line($"| {f.Rank} | `{Cell(f.Name)}` | {f.MutualInformation:F4} | {f.Kind} | {(f.RegisteredAs is { } r ? $"`{r}`" : "offline only: " + Cell(f.OfflineReason ?? ""))} | {Cell(f.Explanation)} |");
        }

        Line($"");
        Line($"## Ranking by mutual information (all kept features)");
        Line($"");
        Line($"| rank | feature | MI (nats) | missing |");
        Line($"|---:|---|---:|---:|");
        foreach (var r in report.Ranking)
        {
            Line($"| {r.Rank} | `{Cell(r.Name)}` | {r.MutualInformation:F4} | {r.MissingShare:P1} |");
        }

        Line($"");
        Line($"## Dropped");
        Line($"");
        Line($"| feature | reason | detail |");
        Line($"|---|---|---|");
        foreach (var d in report.Dropped)
        {
            Line($"| `{Cell(d.Name)}` | {JsonNamingPolicy.SnakeCaseLower.ConvertName(d.Reason.ToString())} | {Cell(d.Detail)} |");
        }

        return md.ToString();
    }

    private static void WriteMatrix(SynthesisResult result, string path)
    {
        var selected = result.Selection.Selected.Select(s => result.Matrix.Column(s.Name)).ToArray();
        var names = result.Selection.Selected.Select(s => s.Name).ToArray();
        using var writer = Sep.New(',').Writer(o => o with { Escape = true }).ToFile(path);
        var rows = result.Matrix.Rows;
        for (var r = 0; r < rows.Count; r++)
        {
            using var row = writer.NewRow();
            row["customer"].Set(result.Data.CustomerIds[rows[r].Customer]);
            row["cutoff"].Set(Timestamps.Format(rows[r].Cutoff));
            row["label"].Set(Number(result.Labels[r]));
            for (var f = 0; f < names.Length; f++)
            {
                row[names[f]].Set(Number(selected[f][r]));
            }
        }
    }

    private static string Number(double v) => double.IsNaN(v) ? "" : v.ToString("G15", CultureInfo.InvariantCulture);

    private static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);
}
