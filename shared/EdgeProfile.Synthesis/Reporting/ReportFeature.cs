namespace EdgeProfile.Synthesis.Reporting;

/// <summary>A selected feature, explained.</summary>
public sealed record ReportFeature
{
    /// <summary>1 for the most informative.</summary>
    public required int Rank { get; init; }

    /// <summary>DFS name.</summary>
    public required string Name { get; init; }

    /// <summary>MI with the label, nats.</summary>
    public required double MutualInformation { get; init; }

    /// <summary>aggregation, where, transform, ratio or stacked.</summary>
    public required string Kind { get; init; }

    /// <summary>DFS depth.</summary>
    public required int Depth { get; init; }

    /// <summary>The window, e.g. <c>30d</c>; null for all history.</summary>
    public string? Window { get; init; }

    /// <summary>Share of rows missing the value.</summary>
    public required double MissingShare { get; init; }

    /// <summary>The stream definition's name, when registered.</summary>
    public string? RegisteredAs { get; init; }

    /// <summary>Why it stays offline, when not registered.</summary>
    public string? OfflineReason { get; init; }

    /// <summary>In words.</summary>
    public required string Explanation { get; init; }

    /// <summary>The primitive chain, innermost first.</summary>
    public required IReadOnlyList<Dfs.PrimitiveStep> Chain { get; init; }
}
