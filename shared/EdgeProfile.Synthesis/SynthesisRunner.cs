using System.Diagnostics;
using System.Globalization;
using EdgeProfile.Core.Features;
using EdgeProfile.Synthesis.Dfs;
using EdgeProfile.Synthesis.Export;
using EdgeProfile.Synthesis.Labels;
using EdgeProfile.Synthesis.Loading;
using EdgeProfile.Synthesis.Reporting;
using EdgeProfile.Synthesis.Selection;

namespace EdgeProfile.Synthesis;

/// <summary>
/// The whole run behind <c>edgeprofile features synthesize</c>: load the CSV, choose the cutoff rows, compute the
/// labels and every candidate feature, select, and export stream definitions. <see cref="SynthesisOutput"/> writes the files.
/// </summary>
public static class SynthesisRunner
{
    /// <summary>Share of the data's time span at which the default cutoff lies.</summary>
    public const double DefaultCutoffShare = 0.75;

    /// <summary>Runs synthesis; <paramref name="progress"/> receives one-line status texts.</summary>
    public static SynthesisResult Run(SynthesisOptions options, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Cutoff is not null && options.CutoffsPath is not null)
        {
            throw new SynthesisException("give either a cutoff or a cutoffs file, not both", isConfiguration: true);
        }

        if (options.Horizon <= TimeSpan.Zero)
        {
            throw new SynthesisException("the horizon must be positive", isConfiguration: true);
        }

        if (options.Depth is < 1 or > 2)
        {
            throw new SynthesisException($"depth must be 1 or 2 (got {options.Depth})", isConfiguration: true);
        }

        var clock = Stopwatch.StartNew();
        var data = TransactionLoader.Load(options.CsvPath, options.Mapping, progress, cancellationToken);
        if (data.RowCount == 0)
        {
            throw new SynthesisException($"{Path.GetFileName(options.CsvPath)} has no row with a customer ({data.RowsRead:N0} rows read)");
        }

        var loadSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();

        var warnings = new List<string>();
        IReadOnlyList<CutoffRow> rows;
        long? cutoff = null;
        var defaulted = false;
        if (options.CutoffsPath is { } cutoffsPath)
        {
            var file = CutoffRows.FromFile(data, cutoffsPath);
            rows = file.Rows;
            if (file.UnknownCustomers > 0 || file.WithoutHistory > 0)
            {
                warnings.Add(Invariant($"cutoffs file: skipped {file.UnknownCustomers:N0} rows of unknown customers and {file.WithoutHistory:N0} of customers without a transaction before their cutoff (of {file.Read:N0})"));
            }
        }
        else
        {
            defaulted = options.Cutoff is null;
            cutoff = options.Cutoff ?? DefaultCutoff(data);
            rows = CutoffRows.AtCutoff(data, cutoff.Value);
        }

        if (rows.Count == 0)
        {
            throw new SynthesisException(Invariant($"no customer has a transaction before the cutoff{(cutoff is { } c ? " " + Timestamps.Format(c) : "s")} (data from {Timestamps.Format(data.MinTime)} to {Timestamps.Format(data.MaxTime)})"), isConfiguration: true);
        }

        var latestCutoff = rows.Max(r => r.Cutoff);
        var horizonMs = (long)options.Horizon.TotalMilliseconds;
        if (latestCutoff + horizonMs > data.MaxTime)
        {
            warnings.Add($"the label horizon ends after the last transaction ({Timestamps.Format(latestCutoff + horizonMs)} > {Timestamps.Format(data.MaxTime)}): labels of rows near the end see less than the full horizon");
        }

        var labels = LabelBuilder.Compute(data, rows, options.Label, options.Horizon);
        var labelName = options.Label.ToString().ToLowerInvariant();
        var labelText = cutoff is { } one
            ? $"{labelName} within {Durations.Format(options.Horizon)} after {Timestamps.Format(one)}"
            : $"{labelName} within {Durations.Format(options.Horizon)} after per-customer cutoffs";

        progress?.Report(Invariant($"Synthesizing features for {rows.Count:N0} customers"));
        var dfs = new DfsOptions
        {
            Depth = options.Depth,
            Windows = options.Windows,
            InterestingBefore = rows.Min(r => r.Cutoff),
        };
        var candidates = DeepFeatureSynthesis.BuildCandidates(data, dfs);
        var matrix = DeepFeatureSynthesis.Compute(data, candidates, rows, cancellationToken);
        var synthesisSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();

