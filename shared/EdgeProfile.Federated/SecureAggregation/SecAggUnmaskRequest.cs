namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Round 3 message, server → every client that sent a masked input: who did (<see cref="Survivors"/>, <c>U3</c>) and
/// who shared keys but sent no masked input (<see cref="Dropped"/>, <c>U2 \ U3</c>). Together they must be exactly
/// the clients whose shares the recipient received.
/// </summary>
public sealed record SecAggUnmaskRequest(string[] Survivors, string[] Dropped);
