namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// First stage of a server step: turns the round's client updates into one aggregate delta (a weighted mean, a robust
/// statistic, or a selection). The second stage, <see cref="IServerOptimizer"/>, applies that delta to the global model.
/// Implementations are stateless and thread-safe.
/// </summary>
public interface IUpdateCombiner
{
    /// <summary>Name as jobs and reports spell it (<c>fedavg</c>, <c>median</c>, ...).</summary>
    string Name { get; }

    /// <summary>Combines <paramref name="updates"/> (all of the same length, validated by the caller).</summary>
    CombinedUpdate Combine(IReadOnlyList<ClientUpdate> updates);
}
