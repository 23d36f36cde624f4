namespace EdgeProfile.Synthesis.Selection;

/// <summary>Limits of feature selection.</summary>
public sealed record SelectionOptions
{
    /// <summary>Drop a feature with a larger share of missing values (0-1; default 0.5).</summary>
    public double MaxMissing { get; init; } = 0.5;

    /// <summary>Drop a feature whose |Pearson r| with a better-ranked kept feature exceeds this (default 0.95).</summary>
    public double MaxCorrelation { get; init; } = 0.95;

    /// <summary>How many of the ranked features to select (default 20).</summary>
    public int Top { get; init; } = 20;

    /// <summary>At most this many equal-frequency bins per feature, plus one for missing values (default 10).</summary>
    public int Bins { get; init; } = 10;
}
