namespace EdgeProfile.Federated;

/// <summary>
/// One client's contribution to a round: the change of the flat parameter vector it trained
/// (<c>local − global</c>, <see cref="Delta"/>) and the number of training rows behind it (<see cref="Samples"/>, the
/// FedAvg weight).
/// </summary>
public sealed record ClientUpdate(string ClientId, float[] Delta, long Samples)
{
    /// <summary>Throws when the update cannot be aggregated with a vector of <paramref name="length"/> parameters.</summary>
    public void Validate(int length)
    {
        if (Delta.Length != length)
        {
            throw new ArgumentException($"client {ClientId}: {Delta.Length} parameters, the model has {length}");
        }
        if (Samples <= 0)
        {
            throw new ArgumentException($"client {ClientId}: sample count must be positive, got {Samples}");
        }
        foreach (var v in Delta)
        {
            if (!float.IsFinite(v))
            {
                throw new ArgumentException($"client {ClientId}: the update holds a non-finite value");
            }
        }
    }
}
