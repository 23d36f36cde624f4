using EdgeProfile.Core.Features;

namespace EdgeProfile.Synthesis.Export;

/// <summary>The selected features as stream definitions.</summary>
/// <param name="Set">The definitions that could be expressed, as a <see cref="FeatureSet"/> of revision 0, validated.</param>
/// <param name="Features">Every feature given, in order, with its definition or the reason it stays offline.</param>
public sealed record DefinitionExport(FeatureSet Set, IReadOnlyList<ExportedFeature> Features);
