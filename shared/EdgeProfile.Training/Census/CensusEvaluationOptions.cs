namespace EdgeProfile.Training.Census;

/// <summary>Settings of <see cref="CensusEvaluation.Evaluate"/>; defaults are the reported configuration.</summary>
public sealed record CensusEvaluationOptions
{
    /// <summary>One full run per seed (validation split, initialisation, shuffling); default 1, 2, 3.</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3];

    /// <summary>Share of <c>adult.data</c> held out for early stopping (default 0.15); <c>adult.test</c> is only scored.</summary>
    public double ValidationFraction { get; init; } = 0.15;

    /// <summary>Optimisation settings; <see cref="TrainingOptions.Seed"/> is replaced by each of <see cref="Seeds"/>.</summary>
    public TrainingOptions Training { get; init; } = new() { Epochs = 30, BatchSize = 256, LearningRate = 1e-3, Patience = 4 };

    /// <summary>Experts of the MMoE model (default 4).</summary>
    public int Experts { get; init; } = 4;

    /// <summary>Hidden widths of each expert, also the shared bottom and the single-task MLP's body (default [32]).</summary>
    public IReadOnlyList<int> ExpertHidden { get; init; } = [32];

    /// <summary>Hidden widths of each tower (default [16]).</summary>
    public IReadOnlyList<int> TowerHidden { get; init; } = [16];
}
