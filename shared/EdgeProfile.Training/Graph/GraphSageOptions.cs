namespace EdgeProfile.Training.Graph;

/// <summary>Which nodes have their own learnable input embedding in <see cref="GraphSageTrainer"/>.</summary>
public enum GraphSageInputs
{
    /// <summary>Every node (customer, product, category) has its own row: transductive, can memorise a customer.</summary>
    NodeIds = 0,

    /// <summary>
    /// Only categories have rows; a product's input is its category's row, and all customers share one row, so a
    /// customer's representation comes from its purchases alone (inductive: a new customer is embedded from its basket).
    /// </summary>
    Categories = 1,
}

/// <summary>Settings of <see cref="GraphSageTrainer"/>.</summary>
public sealed record GraphSageOptions
{
    /// <summary>Width of the input embeddings and of every layer.</summary>
    public int Dimension { get; init; } = 64;

    /// <summary>
    /// Which nodes have their own learnable input embedding (the node-type embedding is always added). The default,
    /// <see cref="GraphSageInputs.Categories"/>, was the better of the two on a validation split of the Complete Journey
    /// data (bench/EdgeProfile.Bench.GraphEmbeddings/README.md).
    /// </summary>
    public GraphSageInputs Inputs { get; init; } = GraphSageInputs.Categories;

    /// <summary>Neighbours sampled per node at each hop from the targets (one hop per layer); 0 takes all.</summary>
    public IReadOnlyList<int> Fanouts { get; init; } = [10, 5];

    /// <summary>Passes over the training links.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Positive links per mini-batch.</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>Negative categories sampled per positive link (uniform over the categories the customer did not buy).</summary>
    public int NegativesPerPositive { get; init; } = 1;

    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Adam weight decay (L2).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Standard deviation of the input embeddings' initialisation.</summary>
    public double InitStd { get; init; } = 0.1;

    /// <summary>Seed of torch's generator, the shuffles, the negatives and the neighbour samples.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Torch intra-op threads.</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Dimension, 1, nameof(Dimension));
        ArgumentNullException.ThrowIfNull(Fanouts);
        if (Fanouts.Count == 0)
        {
            throw new ArgumentException("at least one layer (one fan-out)", nameof(Fanouts));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(Epochs, 1, nameof(Epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(NegativesPerPositive, 1, nameof(NegativesPerPositive));
        if (!(LearningRate > 0) || !(WeightDecay >= 0) || !(InitStd > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), "learning rate and init std must be positive, weight decay non-negative");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(Threads, 1, nameof(Threads));
    }
}