        progress?.Report(Invariant($"Selecting among {candidates.Count:N0} candidates"));
        var binary = LabelBuilder.IsBinary(options.Label);
        var selection = FeatureSelector.Select(matrix, labels, binary, new SelectionOptions
        {
            MaxMissing = options.MaxMissing,
            MaxCorrelation = options.MaxCorrelation,
            Top = options.Top,
        });
        var byName = candidates.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var definitions = DefinitionExporter.Export(selection.Selected.Select(s => (byName[s.Name], s.MutualInformation)).ToList(), labelText);
        var selectionSeconds = clock.Elapsed.TotalSeconds;

        var exported = definitions.Features.ToDictionary(e => e.Feature, StringComparer.Ordinal);
        var report = new SynthesisReport
        {
            Input = new InputSummary
            {
                Csv = Path.GetFullPath(options.CsvPath),
                Mapping = options.MappingPath is null ? null : Path.GetFullPath(options.MappingPath),
                RowsRead = data.RowsRead,
                RowsLoaded = data.RowCount,
                RowsSkipped = data.RowsSkipped,
                RowsWithoutJoinedCategory = data.RowsWithoutJoinedCategory,
                Customers = data.CustomerIds.Count,
                Products = data.ProductIds.Count,
                Categories = data.Categories.Count,
                Stores = data.Stores.Count,
                From = Timestamps.Format(data.MinTime),
                To = Timestamps.Format(data.MaxTime),
            },
            Label = new LabelSummary
            {
                Kind = labelName,
                Horizon = Durations.Format(options.Horizon),
                Cutoff = cutoff is { } k ? Timestamps.Format(k) : null,
                CutoffDefaulted = defaulted,
                CutoffsFile = options.CutoffsPath is null ? null : Path.GetFullPath(options.CutoffsPath),
                Rows = rows.Count,
                BaseRate = labels.Count(v => v > 0) / (double)labels.Length,
                Mean = labels.Average(),
                Entropy = selection.LabelEntropy,
                Text = labelText,
            },
            Summary = new SelectionSummary
            {
                Depth = options.Depth,
                Windows = options.Windows.Select(Durations.Format).ToList(),
                Candidates = selection.Candidates,
                DroppedByReason = Enum.GetValues<DropReason>().ToDictionary(
                    r => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(r.ToString()),
                    r => selection.Dropped.Count(d => d.Reason == r)),
                Kept = selection.Ranked.Count,
                Selected = selection.Selected.Count,
                Registered = definitions.Set.Definitions.Count,
                MaxMissing = options.MaxMissing,
                MaxCorrelation = options.MaxCorrelation,
                Top = options.Top,
            },
            Selected = selection.Selected.Select(s =>
            {
                var f = byName[s.Name];
                var e = exported[s.Name];
                return new ReportFeature
                {
                    Rank = s.Rank,
                    Name = s.Name,
                    MutualInformation = s.MutualInformation,
                    Kind = f.Kind.ToString().ToLowerInvariant(),
                    Depth = f.Depth,
                    Window = f.Window is { } w ? Durations.Format(w) : null,
                    MissingShare = s.MissingShare,
                    RegisteredAs = e.Definition?.Name,
                    OfflineReason = e.OfflineReason,
                    Explanation = f.Explanation,
                    Chain = f.Chain,
                };
            }).ToList(),
            Ranking = selection.Ranked,
            Dropped = selection.Dropped,
            Warnings = warnings,
            Timings = new Timings(Math.Round(loadSeconds, 3), Math.Round(synthesisSeconds, 3), Math.Round(selectionSeconds, 3)),
        };

        return new SynthesisResult(data, candidates, matrix, labels, selection, definitions, report);
    }

    /// <summary>The time at <see cref="DefaultCutoffShare"/> of the data's span, to the second.</summary>
    public static long DefaultCutoff(EntitySet data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var at = data.MinTime + (long)((data.MaxTime - data.MinTime) * DefaultCutoffShare);
        return at - (((at % 1000) + 1000) % 1000);
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
