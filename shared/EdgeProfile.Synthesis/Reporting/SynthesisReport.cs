using EdgeProfile.Synthesis.Selection;

namespace EdgeProfile.Synthesis.Reporting;

/// <summary>The report of a synthesis run (<c>report.json</c>).</summary>
public sealed record SynthesisReport
{
    /// <summary>What was read.</summary>
    public required InputSummary Input { get; init; }

    /// <summary>The label and its base rate.</summary>
    public required LabelSummary Label { get; init; }

    /// <summary>Counts of candidates, dropped and selected features.</summary>
    public required SelectionSummary Summary { get; init; }

    /// <summary>The selected features, most informative first.</summary>
    public required IReadOnlyList<ReportFeature> Selected { get; init; }

    /// <summary>Every kept feature by mutual information with the label.</summary>
    public required IReadOnlyList<RankedFeature> Ranking { get; init; }

    /// <summary>Dropped candidates with reasons.</summary>
    public required IReadOnlyList<DroppedFeature> Dropped { get; init; }

    /// <summary>Warnings about the data or the label.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Seconds spent per stage.</summary>
    public required Timings Timings { get; init; }
}
