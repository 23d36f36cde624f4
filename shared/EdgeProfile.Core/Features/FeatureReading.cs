namespace EdgeProfile.Core.Features;

/// <summary>One feature of one customer as read at a moment: value, trust and lineage.</summary>
/// <param name="Definition">The definition read.</param>
/// <param name="Value">The value (that of an empty window when <see cref="FeatureStatus.Missing"/>).</param>
/// <param name="Status">Fresh, stale or missing.</param>
/// <param name="Lineage">The window and events behind the value.</param>
public sealed record FeatureReading(FeatureDefinition Definition, FeatureValue Value, FeatureStatus Status, Lineage Lineage);
