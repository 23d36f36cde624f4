using EdgeProfile.Federated.Aggregation;

namespace EdgeProfile.Federated.Tests;

/// <summary>
/// Loads the data once and runs each configuration of <see cref="PoisoningTests"/> at most once, on first use.
/// </summary>
public sealed class PoisoningFixture
{
    /// <summary>
    /// C = 3: above every honest update's norm after the first round (≈ 5 in round 1, ≈ 2 in round 2, falling after;
    /// the test checks it), while an attacker's boosted update (5× an honest one) is cut to C.
    /// </summary>
    public const double ClipNorm = 3.0;

    /// <summary>f = 2 attackers assumed by Krum; trimmed mean drops 20 % (2 of 10) from each end.</summary>
    public const int Byzantine = 2;

    public PoisoningFixture()
    {
        var experiment = new Lazy<PoisoningExperiment>(() => new PoisoningExperiment(
            rounds: 20, localEpochs: 1, batchSize: 16, learningRate: 0.5, decay: 0.2, attackers: 2, seed: 1, targetClass: 1));
        Baseline = new(() => experiment.Value.Run(new FedAvgCombiner(), withAttackers: false));
        FedAvgAttacked = new(() => experiment.Value.Run(new FedAvgCombiner(), withAttackers: true));
        Median = new(() => experiment.Value.Run(new NormClipping(new CoordinateMedianCombiner(), ClipNorm), withAttackers: true));
        TrimmedMean = new(() => experiment.Value.Run(new NormClipping(new TrimmedMeanCombiner(0.2), ClipNorm), withAttackers: true));
        Krum = new(() => experiment.Value.Run(new NormClipping(new KrumCombiner(Byzantine), ClipNorm), withAttackers: true));
        HonestNorms = new(() => experiment.Value.UpdateNorms(rounds: 4));
    }

    internal Lazy<PoisoningOutcome> Baseline { get; }

    internal Lazy<PoisoningOutcome> FedAvgAttacked { get; }

    internal Lazy<PoisoningOutcome> Median { get; }

    internal Lazy<PoisoningOutcome> TrimmedMean { get; }

    internal Lazy<PoisoningOutcome> Krum { get; }

    internal Lazy<double[]> HonestNorms { get; }
}
