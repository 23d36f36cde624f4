using EdgeProfile.Models.Sequences;

namespace EdgeProfile.Training.Sequences;

/// <summary>One epoch of <see cref="SasRecTrainer.Train"/>.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Loss">Mean cross-entropy over the epoch's non-padded training positions (full softmax over the items).</param>
/// <param name="ValidationNdcg10">NDCG@10 of the validation sample (full ranking), or null when not validated this epoch.</param>
/// <param name="ValidationHitRate10">HR@10 of the validation sample (full ranking), or null when not validated this epoch.</param>
/// <param name="Seconds">Wall time since training started, at the end of this epoch (validation included).</param>
public sealed record SasRecEpoch(int Epoch, double Loss, double? ValidationNdcg10, double? ValidationHitRate10, double Seconds);

/// <summary>What <see cref="SasRecTrainer.Train"/> returns: the trained module (best validation epoch's weights), its
/// exported weights, and the training history.</summary>
public sealed class SasRecTrainingResult : IDisposable
{
    internal SasRecTrainingResult(SasRecModule module, SasRecOptions options, IReadOnlyList<SasRecEpoch> epochs, int bestEpoch, TimeSpan trainingTime, int trainingSequences, long trainingPositions)
    {
        Module = module;
        Options = options;
        Epochs = epochs;
        BestEpoch = bestEpoch;
        TrainingTime = trainingTime;
        TrainingSequences = trainingSequences;
        TrainingPositions = trainingPositions;
        Weights = module.ExportWeights();
    }

    /// <summary>The trained module, in evaluation mode, holding the kept epoch's weights.</summary>
    public SasRecModule Module { get; }

    /// <summary>The kept weights in the specification's layout (for the reference forward and the ONNX export).</summary>
    public SasRecWeights Weights { get; }

    /// <summary>The options trained with.</summary>
    public SasRecOptions Options { get; }

    /// <summary>Every epoch run, in order.</summary>
    public IReadOnlyList<SasRecEpoch> Epochs { get; }

    /// <summary>Epochs run (early stopping or the time limit may stop before <see cref="SasRecOptions.MaxEpochs"/>).</summary>
    public int EpochsRun => Epochs.Count;

    /// <summary>The epoch whose weights were kept: the best validation NDCG@10, or the last epoch without validation.</summary>
    public int BestEpoch { get; }

    /// <summary>Best validation NDCG@10 (full ranking), or null without validation.</summary>
    public double? BestValidationNdcg10 => Epochs.FirstOrDefault(e => e.Epoch == BestEpoch)?.ValidationNdcg10;

    /// <summary>Wall time of training, validation included.</summary>
    public TimeSpan TrainingTime { get; }

    /// <summary>Users with a training sequence (a training prefix of at least two items).</summary>
    public int TrainingSequences { get; }

    /// <summary>Non-padded training positions (next-item targets) per epoch.</summary>
    public long TrainingPositions { get; }

    /// <summary>A scorer over <see cref="Module"/> (it shares the module; do not train it further while scoring).</summary>
    public SasRecTorchScorer Scorer(int batchSize = 256) => new(Module, batchSize);

    /// <inheritdoc/>
    public void Dispose() => Module.Dispose();
}
