namespace EdgeProfile.Training.Pipeline;

/// <summary>What <see cref="ModelPipeline.Train"/> trains and where it writes.</summary>
public sealed record PipelineOptions
{
    /// <summary>Directory holding <c>training_set.csv</c> and <c>manifest.json</c>.</summary>
    public required string TrainingSetDirectory { get; init; }

    /// <summary>Directory for <c>model.onnx</c>, <c>model.int8.onnx</c> and <c>metrics.json</c> (created).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Test rows are those with cutoff ≥ this; default the cutoff at the 80th percentile.</summary>
    public DateTimeOffset? Split { get; init; }

    /// <summary>MMoE experts (default 4).</summary>
    public int Experts { get; init; } = 4;

    /// <summary>Hidden widths of each expert (default [32]).</summary>
    public IReadOnlyList<int> ExpertHidden { get; init; } = [32];

    /// <summary>Hidden widths of each tower (default [16]).</summary>
    public IReadOnlyList<int> TowerHidden { get; init; } = [16];

    /// <summary>Maximum epochs (default 30; early stopping may end sooner).</summary>
    public int Epochs { get; init; } = 30;

    /// <summary>Seed of weights and shuffling (default 1).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Adam learning rate (default 3e-3).</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Rows per mini-batch (default 256).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Model version stamped as <c>model_version</c>; default <c>yyyyMMdd-HHmmss</c> of the training time (UTC).</summary>
    public string? Version { get; init; }

    /// <summary>
    /// Feed heavy-tailed non-negative features (counts, amounts: skewness above 2 on the training rows) through
    /// <c>log1p</c> before standardisation; the exported model applies the same transform. Default true.
    /// </summary>
    public bool Log1pHeavyTails { get; init; } = true;
}
