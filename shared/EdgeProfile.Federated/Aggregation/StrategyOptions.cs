namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// Settings for <see cref="Strategies.Create"/>. A null hyperparameter takes the chosen strategy's documented default
/// (<see cref="FedAdam"/>, <see cref="FedYogi"/>: Flower's; SGD: η = 1).
/// </summary>
public sealed record StrategyOptions
{
    /// <summary>Server learning rate η (null: 1 for SGD strategies, 0.1 for fedadam, 0.01 for fedyogi).</summary>
    public double? ServerLearningRate { get; init; }

    /// <summary>β1 of fedadam / fedyogi (null: 0.9).</summary>
    public double? Beta1 { get; init; }

    /// <summary>β2 of fedadam / fedyogi (null: 0.99).</summary>
    public double? Beta2 { get; init; }

    /// <summary>τ of fedadam / fedyogi (null: 1e-9 for fedadam, 1e-3 for fedyogi).</summary>
    public double? Tau { get; init; }

    /// <summary>β of trimmed-mean: the fraction trimmed from each end of every coordinate (default 0.1).</summary>
    public double TrimFraction { get; init; } = 0.1;

    /// <summary>f of krum / multi-krum: the number of Byzantine clients assumed (default 0, as Flower's Krum).</summary>
    public int ByzantineClients { get; init; }

    /// <summary>m of multi-krum: how many best-scored updates are averaged (null: n − f).</summary>
    public int? MultiKrumSelect { get; init; }

    /// <summary>L2 clip norm C applied to every update before the combiner (null: no clipping).</summary>
    public double? ClipNorm { get; init; }
}
