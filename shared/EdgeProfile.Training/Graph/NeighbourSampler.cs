namespace EdgeProfile.Training.Graph;

/// <summary>
/// One message-passing layer of a sampled subgraph, in local positions: the layer reads <see cref="SourceCount"/> source
/// rows and writes <see cref="DestinationCount"/> destination rows; destinations are the first
/// <see cref="DestinationCount"/> sources (so a node's own previous representation is at its destination position).
/// Edge <c>i</c> sends source <see cref="EdgeSource"/>[i] to destination <see cref="EdgeDestination"/>[i].
/// </summary>
/// <param name="SourceCount">Source rows read.</param>
/// <param name="DestinationCount">Destination rows written (a prefix of the sources).</param>
/// <param name="EdgeDestination">Destination position of each sampled edge.</param>
/// <param name="EdgeSource">Source position of each sampled edge.</param>
public sealed record GraphBlock(int SourceCount, int DestinationCount, int[] EdgeDestination, int[] EdgeSource)
{
    /// <summary>Sampled edges.</summary>
    public int EdgeCount => EdgeSource.Length;
}

/// <summary>
/// The computation graph of a mini-batch: <see cref="InputNodes"/> (node ids whose input representations are read;
/// the targets first, then the nodes each hop added) and one <see cref="GraphBlock"/> per layer, in the order they are
/// applied (<see cref="Blocks"/>[0] reads the inputs, the last block writes the targets).
/// </summary>
/// <param name="Targets">Target node ids, in output order.</param>
/// <param name="InputNodes">Node ids of the input rows.</param>
/// <param name="Blocks">Layers, first applied first.</param>
public sealed record SampledSubgraph(int[] Targets, int[] InputNodes, IReadOnlyList<GraphBlock> Blocks);

/// <summary>
/// GraphSAGE neighbour sampling (Hamilton, Ying and Leskovec 2017): from the targets, each hop samples up to
/// <c>fanouts[h]</c> neighbours per node without replacement (all of them when the node has fewer, or when the fan-out
/// is 0 or less), uniformly. Edges in the exclusion set (customer–product edges whose customer–category pair is being
/// predicted, see <see cref="HeteroGraph.IsExcluded"/>) are never returned, so a training link cannot be read off its own
/// path. The sampler only sees its graph: what is not in it (held-out purchases) cannot be returned.
/// </summary>
public sealed class NeighbourSampler
{
    private readonly HeteroGraph graph;
    private readonly int[] fanouts;
    private int[] scratch = new int[64];

    /// <summary>A sampler over <paramref name="graph"/>; <paramref name="fanouts"/>[0] is the first hop from the targets.</summary>
    public NeighbourSampler(HeteroGraph graph, IReadOnlyList<int> fanouts)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(fanouts);
        if (fanouts.Count == 0)
        {
            throw new ArgumentException("at least one hop", nameof(fanouts));
        }
        this.graph = graph;
        this.fanouts = [.. fanouts];
    }

    /// <summary>Hops (= layers).</summary>
    public int Hops => fanouts.Length;

    /// <summary>
    /// Samples the <see cref="Hops"/>-hop computation graph of <paramref name="targets"/> (distinct node ids), hiding the
    /// edges of <paramref name="excludedPairs"/> (keys from <see cref="HeteroGraph.PairKey"/>; none when null).
    /// </summary>
    public SampledSubgraph Sample(IReadOnlyList<int> targets, Random random, IReadOnlySet<long>? excludedPairs = null)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(random);
        var current = new List<int>(targets.Count);
        var position = new Dictionary<int, int>();
        foreach (var t in targets)
        {
            if ((uint)t >= (uint)graph.NodeCount)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), t, $"node ids are 0..{graph.NodeCount - 1}");
            }
            if (!position.TryAdd(t, current.Count))
            {
                throw new ArgumentException($"target {t} is listed twice", nameof(targets));
            }
            current.Add(t);
        }

        var outward = new List<GraphBlock>(fanouts.Length);
        var sampled = new List<int>();
        foreach (var fanout in fanouts)
        {
            var nodes = new List<int>(current);
            var destinations = new List<int>();
            var sources = new List<int>();
            for (var i = 0; i < current.Count; i++)
            {
                sampled.Clear();
                SampleNeighbours(current[i], fanout, random, excludedPairs, sampled);
                foreach (var u in sampled)
                {
                    if (!position.TryGetValue(u, out var local))
                    {
                        local = nodes.Count;
                        nodes.Add(u);
                        position[u] = local;
                    }
                    destinations.Add(i);
                    sources.Add(local);
                }
            }
            outward.Add(new GraphBlock(nodes.Count, current.Count, [.. destinations], [.. sources]));
            current = nodes;
        }
        outward.Reverse();
        return new SampledSubgraph([.. targets], [.. current], outward);
    }

    private void SampleNeighbours(int node, int fanout, Random random, IReadOnlySet<long>? excluded, List<int> output)
    {
        var all = graph.Neighbours(node);
        var filter = excluded is { Count: > 0 } && graph.TypeOf(node) != GraphNodeType.Category;
        if (fanout <= 0 || all.Length <= fanout)
        {
            foreach (var u in all)
            {
                if (!filter || !graph.IsExcluded(node, u, excluded!))
                {
                    output.Add(u);
                }
            }
            return;
        }

        // Partial Fisher–Yates over a copy: uniform without replacement, skipping excluded edges.
        if (scratch.Length < all.Length)
        {
            scratch = new int[Math.Max(all.Length, scratch.Length * 2)];
        }
        all.CopyTo(scratch);
        for (var i = 0; i < all.Length && output.Count < fanout; i++)
        {
            var j = random.Next(i, all.Length);
            (scratch[i], scratch[j]) = (scratch[j], scratch[i]);
            if (!filter || !graph.IsExcluded(node, scratch[i], excluded!))
            {
                output.Add(scratch[i]);
            }
        }
    }
}
