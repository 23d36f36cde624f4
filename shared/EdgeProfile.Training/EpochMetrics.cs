namespace EdgeProfile.Training;

/// <summary>
/// One epoch of training: mean training loss over the epoch's batches (weighted sum over tasks), validation loss (same
/// weighting, over all validation rows) and each task's validation loss.
/// </summary>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double ValidationLoss, IReadOnlyList<double> ValidationTaskLosses);
