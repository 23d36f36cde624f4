using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Graph;

/// <summary>
/// GraphSAGE with the mean aggregator (Hamilton, Ying and Leskovec 2017): each layer computes, for every destination
/// node, <c>h' = W·[h_self ‖ mean(h_neigh)] + b</c>, then ReLU on every layer but the last, then L2 normalisation.
/// The last layer has no ReLU (as in PyG's GraphSAGE): unit vectors with only non-negative coordinates can never have a
/// negative dot product, so "unlikely" links could not be scored below "unrelated" ones. Inputs are learnable: a row of an
/// input embedding table (by default one row per node id; <c>inputRows</c> lets nodes share rows, e.g. a product its
/// category's) plus a node-type embedding (customer, product, category). A link's logit is
/// <c>scale · ⟨z_u, z_v⟩</c> with a learnable scale (dot products of unit vectors are in [−1, 1]).
/// </summary>
public sealed class GraphSageModule : nn.Module
{
    private readonly Embedding nodeEmbedding;
    private readonly Embedding typeEmbedding;
    private readonly ModuleList<Linear> layers;
    private readonly Parameter logitScale;
    private readonly Tensor nodeTypes;
    private readonly Tensor inputRows;

    // Before the base class's first torch call loads libtorch (a derived type's static constructor runs first).
    static GraphSageModule() => TorchEnvironment.Prepare();

    /// <summary>
    /// Builds the layers with torch's default initialisation for the linear layers and N(0, <paramref name="initStd"/>²)
    /// for the input embeddings (seeded by the caller). <paramref name="nodeTypes"/> gives every node id its type;
    /// <paramref name="inputRows"/> its row of the input embedding table (null: row = node id, one row per node).
    /// </summary>
    public GraphSageModule(IReadOnlyList<GraphNodeType> nodeTypes, int dimension, int layerCount = 2, double initStd = 0.1, double initialScale = 5, IReadOnlyList<int>? inputRows = null)
        : base(nameof(GraphSageModule))
    {
        ArgumentNullException.ThrowIfNull(nodeTypes);
        if (nodeTypes.Count == 0)
        {
            throw new ArgumentException("no nodes", nameof(nodeTypes));
        }
        if (inputRows is not null && (inputRows.Count != nodeTypes.Count || inputRows.Any(r => r < 0)))
        {
            throw new ArgumentException($"one non-negative input row per node ({nodeTypes.Count})", nameof(inputRows));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(layerCount, 1);
        Dimension = dimension;
        var rows = inputRows ?? [.. Enumerable.Range(0, nodeTypes.Count)];
        nodeEmbedding = nn.Embedding(rows.Max() + 1, dimension);
        typeEmbedding = nn.Embedding(3, dimension);
        layers = new ModuleList<Linear>();
        for (var l = 0; l < layerCount; l++)
        {
            layers.Add(nn.Linear(2 * dimension, dimension));
        }
        logitScale = new Parameter(tensor((float)initialScale));
        this.nodeTypes = tensor(nodeTypes.Select(t => (long)t).ToArray());
        this.inputRows = tensor(rows.Select(r => (long)r).ToArray());
        using (no_grad())
        {
            nn.init.normal_(nodeEmbedding.weight!, 0, initStd);
            nn.init.normal_(typeEmbedding.weight!, 0, initStd);
        }
        RegisterComponents();
    }

    /// <summary>Width of every representation.</summary>
    public int Dimension { get; }

    /// <summary>Message-passing layers.</summary>
    public int LayerCount => layers.Count;

    /// <summary>The linear map of layer <paramref name="layer"/> (<c>[dimension, 2·dimension]</c>: self block, then neighbour block).</summary>
    public Linear Layer(int layer) => layers[layer];

    /// <summary>The input embedding table (<c>[rows, dimension]</c>; one row per node unless rows are shared).</summary>
    public Embedding NodeEmbedding => nodeEmbedding;

    /// <summary>The node-type input embedding (<c>[3, dimension]</c>).</summary>
    public Embedding TypeEmbedding => typeEmbedding;

    /// <summary>The learnable logit scale.</summary>
    public Parameter LogitScale => logitScale;

    /// <summary>Input representations of <paramref name="nodes"/>: the node's input-table row plus its node-type embedding.</summary>
    public Tensor Input(Tensor nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        using var types = nodeTypes.index_select(0, nodes);
        using var rows = inputRows.index_select(0, nodes);
        using var id = nodeEmbedding.call(rows);
        using var type = typeEmbedding.call(types);
        return id + type;
    }

    /// <summary>Output representations (unit vectors, <c>[targets, dimension]</c>) of <paramref name="subgraph"/>'s targets.</summary>
    public Tensor Embed(SampledSubgraph subgraph)
    {
        ArgumentNullException.ThrowIfNull(subgraph);
        if (subgraph.Blocks.Count != layers.Count)
        {
            throw new ArgumentException($"{subgraph.Blocks.Count} blocks for {layers.Count} layers", nameof(subgraph));
        }
        using var inputs = tensor(subgraph.InputNodes.Select(n => (long)n).ToArray());
        var h = Input(inputs);
        for (var l = 0; l < layers.Count; l++)
        {
            var next = Layer(h, subgraph.Blocks[l], l, l == layers.Count - 1);
            h.Dispose();
            h = next;
        }
        return h;
    }

    /// <summary>
    /// Applies layer <paramref name="layer"/> to the source rows <paramref name="source"/> of <paramref name="block"/>:
    /// <c>normalize(act(W·[h_self ‖ mean(h_neigh)] + b))</c>, act = ReLU unless <paramref name="last"/>.
    /// </summary>
    public Tensor Layer(Tensor source, GraphBlock block, int layer, bool last)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(block);
        using var self = source.narrow(0, 0, block.DestinationCount);
        using var neighbours = MeanAggregate(source, block);
        using var joined = cat([self, neighbours], 1);
        using var z = layers[layer].call(joined);
        using var activated = last ? z.alias() : nn.functional.relu(z);
        return nn.functional.normalize(activated, p: 2, dim: 1);
    }

