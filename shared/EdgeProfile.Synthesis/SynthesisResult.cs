using EdgeProfile.Synthesis.Dfs;
using EdgeProfile.Synthesis.Export;
using EdgeProfile.Synthesis.Loading;
using EdgeProfile.Synthesis.Reporting;
using EdgeProfile.Synthesis.Selection;

namespace EdgeProfile.Synthesis;

/// <summary>Everything a synthesis run produced.</summary>
/// <param name="Data">The loaded entity set.</param>
/// <param name="Candidates">Every candidate feature.</param>
/// <param name="Matrix">Values of every candidate at every cutoff row.</param>
/// <param name="Labels">The label of every row.</param>
/// <param name="Selection">What selection kept and dropped.</param>
/// <param name="Definitions">The selected features as stream definitions, where expressible.</param>
/// <param name="Report">The report written as <c>report.json</c> and <c>report.md</c>.</param>
public sealed record SynthesisResult(
    EntitySet Data,
    IReadOnlyList<SynthesizedFeature> Candidates,
    FeatureMatrix Matrix,
    double[] Labels,
    SelectionResult Selection,
    DefinitionExport Definitions,
    SynthesisReport Report);
