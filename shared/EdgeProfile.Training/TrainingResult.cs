using EdgeProfile.Models;

namespace EdgeProfile.Training;

/// <summary>
/// What <see cref="MmoeTrainer.Train"/> returns: the model restored to its best validation epoch, its parameters as
/// <see cref="ModelWeights"/>, and the per-epoch metrics. Owns native memory through <see cref="Model"/>: dispose it.
/// </summary>
public sealed class TrainingResult(MmoeModel model, ModelWeights weights, IReadOnlyList<EpochMetrics> epochs, int bestEpoch) : IDisposable
{
    /// <summary>The trained model (best validation epoch), for TorchSharp inference.</summary>
    public MmoeModel Model { get; } = model;

    /// <summary>The trained parameters, framework-independent.</summary>
    public ModelWeights Weights { get; } = weights;

    /// <summary>Metrics of every epoch run (early stopping may end before the configured number).</summary>
    public IReadOnlyList<EpochMetrics> Epochs { get; } = epochs;

    /// <summary>1-based epoch whose weights were kept (lowest validation loss).</summary>
    public int BestEpoch { get; } = bestEpoch;

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
