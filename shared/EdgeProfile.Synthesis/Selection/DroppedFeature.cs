namespace EdgeProfile.Synthesis.Selection;

/// <summary>A candidate that selection dropped.</summary>
/// <param name="Name">Feature name.</param>
/// <param name="Reason">Why.</param>
/// <param name="Detail">The numbers behind the reason, e.g. <c>72.0 % missing</c> or <c>r = 0.991 with SUM(transactions.amount)</c>.</param>
/// <param name="CorrelatedWith">For <see cref="DropReason.Correlated"/>: the kept feature.</param>
/// <param name="Correlation">For <see cref="DropReason.Correlated"/>: Pearson r.</param>
/// <param name="MutualInformation">For <see cref="DropReason.Correlated"/>: the candidate's own MI with the label, nats.</param>
public sealed record DroppedFeature(string Name, DropReason Reason, string Detail, string? CorrelatedWith = null, double? Correlation = null, double? MutualInformation = null);
