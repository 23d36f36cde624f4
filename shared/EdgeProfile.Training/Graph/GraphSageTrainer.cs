using System.Diagnostics;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Graph;

/// <summary>What <see cref="GraphSageTrainer.Train"/> returns: the trained module, per-epoch mean losses, the time, and the final embeddings.</summary>
public sealed class GraphSageResult : IDisposable
{
    internal GraphSageResult(GraphSageModule module, IReadOnlyList<double> epochLosses, TimeSpan trainingTime, float[][] customers, float[][] categories, int trainingLinks)
    {
        Module = module;
        EpochLosses = epochLosses;
        TrainingTime = trainingTime;
        CustomerEmbeddings = customers;
        CategoryEmbeddings = categories;
        TrainingLinks = trainingLinks;
    }

    /// <summary>The trained module (evaluation mode).</summary>
    public GraphSageModule Module { get; }

    /// <summary>Mean binary cross-entropy of each epoch's mini-batches.</summary>
    public IReadOnlyList<double> EpochLosses { get; }

    /// <summary>Wall time of training (sampling and optimisation; the final full-neighbourhood pass not included).</summary>
    public TimeSpan TrainingTime { get; }

    /// <summary>Final customer embeddings (unit vectors), by customer index, from full neighbourhoods of the training graph.</summary>
    public float[][] CustomerEmbeddings { get; }

    /// <summary>Final category embeddings (unit vectors), by category index, from full neighbourhoods of the training graph.</summary>
    public float[][] CategoryEmbeddings { get; }

    /// <summary>Positive customer–category links trained on (one epoch's positives).</summary>
    public int TrainingLinks { get; }

    /// <summary>A scorer that ranks categories for a customer by the dot product of their embeddings.</summary>
    public ICategoryScorer Scorer(string name = "GraphSAGE") => new EmbeddingScorer(name, CustomerEmbeddings, CategoryEmbeddings);

    /// <inheritdoc/>
    public void Dispose() => Module.Dispose();
}

