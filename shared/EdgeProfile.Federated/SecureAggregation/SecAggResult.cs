namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Outcome of a round: the sum of the survivors' inputs (decoded from fixed point), who is in it, and who shared keys
/// but dropped before sending a masked input.
/// </summary>
public sealed record SecAggResult(double[] Sum, string[] Contributors, string[] Dropped);
