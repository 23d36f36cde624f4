namespace EdgeProfile.Training.Pipeline;

/// <summary>What <see cref="ModelPipeline.Train"/> produced.</summary>
public sealed record PipelineResult
{
    /// <summary>The stamped model version.</summary>
    public required string Version { get; init; }

    /// <summary>The split used.</summary>
    public required TimeSplit Split { get; init; }

    /// <summary>Earliest and latest cutoff of the rows before the split (train and validation).</summary>
    public required (DateTimeOffset From, DateTimeOffset To) TrainingWindow { get; init; }

    /// <summary>Input features (definition names) in model order.</summary>
    public required IReadOnlyList<string> Features { get; init; }

    /// <summary>The tasks trained.</summary>
    public required IReadOnlyList<PipelineTask> Tasks { get; init; }

    /// <summary>Columns left out (not numeric, superseded).</summary>
    public required IReadOnlyList<string> SkippedColumns { get; init; }

    /// <summary>Rows left out because their labels were not observed.</summary>
    public required int UnobservedRows { get; init; }

    /// <summary>Test metrics of each model: <c>mmoe</c> (the fp32 file), <c>mmoe_int8</c>, <c>logistic_regression</c>.</summary>
    public required IReadOnlyList<ModelEvaluation> Models { get; init; }

    /// <summary>Best epoch of the MMoE and of the baseline.</summary>
    public required (int Mmoe, int Baseline) BestEpochs { get; init; }

    /// <summary>Paths written: fp32 model, int8 model, metrics.</summary>
    public required (string Model, string Int8Model, string Metrics) Files { get; init; }

    /// <summary>The evaluation of <paramref name="model"/>.</summary>
    public ModelEvaluation this[string model] => Models.Single(m => m.Model == model);
}
