using EdgeProfile.Core.Features;

namespace EdgeProfile.Synthesis.Export;

/// <summary>A selected feature and what it became: a stream <see cref="FeatureDefinition"/>, or offline only with the reason.</summary>
/// <param name="Feature">The DFS name.</param>
/// <param name="Definition">The stream definition, or null.</param>
/// <param name="OfflineReason">Why there is no stream definition, or null.</param>
public sealed record ExportedFeature(string Feature, FeatureDefinition? Definition, string? OfflineReason);
