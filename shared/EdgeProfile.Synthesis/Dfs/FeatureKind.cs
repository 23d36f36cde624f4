namespace EdgeProfile.Synthesis.Dfs;

/// <summary>How a synthesized feature is built, for reports.</summary>
public enum FeatureKind
{
    /// <summary>An aggregation of a transaction variable (depth 1).</summary>
    Aggregation,

    /// <summary>An aggregation of the rows where a categorical variable has an interesting value (depth 1).</summary>
    Where,

    /// <summary>An aggregation of a transform of the transaction time (depth 2).</summary>
    Transform,

    /// <summary>A ratio of two customer aggregates (depth 2).</summary>
    Ratio,

    /// <summary>An aggregation of a parent entity's aggregate (product, store or category level), depth 2.</summary>
    Stacked,
}
