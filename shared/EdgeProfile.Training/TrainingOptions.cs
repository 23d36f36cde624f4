using EdgeProfile.Training.Distillation;

namespace EdgeProfile.Training;

/// <summary>Optimisation settings for <see cref="MmoeTrainer"/>; the defaults suit tabular data of a few thousand rows.</summary>
public sealed record TrainingOptions
{
    /// <summary>Maximum number of passes over the training rows (default 50).</summary>
    public int Epochs { get; init; } = 50;

    /// <summary>Rows per mini-batch (default 256).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Adam learning rate (default 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>
    /// Factor the learning rate is multiplied by after every epoch (exponential decay; default 1 = constant rate).
    /// </summary>
    public double LearningRateDecay { get; init; } = 1;

    /// <summary>Dropout after every hidden layer of experts and towers while training (default 0: none).</summary>
    public double Dropout { get; init; }

    /// <summary>Adam L2 weight decay (default 0).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Seed for weight initialisation (<c>torch.manual_seed</c>) and for batch shuffling (default 42).</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Epochs without a validation-loss improvement before stopping; the best epoch's weights are kept (default 5).</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Minimum decrease of the validation loss that counts as an improvement (default 1e-5).</summary>
    public double MinDelta { get; init; } = 1e-5;

    /// <summary>Intra-op threads for torch (<c>torch.set_num_threads</c>; default 2).</summary>
    public int Threads { get; init; } = 2;

    /// <summary>
    /// Optional BCE <c>pos_weight</c> per task (one value per output; null entry = 1) for binary and multi-label tasks, e.g.
    /// from <see cref="ClassWeights.PositiveWeights"/>. Ignored for regression tasks.
    /// </summary>
    public IReadOnlyList<float[]?>? PositiveWeights { get; init; }

    /// <summary>Optional weight of each task's loss in the total (default 1 each).</summary>
    public IReadOnlyList<float>? TaskWeights { get; init; }

    /// <summary>
    /// Optional indices of features left on their own scale (mean 0, standard deviation 1 in the fitted
    /// <see cref="Standardizer"/>) instead of standardised, e.g. one-hot columns, whose rare categories standardisation
    /// would turn into values in the hundreds. Default null: every feature is standardised.
    /// </summary>
    public IReadOnlyList<int>? UnscaledFeatures { get; init; }

    /// <summary>
    /// Optional knowledge distillation (default null: none): for every binary task whose training data carries
    /// <see cref="TrainingData.SoftTargets"/>, the task's loss becomes <see cref="DistillationLoss"/>'s mix of the label
    /// BCE and the temperature-softened BCE towards the teacher. With <see cref="DistillationOptions.Alpha"/> 0 training is
    /// exactly the training without it.
    /// </summary>
    public DistillationOptions? Distillation { get; init; }

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        Distillation?.Validate();
        if (Epochs < 1 || BatchSize < 1 || LearningRate <= 0 || LearningRateDecay is <= 0 or > 1 || Dropout is < 0 or >= 1 || WeightDecay < 0 || Patience < 1 || MinDelta < 0 || Threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(TrainingOptions), this, "training options out of range");
        }
    }
}