/// <summary>
/// Trains a <see cref="GraphSageModule"/> for customer–category link prediction on a <see cref="HeteroGraph"/>. Positives
/// are every customer–category pair of the graph (the customer bought a product of the category); each comes with
/// <see cref="GraphSageOptions.NegativesPerPositive"/> categories the customer did not buy, drawn uniformly. Each
/// mini-batch samples the 2-hop (one hop per layer) neighbourhoods of its customers and categories with the positive
/// pairs' own customer–product edges hidden (<see cref="NeighbourSampler"/>), so the model learns to predict a category
/// from the customer's other purchases, as it must for a category not bought yet. Loss: binary cross-entropy on the
/// dot-product logits; Adam; fixed seeds (deterministic for a given seed and thread count).
/// </summary>
public static class GraphSageTrainer
{
    /// <summary>Trains on <paramref name="graph"/> and returns the module and full-neighbourhood embeddings.</summary>
    public static GraphSageResult Train(HeteroGraph graph, GraphSageOptions? options = null, Action<int, double>? onEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        options ??= new GraphSageOptions();
        options.Validate();
        TorchEnvironment.Prepare();
        set_num_threads(options.Threads);
        manual_seed(options.Seed);

        var positives = new List<(int Customer, int Category)>();
        for (var c = 0; c < graph.CustomerCount; c++)
        {
            foreach (var k in graph.History(c))
            {
                positives.Add((c, k));
            }
        }
        if (positives.Count == 0)
        {
            throw new ArgumentException("the graph has no customer–category link to train on", nameof(graph));
        }

        var module = new GraphSageModule(graph.NodeTypes(), options.Dimension, options.Fanouts.Count, options.InitStd, inputRows: InputRows(graph, options.Inputs));
        try
        {
            var watch = Stopwatch.StartNew();
            var losses = Fit(module, graph, positives, options, onEpoch);
            watch.Stop();
            module.eval();
            var (customers, categories) = EmbedAll(module, graph);
            return new GraphSageResult(module, losses, watch.Elapsed, customers, categories, positives.Count);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Embeddings of every customer and every category from their full neighbourhoods (every neighbour at every hop,
    /// nothing hidden) in <paramref name="graph"/>: the deterministic inference pass.
    /// </summary>
    public static (float[][] Customers, float[][] Categories) EmbedAll(GraphSageModule module, HeteroGraph graph)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(graph);
        var targets = Enumerable.Range(0, graph.CustomerCount).Select(graph.CustomerNode)
            .Concat(Enumerable.Range(0, graph.CategoryCount).Select(graph.CategoryNode)).ToArray();
        var subgraph = new NeighbourSampler(graph, new int[module.LayerCount]).Sample(targets, new Random(0));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var z = module.Embed(subgraph);
        var d = module.Dimension;
        var flat = z.contiguous().data<float>().ToArray();
        float[] Row(int i) => flat.AsSpan(i * d, d).ToArray();
        return ([.. Enumerable.Range(0, graph.CustomerCount).Select(Row)],
            [.. Enumerable.Range(0, graph.CategoryCount).Select(k => Row(graph.CustomerCount + k))]);
    }

    private static List<double> Fit(GraphSageModule module, HeteroGraph graph, List<(int Customer, int Category)> positives, GraphSageOptions options, Action<int, double>? onEpoch)
    {
        var sampler = new NeighbourSampler(graph, options.Fanouts);
        var random = new Random(options.Seed);
        using var optimizer = optim.Adam(module.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        var order = positives.ToArray();
        var losses = new List<double>();
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            module.train();
            random.Shuffle(order);
            double lossSum = 0;
            var batches = 0;
            for (var start = 0; start < order.Length; start += options.BatchSize)
            {
                var batch = order.AsSpan(start, Math.Min(options.BatchSize, order.Length - start));
                var pairs = new List<(int Customer, int Category, float Label)>(batch.Length * (1 + options.NegativesPerPositive));
                var excluded = new HashSet<long>();
                foreach (var (c, k) in batch)
                {
                    pairs.Add((c, k, 1f));
                    excluded.Add(graph.PairKey(c, k));
                    for (var n = 0; n < options.NegativesPerPositive; n++)
                    {
                        if (NegativeCategory(graph, c, random) is { } negative)
                        {
                            pairs.Add((c, negative, 0f));
                        }
                    }
                }

                var row = new Dictionary<int, int>();
                var targets = new List<int>();
                int Row(int node)
                {
                    if (!row.TryGetValue(node, out var r))
                    {
                        row[node] = r = targets.Count;
                        targets.Add(node);
                    }
                    return r;
                }
                var left = pairs.Select(p => (long)Row(graph.CustomerNode(p.Customer))).ToArray();
                var right = pairs.Select(p => (long)Row(graph.CategoryNode(p.Category))).ToArray();
                var subgraph = sampler.Sample(targets, random, excluded);

                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var z = module.Embed(subgraph);
                var logits = module.Score(z.index_select(0, tensor(left)), z.index_select(0, tensor(right)));
                var labels = tensor(pairs.Select(p => p.Label).ToArray());
                var loss = nn.functional.binary_cross_entropy_with_logits(logits, labels);
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
                batches++;
            }
            var mean = lossSum / batches;
            losses.Add(mean);
            onEpoch?.Invoke(epoch, mean);
        }
        return losses;
    }

    /// <summary>
    /// Row of the input embedding table of every node for <paramref name="inputs"/> (null: one row per node id). For
    /// <see cref="GraphSageInputs.Categories"/>: row 0 is shared by all customers, category k is row 1 + k, and a
    /// product uses its category's row.
    /// </summary>
    public static int[]? InputRows(HeteroGraph graph, GraphSageInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return inputs switch
        {
            GraphSageInputs.NodeIds => null,
            GraphSageInputs.Categories => [.. Enumerable.Range(0, graph.NodeCount).Select(v => graph.TypeOf(v) switch
            {
                GraphNodeType.Customer => 0,
                GraphNodeType.Product => 1 + graph.CategoryOfProduct(v - graph.CustomerCount),
                _ => 1 + v - graph.CustomerCount - graph.ProductCount,
            })],
            _ => throw new ArgumentOutOfRangeException(nameof(inputs), inputs, "unknown input kind"),
        };
    }

    /// <summary>A category customer <paramref name="customer"/> did not buy, uniformly; null when it bought them all.</summary>
    internal static int? NegativeCategory(HeteroGraph graph, int customer, Random random)
    {
        var history = graph.History(customer);
        var free = graph.CategoryCount - history.Count;
        if (free <= 0)
        {
            return null;
        }
        // The r-th category not in the (ascending) history.
        var r = random.Next(free);
        var k = r;
        foreach (var h in history)
        {
            if (h <= k)
            {
                k++;
            }
            else
            {
                break;
            }
        }
        return k;
    }
}
