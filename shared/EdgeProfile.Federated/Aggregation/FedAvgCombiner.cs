namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// FedAvg (McMahan et al., AISTATS 2017): the sample-weighted mean of the deltas, <c>Σ (n_k / Σ n) Δ_k</c>. Accumulated in
/// float with vectorised spans over cache-sized coordinate blocks in parallel, so it runs near memory bandwidth (each
/// update is read once); the weights are formed in double. FedProx uses the same server step (its proximal term lives in
/// the clients' loss).
/// </summary>
public sealed class FedAvgCombiner : IUpdateCombiner
{
    /// <inheritdoc/>
    public string Name => "fedavg";

    /// <inheritdoc/>
    public CombinedUpdate Combine(IReadOnlyList<ClientUpdate> updates)
    {
        CoordinateBlocks.CommonLength(updates);
        var mean = CoordinateBlocks.SampleWeightedMean(updates);
        return new CombinedUpdate(mean, updates.Select(u => u.ClientId).ToArray(), []);
    }
}
