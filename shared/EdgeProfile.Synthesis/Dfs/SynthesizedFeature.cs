namespace EdgeProfile.Synthesis.Dfs;

/// <summary>
/// A candidate feature of the <c>customers</c> entity: its Featuretools-style <see cref="Name"/>
/// (<c>MEAN(transactions.products.COUNT(transactions))</c>), depth, the primitive chain that explains it, and what
/// it aggregates. Built by <see cref="DeepFeatureSynthesis.BuildCandidates"/>.
/// </summary>
public sealed record SynthesizedFeature
{
    /// <summary>Featuretools-style name, unique within a run.</summary>
    public required string Name { get; init; }

    /// <summary>Depth: 1 for aggregations of raw variables, 2 for stacked features.</summary>
    public required int Depth { get; init; }

    /// <summary>How the feature is built.</summary>
    public required FeatureKind Kind { get; init; }

    /// <summary>The outermost primitive.</summary>
    public required Primitive Primitive { get; init; }

    /// <summary>The transaction variable aggregated (<c>amount</c>, <c>product</c>, <c>IS_WEEKEND(time)</c>, <c>products.COUNT(transactions)</c>); null for counts and ratios.</summary>
    public string? Variable { get; init; }

    /// <summary>The window before the cutoff; null for all history.</summary>
    public TimeSpan? Window { get; init; }

    /// <summary>For <see cref="FeatureKind.Where"/>: the variable filtered on.</summary>
    public string? WhereVariable { get; init; }

    /// <summary>For <see cref="FeatureKind.Where"/>: the value kept.</summary>
    public string? WhereValue { get; init; }

    /// <summary>For ratios: the numerator.</summary>
    public SynthesizedFeature? Numerator { get; init; }

    /// <summary>For ratios: the denominator.</summary>
    public SynthesizedFeature? Denominator { get; init; }

    /// <summary>The primitives applied, innermost first.</summary>
    public required IReadOnlyList<PrimitiveStep> Chain { get; init; }

    /// <summary>What the value means, in words.</summary>
    public required string Explanation { get; init; }

    /// <summary>How to compute it.</summary>
    internal FeaturePlan Plan { get; init; } = null!;

    /// <inheritdoc />
    public override string ToString() => Name;
}