    /// <summary>
    /// Mean of the sampled neighbours' rows for each destination of <paramref name="block"/> (<c>[destinations, width]</c>);
    /// a destination with no sampled neighbour gets zeros.
    /// </summary>
    public static Tensor MeanAggregate(Tensor source, GraphBlock block)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(block);
        if (source.shape[0] != block.SourceCount)
        {
            throw new ArgumentException($"{source.shape[0]} source rows, the block has {block.SourceCount}", nameof(source));
        }
        var width = source.shape[1];
        if (block.EdgeCount == 0)
        {
            return zeros(block.DestinationCount, width, source.dtype);
        }
        using var destination = tensor(block.EdgeDestination.Select(i => (long)i).ToArray());
        using var src = tensor(block.EdgeSource.Select(i => (long)i).ToArray());
        using var messages = source.index_select(0, src);
        using var empty = zeros(block.DestinationCount, width, source.dtype);
        // scatter_add rather than index_add: index_add's alpha Scalar (implicit from a literal) showed intermittent
        // "INTERNAL ASSERT FAILED at c10/core/Scalar.h" in its backward; scatter_add takes no Scalar.
        using var spread = destination.unsqueeze(1).expand(block.EdgeCount, width);
        using var sum = empty.scatter_add(0, spread, messages);
        var counts = new float[block.DestinationCount];
        foreach (var d in block.EdgeDestination)
        {
            counts[d]++;
        }
        using var divisor = tensor(counts.Select(c => Math.Max(c, 1f)).ToArray(), [block.DestinationCount, 1]).to_type(source.dtype);
        return sum / divisor;
    }

    /// <summary>Logits of links between the rows of <paramref name="left"/> and <paramref name="right"/> (row by row).</summary>
    public Tensor Score(Tensor left, Tensor right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        using var product = left * right;
        using var dot = product.sum(1);
        return dot * logitScale;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            nodeTypes.Dispose();
            inputRows.Dispose();
        }
        base.Dispose(disposing);
    }
}
