namespace EdgeProfile.Training.Census;

/// <summary>Settings of <see cref="CensusEvaluation.Evaluate"/>; defaults are the reported configuration.</summary>
public sealed record CensusEvaluationOptions
{
    /// <summary>One full run per seed (validation split, initialisation, shuffling); default 1, 2, 3.</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3];

    /// <summary>Share of <c>adult.data</c> held out for early stopping (default 0.15); <c>adult.test</c> is only scored.</summary>
    public double ValidationFraction { get; init; } = 0.15;

    /// <summary>Optimisation settings; <see cref="TrainingOptions.Seed"/> is replaced by each of <see cref="Seeds"/>.</summary>
    /// <remarks>Default: Adam 1e-3, batches of 256, at most 60 epochs, patience 8 (chosen on validation AUC; see bench/EdgeProfile.Bench.Models/Search.cs).</remarks>
    public TrainingOptions Training { get; init; } = new() { Epochs = 60, BatchSize = 256, LearningRate = 1e-3, Patience = 8 };

    /// <summary>
    /// Quantile bins of the <see cref="PiecewiseLinearEncoding"/> appended for each numeric column, fitted on each seed's
    /// training rows (default 16; 0 = no encoding, the numeric columns only).
    /// </summary>
    public int PiecewiseLinearBins { get; init; } = 16;

    /// <summary>
    /// Whether the bin edges are target-aware (<see cref="PiecewiseLinearEncoding.FitTargetAware"/>, from both tasks'
    /// labels of the training rows) instead of quantiles (default true).
    /// </summary>
    public bool TargetAwareBins { get; init; } = true;

    /// <summary>
    /// Boosted trees per task whose leaf indicators are appended to every row (<see cref="TreeLeafEncoding"/>, fitted on
    /// each seed's training rows and the labels of <see cref="TreeLeafTasks"/>; default 50, chosen on validation AUC; 0 = none).
    /// </summary>
    public int TreeLeafTrees { get; init; } = 50;

    /// <summary>The tasks (indices into <see cref="AdultDataset.Tasks"/>) whose labels the trees are boosted on (default null: every task).</summary>
    public IReadOnlyList<int>? TreeLeafTasks { get; init; }

    /// <summary>Depth of those trees (default 4: 16 leaves each).</summary>
    public int TreeLeafDepth { get; init; } = 4;

    /// <summary>Fewest training rows in a target-aware bin (default 16: capital gain's decisive values are rare).</summary>
    public int BinMinRows { get; init; } = 16;

    /// <summary>
    /// Whether the one-hot and encoding columns are standardised like the numeric ones (default false: they stay 0..1,
    /// <see cref="TrainingOptions.UnscaledFeatures"/>; standardising turns a rare category into a value in the hundreds).
    /// </summary>
    public bool StandardizeIndicators { get; init; }

    /// <summary>Whether each task's BCE gets <c>pos_weight</c> = negatives / positives of the training rows (default false).</summary>
    public bool BalanceClasses { get; init; }

    /// <summary>Experts of the MMoE model (default 4).</summary>
    public int Experts { get; init; } = 4;

    /// <summary>Hidden widths of each expert, also the shared bottom and the single-task MLP's body unless set below (default [32]).</summary>
    public IReadOnlyList<int> ExpertHidden { get; init; } = [32];

    /// <summary>Hidden widths of the shared-bottom model's body (default null = <see cref="ExpertHidden"/>).</summary>
    public IReadOnlyList<int>? SharedBottomHidden { get; init; }

    /// <summary>Hidden widths of the single-task MLP's body (default null = <see cref="ExpertHidden"/>).</summary>
    public IReadOnlyList<int>? SingleTaskHidden { get; init; }

    /// <summary>Hidden widths of each tower (default [16]).</summary>
    public IReadOnlyList<int> TowerHidden { get; init; } = [16];
}
