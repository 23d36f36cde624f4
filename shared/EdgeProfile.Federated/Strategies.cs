using EdgeProfile.Federated.Aggregation;

namespace EdgeProfile.Federated;

/// <summary>Builds a server strategy (combiner + server optimiser) from its name as jobs spell it.</summary>
public static class Strategies
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["fedavg", "fedprox", "fedadam", "fedyogi", "median", "trimmed-mean", "krum", "multi-krum"];

    /// <summary>
    /// Creates the strategy <paramref name="name"/> (case-insensitive): <c>fedavg</c> and <c>fedprox</c> (the same
    /// server step; FedProx's μ is a client-side loss term), <c>fedadam</c> and <c>fedyogi</c> (FedAvg's mean, then the
    /// adaptive optimiser), and the robust rules <c>median</c>, <c>trimmed-mean</c>, <c>krum</c>, <c>multi-krum</c>
    /// (each followed by server SGD). With <see cref="StrategyOptions.ClipNorm"/> set, the combiner is wrapped in
    /// <see cref="NormClipping"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The name is unknown (the message lists the valid names).</exception>
    public static (IUpdateCombiner Combiner, IServerOptimizer Optimizer) Create(string name, StrategyOptions options)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        IServerOptimizer Sgd() => new ServerSgd(options.ServerLearningRate ?? 1.0);
        (IUpdateCombiner, IServerOptimizer) strategy = name.Trim().ToLowerInvariant() switch
        {
            "fedavg" or "fedprox" => (new FedAvgCombiner(), Sgd()),
            "fedadam" => (new FedAvgCombiner(), new FedAdam(
                options.ServerLearningRate ?? FedAdam.DefaultLearningRate,
                options.Beta1 ?? FedAdam.DefaultBeta1,
                options.Beta2 ?? FedAdam.DefaultBeta2,
                options.Tau ?? FedAdam.DefaultTau)),
            "fedyogi" => (new FedAvgCombiner(), new FedYogi(
                options.ServerLearningRate ?? FedYogi.DefaultLearningRate,
                options.Beta1 ?? FedYogi.DefaultBeta1,
                options.Beta2 ?? FedYogi.DefaultBeta2,
                options.Tau ?? FedYogi.DefaultTau)),
            "median" => (new CoordinateMedianCombiner(), Sgd()),
            "trimmed-mean" => (new TrimmedMeanCombiner(options.TrimFraction), Sgd()),
            "krum" => (new KrumCombiner(options.ByzantineClients, select: 1), Sgd()),
            "multi-krum" => (new KrumCombiner(options.ByzantineClients, options.MultiKrumSelect), Sgd()),
            _ => throw new ArgumentException($"unknown strategy '{name}'; valid: {string.Join(", ", Names)}", nameof(name)),
        };
        var (combiner, optimizer) = strategy;
        if (options.ClipNorm is { } c)
        {
            combiner = new NormClipping(combiner, c);
        }
        return (combiner, optimizer);
    }
}
