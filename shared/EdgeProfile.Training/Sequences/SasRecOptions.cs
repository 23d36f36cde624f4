namespace EdgeProfile.Training.Sequences;

/// <summary>Settings of <see cref="SasRecTrainer"/> (architecture, optimisation, early stopping).</summary>
public sealed record SasRecOptions
{
    /// <summary>Longest history the model reads (L); a longer history keeps its last L items.</summary>
    public int MaxLength { get; init; } = 50;

    /// <summary>Width d of the item and position embeddings and of every layer.</summary>
    public int Dimensions { get; init; } = 64;

    /// <summary>Self-attention blocks.</summary>
    public int Blocks { get; init; } = 2;

    /// <summary>Attention heads per block; <see cref="Dimensions"/> must be a multiple.</summary>
    public int Heads { get; init; } = 1;

    /// <summary>
    /// Dropout rate (after the embedding sum, on the attention weights and inside the feed-forward layers; training only).
    /// 0.5 suits sparse data such as Amazon Beauty; about 0.2 suits denser data such as MovieLens.
    /// </summary>
    public double Dropout { get; init; } = 0.5;

    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Adam weight decay (L2 on every parameter; 0 = none).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Users per mini-batch (one training sequence per user).</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>
    /// Positions whose full-softmax logits are computed at once in training. The loss and gradients do not depend on it;
    /// small chunks keep the <c>[chunk, items]</c> logits in cache, which is several times faster on large catalogues.
    /// </summary>
    public int LossChunk { get; init; } = 64;

    /// <summary>
    /// Whether each epoch's mini-batches group users of similar history lengths (users shuffled, sorted by length within
    /// groups of 50 batches, the batches shuffled), which skips most padding on sparse data; otherwise plain shuffled batches.
    /// </summary>
    public bool BucketBatches { get; init; } = true;

    /// <summary>Most passes over the users.</summary>
    public int MaxEpochs { get; init; } = 200;

    /// <summary>
    /// Early stopping: training stops after this many validations in a row without a better validation NDCG@10, and the
    /// best validation's weights are kept. 0 disables validation (the last epoch's weights are kept).
    /// </summary>
    public int Patience { get; init; } = 5;

    /// <summary>Epochs between two validations (validation runs after every <c>ValidateEvery</c>-th epoch and after the last).</summary>
    public int ValidateEvery { get; init; } = 1;

    /// <summary>
    /// Users validated (a seeded sample of the users with at least 3 items; all when fewer): full ranking of every item
    /// but the history's, target = the second-to-last item (<c>Holdout.Validation</c>).
    /// </summary>
    public int ValidationUsers { get; init; } = 5000;

    /// <summary>Wall-time budget of training (validation included); null = none. Checked after each epoch.</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Torch intra-op threads.</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Seed of torch's generator (initialisation, dropout), the shuffles and the validation sample.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLength, 1, nameof(MaxLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(Dimensions, 1, nameof(Dimensions));
        ArgumentOutOfRangeException.ThrowIfLessThan(Blocks, 1, nameof(Blocks));
        ArgumentOutOfRangeException.ThrowIfLessThan(Heads, 1, nameof(Heads));
        if (Dimensions % Heads != 0)
        {
            throw new ArgumentException($"{nameof(Dimensions)} ({Dimensions}) must be a multiple of {nameof(Heads)} ({Heads})", nameof(Heads));
        }
        if (!(Dropout >= 0 && Dropout < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "must be in [0, 1)");
        }
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be positive");
        }
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay))
        {
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "must be non-negative");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(LossChunk, 1, nameof(LossChunk));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxEpochs, 1, nameof(MaxEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfLessThan(ValidateEvery, 1, nameof(ValidateEvery));
        ArgumentOutOfRangeException.ThrowIfLessThan(ValidationUsers, 1, nameof(ValidationUsers));
        if (TimeLimit is { } limit && limit <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TimeLimit), limit, "must be positive");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(Threads, 1, nameof(Threads));
    }
}
