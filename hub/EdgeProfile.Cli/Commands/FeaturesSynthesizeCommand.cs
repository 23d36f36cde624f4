using System.CommandLine;
using System.Globalization;
using EdgeProfile.Cli.Output;
using EdgeProfile.Core.Features;
using EdgeProfile.Synthesis;
using EdgeProfile.Synthesis.Labels;
using EdgeProfile.Synthesis.Mapping;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// <c>features synthesize</c>: deep feature synthesis over a CSV of transactions, selection by mutual information
/// with a label, and the selected features that an edge can compute as <c>definitions.json</c>.
/// </summary>
public static class FeaturesSynthesizeCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var csv = new Option<FileInfo>("--csv") { Description = "Transactions CSV (.csv or .csv.gz) with a header", HelpName = "FILE", Required = true };
        var mapping = new Option<FileInfo>("--mapping") { Description = "JSON column mapping (see deploy/synthesis/*.mapping.json)", HelpName = "FILE", Required = true };
        var cutoff = new Option<string?>("--cutoff") { Description = "One cutoff for all customers, e.g. 2011-09-01 [default: the time at 75 % of the data's span]", HelpName = "TIME" };
        var cutoffs = new Option<FileInfo?>("--cutoffs") { Description = "CSV of customer,cutoff for per-customer cutoffs (instead of --cutoff)", HelpName = "FILE" };
        var label = new Option<string>("--label") { Description = "Label over the horizon after the cutoff: repurchase, churn or spend", HelpName = "KIND", DefaultValueFactory = _ => "repurchase" };
        label.AcceptOnlyFromAmong("repurchase", "churn", "spend");
        var horizon = new Option<string>("--horizon") { Description = "How far after the cutoff the label looks", HelpName = "DURATION", DefaultValueFactory = _ => "90d" };
        var depth = new Option<int>("--depth") { Description = "DFS depth: 1 (aggregations) or 2 (plus transforms, ratios, product/store/category stacking)", HelpName = "N", DefaultValueFactory = _ => 2 };
        var top = new Option<int>("--top") { Description = "How many features to select", HelpName = "N", DefaultValueFactory = _ => 20 };
        var maxMissing = new Option<double>("--max-missing") { Description = "Drop features with a larger share of missing values", HelpName = "SHARE", DefaultValueFactory = _ => 0.5 };
        var maxCorrelation = new Option<double>("--max-correlation") { Description = "Drop features with a larger |Pearson r| to a better-ranked kept one", HelpName = "R", DefaultValueFactory = _ => 0.95 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory for report.json, report.md, feature_matrix.csv and definitions.json", HelpName = "DIR", DefaultValueFactory = _ => new DirectoryInfo("synthesis-out") };
        var json = new Option<bool>("--json") { Description = "Print report.json instead of the table" };

        var command = new Command("synthesize", "Synthesize customer features from a transactions CSV (deep feature synthesis), rank them by mutual information with a label, export stream definitions")
        {
            csv, mapping, cutoff, cutoffs, label, horizon, depth, top, maxMissing, maxCorrelation, output, json,
        };
        command.SetGuardedAction(async (r, ct) =>
        {
            var options = BuildOptions(r, csv, mapping, cutoff, cutoffs, label, horizon, depth, top, maxMissing, maxCorrelation);
            var outDir = r.GetValue(output)!.FullName;
            var asJson = r.GetValue(json);

            SynthesisResult result;
            try
            {
                result = asJson || !ProgressDisplay.Enabled
                    ? await Task.Run(() => SynthesisRunner.Run(options, null, ct), ct).ConfigureAwait(false)
                    : await AnsiConsole.Status().StartAsync("Loading...", ctx => Task.Run(() => SynthesisRunner.Run(options, new StatusProgress(ctx), ct), ct)).ConfigureAwait(false);
            }
            catch (SynthesisException ex)
            {
                throw new CliException(ex.Message, ex.IsConfiguration ? ExitCodes.Usage : ExitCodes.Failed);
            }

            var files = SynthesisOutput.Write(result, outDir);
            if (asJson)
            {
                await Console.Out.WriteLineAsync(SynthesisOutput.ToJson(result.Report)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            Print(result, files);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static SynthesisOptions BuildOptions(
        ParseResult r,
        Option<FileInfo> csv,
        Option<FileInfo> mapping,
        Option<string?> cutoff,
        Option<FileInfo?> cutoffs,
        Option<string> label,
        Option<string> horizon,
        Option<int> depth,
        Option<int> top,
        Option<double> maxMissing,
        Option<double> maxCorrelation)
    {
        var csvFile = r.GetValue(csv)!;
        if (!csvFile.Exists)
        {
            throw new CliException($"--csv {csvFile.FullName} does not exist", ExitCodes.Usage);
        }

        var mappingFile = r.GetValue(mapping)!;
        if (!mappingFile.Exists)
        {
            throw new CliException($"--mapping {mappingFile.FullName} does not exist", ExitCodes.Usage);
        }

        var cutoffText = r.GetValue(cutoff);
        var cutoffsFile = r.GetValue(cutoffs);
        if (cutoffText is not null && cutoffsFile is not null)
        {
            throw new CliException("give --cutoff or --cutoffs, not both", ExitCodes.Usage);
        }

        if (cutoffsFile is { Exists: false })
        {
            throw new CliException($"--cutoffs {cutoffsFile.FullName} does not exist", ExitCodes.Usage);
        }

        if (!Durations.TryParse(r.GetValue(horizon), out var h) || h <= TimeSpan.Zero)
        {
            throw new CliException($"--horizon '{r.GetValue(horizon)}' is not a positive duration (e.g. 90d, 12w)", ExitCodes.Usage);
        }

        var d = r.GetValue(depth);
        if (d is < 1 or > 2)
        {
            throw new CliException($"--depth must be 1 or 2 (got {d})", ExitCodes.Usage);
        }

        var n = r.GetValue(top);
        if (n < 1)
        {
            throw new CliException($"--top must be 1 or more (got {n})", ExitCodes.Usage);
        }

        var missing = r.GetValue(maxMissing);
        if (missing is < 0 or > 1 || double.IsNaN(missing))
        {
            throw new CliException(string.Create(CultureInfo.InvariantCulture, $"--max-missing must be between 0 and 1 (got {missing})"), ExitCodes.Usage);
        }

        var correlation = r.GetValue(maxCorrelation);
        if (correlation is <= 0 or > 1 || double.IsNaN(correlation))
        {
            throw new CliException(string.Create(CultureInfo.InvariantCulture, $"--max-correlation must be above 0 and at most 1 (got {correlation})"), ExitCodes.Usage);
        }

        try
        {
            return new SynthesisOptions
            {
                CsvPath = csvFile.FullName,
                Mapping = ColumnMapping.Load(mappingFile.FullName),
                MappingPath = mappingFile.FullName,
                Cutoff = cutoffText is null ? null : Timestamps.Parse(cutoffText, "--cutoff"),
                CutoffsPath = cutoffsFile?.FullName,
                Label = Enum.Parse<LabelKind>(r.GetValue(label)!, ignoreCase: true),
                Horizon = h,
                Depth = d,
                Top = n,
                MaxMissing = missing,
                MaxCorrelation = correlation,
            };
        }
        catch (SynthesisException ex)
        {
            throw new CliException(ex.Message, ExitCodes.Usage);
        }
    }

    private static void Print(SynthesisResult result, IReadOnlyList<string> files)
    {
        var report = result.Report;
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("Rank").RightAligned())
            .AddColumn("Feature")
            .AddColumn(new TableColumn("MI (nats)").RightAligned())
            .AddColumn("Kind")
            .AddColumn("Registered as");
        foreach (var f in report.Selected)
        {
            table.AddRow(
                f.Rank.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(f.Name),
                f.MutualInformation.ToString("F4", CultureInfo.InvariantCulture),
                f.Kind,
                f.RegisteredAs is { } name ? $"[green]{Markup.Escape(name)}[/]" : "[grey]offline only[/]");
        }

        AnsiConsole.Write(table);
        var i = report.Input;
        var l = report.Label;
        var s = report.Summary;
        var dropped = string.Join(", ", s.DroppedByReason.Select(kv => $"{kv.Key} {kv.Value}"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Loaded {i.RowsLoaded:N0} rows ({i.RowsSkipped:N0} without customer skipped), {i.Customers:N0} customers, {i.From} to {i.To}, in {report.Timings.Load:F1} s"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Label {l.Text}{(l.CutoffDefaulted ? " (default cutoff)" : "")}: {l.Rows:N0} rows, base rate {l.BaseRate:P1}"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{s.Candidates:N0} candidates, dropped {s.Candidates - s.Kept:N0} ({dropped}), selected {s.Selected}, registered {s.Registered} as stream definitions"));
        foreach (var w in report.Warnings)
        {
            AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(w)}");
        }

        var dir = Path.GetDirectoryName(files[0])!;
        Console.Out.WriteLine($"Wrote {string.Join(", ", files.Select(Path.GetFileName))} to {dir}");
        Console.Out.WriteLine($"Register the stream definitions with: edgeprofile features register {Path.Combine(dir, "definitions.json")}");
    }

    private sealed class StatusProgress(StatusContext context) : IProgress<string>
    {
        public void Report(string value) => context.Status(Markup.Escape(value));
    }
}
