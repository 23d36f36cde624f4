namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// Coordinate-wise median (Yin et al., ICML 2018): each parameter of the aggregate is the median of the clients' values
/// for it (the mean of the two middle values when the count is even). Unweighted: a client's sample count does not buy
/// it more influence, which is the point of a robust rule. Tolerates fewer than half of the clients being arbitrary. Computed in float
/// with a SIMD sorting network over adjacent coordinates (see <c>CoordinateBlocks.PerCoordinateSorted</c>).
/// No client is rejected as a whole, so <see cref="CombinedUpdate.Rejected"/> is empty.
/// </summary>
public sealed class CoordinateMedianCombiner : IUpdateCombiner
{
    /// <inheritdoc/>
    public string Name => "median";

    /// <inheritdoc/>
    public CombinedUpdate Combine(IReadOnlyList<ClientUpdate> updates)
    {
        CoordinateBlocks.CommonLength(updates);
        var n = updates.Count;
        var half = n / 2;
        var delta = (n & 1) == 1
            ? CoordinateBlocks.PerCoordinateSorted(updates, sorted => sorted[half])
            : CoordinateBlocks.PerCoordinateSorted(updates, sorted => (sorted[half - 1] + sorted[half]) * 0.5f);
        return new CombinedUpdate(delta, updates.Select(u => u.ClientId).ToArray(), []);
    }
}
