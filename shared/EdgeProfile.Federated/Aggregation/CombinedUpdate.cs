namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// The aggregate delta of a round, with the clients whose updates entered it (<see cref="Selected"/>) and those a robust
/// rule left out (<see cref="Rejected"/>, e.g. by Krum), so reports can show who was filtered.
/// </summary>
public sealed record CombinedUpdate(float[] Delta, IReadOnlyList<string> Selected, IReadOnlyList<string> Rejected);
