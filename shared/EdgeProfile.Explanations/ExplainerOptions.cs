namespace EdgeProfile.Explanations;

/// <summary>How decisions are explained.</summary>
public sealed record ExplainerOptions
{
    /// <summary>Background rows used (of those the model ships; default 16).</summary>
    public int BackgroundRows { get; init; } = 16;

    /// <summary>Up to this many groups the attributions are exact Shapley values; above it KernelSHAP (default 16).</summary>
    public int MaxExactGroups { get; init; } = 16;

    /// <summary>Reasons kept per output (default 3).</summary>
    public int TopReasons { get; init; } = 3;

    /// <summary>Feature name → group, overriding the groups derived from the definitions (null: none).</summary>
    public IReadOnlyDictionary<string, string>? GroupOverrides { get; init; }
}
