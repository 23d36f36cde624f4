using EdgeProfile.Synthesis.Labels;
using EdgeProfile.Synthesis.Mapping;

namespace EdgeProfile.Synthesis;

/// <summary>One synthesis run: the data, the label and the selection limits.</summary>
public sealed record SynthesisOptions
{
    /// <summary>The transactions CSV (<c>.gz</c> is decompressed).</summary>
    public required string CsvPath { get; init; }

    /// <summary>The column mapping (see <see cref="ColumnMapping.Load"/>).</summary>
    public required ColumnMapping Mapping { get; init; }

    /// <summary>Where the mapping came from, for the report; null if built in code.</summary>
    public string? MappingPath { get; init; }

    /// <summary>One cutoff for every customer, Unix ms; null (and no <see cref="CutoffsPath"/>) for the time at 75 % of the data's span.</summary>
    public long? Cutoff { get; init; }

    /// <summary>A CSV of <c>customer,cutoff</c> for per-customer cutoffs; exclusive with <see cref="Cutoff"/>.</summary>
    public string? CutoffsPath { get; init; }

    /// <summary>The label.</summary>
    public LabelKind Label { get; init; } = LabelKind.Repurchase;

    /// <summary>How far after the cutoff the label looks.</summary>
    public TimeSpan Horizon { get; init; } = TimeSpan.FromDays(90);

    /// <summary>Maximum DFS depth, 1 or 2.</summary>
    public int Depth { get; init; } = 2;

    /// <summary>Windows before the cutoff besides all history.</summary>
    public IReadOnlyList<TimeSpan> Windows { get; init; } = [TimeSpan.FromDays(30), TimeSpan.FromDays(90)];

    /// <summary>How many features to select.</summary>
    public int Top { get; init; } = 20;

    /// <summary>Largest share of missing values a feature may have.</summary>
    public double MaxMissing { get; init; } = 0.5;

    /// <summary>Largest |Pearson r| with a better-ranked kept feature.</summary>
    public double MaxCorrelation { get; init; } = 0.95;
}
