namespace EdgeProfile.Training.Federated;

/// <summary>
/// A client's settings for one federated round (<see cref="FederatedLocalTrainer"/>): a fixed number of epochs (no early
/// stopping: the server decides when training ends), the optimiser and its rate, and FedProx's proximal weight.
/// </summary>
public sealed record LocalTrainingOptions
{
    /// <summary>Passes over the local rows (default 1; 0 = load, evaluate and return the global weights unchanged).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Rows per mini-batch (default 64).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Optimiser (default <see cref="LocalOptimizer.Sgd"/>).</summary>
    public LocalOptimizer Optimizer { get; init; } = LocalOptimizer.Sgd;

    /// <summary>Learning rate (default 0.05, suited to SGD; Adam wants about 1e-3..3e-3).</summary>
    public double LearningRate { get; init; } = 0.05;

    /// <summary>SGD momentum (default 0.9; ignored by Adam).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay of the optimiser (default 0).</summary>
    public double WeightDecay { get; init; }

    /// <summary>
    /// FedProx μ (Li et al., MLSys 2020): adds <c>(μ/2)·Σ‖w − w_global‖²</c> to every batch's loss, which keeps clients
    /// with skewed data near the global model. Default 0 = plain FedAvg local training.
    /// </summary>
    public double ProximalMu { get; init; }

    /// <summary>Seed for batch shuffling and torch's generator (default 42).</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Intra-op threads for torch (<c>torch.set_num_threads</c>; default 2).</summary>
    public int Threads { get; init; } = 2;

    /// <summary>
    /// Optional BCE <c>pos_weight</c> per task (one value per output; null entry = 1), as in
    /// <see cref="TrainingOptions.PositiveWeights"/>. Ignored for regression tasks.
    /// </summary>
    public IReadOnlyList<float[]?>? PositiveWeights { get; init; }

    /// <summary>Optional weight of each task's loss in the total (default 1 each).</summary>
    public IReadOnlyList<float>? TaskWeights { get; init; }

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        if (Epochs < 0 || BatchSize < 1 || !(LearningRate > 0) || Momentum is < 0 or >= 1 || WeightDecay < 0 || ProximalMu < 0 || Threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(LocalTrainingOptions), this, "local training options out of range");
        }
    }
}
