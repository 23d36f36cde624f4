namespace EdgeProfile.Synthesis.Selection;

/// <summary>A kept feature with its mutual information with the label.</summary>
/// <param name="Rank">1 for the most informative.</param>
/// <param name="Name">Feature name.</param>
/// <param name="MutualInformation">MI with the discretised label, nats.</param>
/// <param name="MissingShare">Share of rows where the value is missing.</param>
public sealed record RankedFeature(int Rank, string Name, double MutualInformation, double MissingShare);
