namespace EdgeProfile.Synthesis.Selection;

/// <summary>What selection did to the candidates.</summary>
/// <param name="Candidates">Number of candidates.</param>
/// <param name="Dropped">Candidates dropped, with reasons, in the order they were dropped.</param>
/// <param name="Ranked">Every kept feature, most informative first.</param>
/// <param name="Selected">The first <see cref="SelectionOptions.Top"/> of <paramref name="Ranked"/>.</param>
/// <param name="LabelEntropy">Entropy of the discretised label, nats: the most MI any feature can have.</param>
public sealed record SelectionResult(int Candidates, IReadOnlyList<DroppedFeature> Dropped, IReadOnlyList<RankedFeature> Ranked, IReadOnlyList<RankedFeature> Selected, double LabelEntropy);
