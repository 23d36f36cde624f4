using EdgeProfile.Training.Graph;
using EdgeProfile.Training.Pipeline;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Tests;

[Collection(TorchCollection.Name)]
public sealed class GraphSageTests(ITestOutputHelper output) : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string dir = Directory.CreateTempSubdirectory("graphsage-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Sampler_respects_fanouts_and_never_returns_held_out_or_excluded_edges()
    {
        var random = new Random(5);
        var purchases = new List<GraphPurchase>();
        for (var i = 0; i < 1500; i++)
        {
            var product = random.Next(120);
            purchases.Add(new GraphPurchase($"c{random.Next(50)}", $"p{product}", $"k{product % 30}", Start.AddHours(random.Next(1000))));
        }
        var split = TemporalLinkSplit.ByFraction(purchases, 0.2);
        var graph = split.Graph;
        var trainEdges = purchases.Where(p => p.Time < split.Cutoff).Select(p => (p.Customer, p.Product)).ToHashSet();
        var heldOutOnly = purchases.Where(p => p.Time >= split.Cutoff).Select(p => (p.Customer, p.Product)).Where(e => !trainEdges.Contains(e)).ToHashSet();
        Assert.NotEmpty(heldOutOnly);
        Assert.True(split.HeldOutPairs > 0);
        Assert.All(split.HeldOut, e => Assert.All(e.Value, k => Assert.DoesNotContain(k, graph.History(e.Key))));

        int[] fanouts = [4, 3];
        var sampler = new NeighbourSampler(graph, fanouts);
        var sampled = 0;
        for (var trial = 0; trial < 20; trial++)
        {
            var targets = Enumerable.Range(0, graph.NodeCount).OrderBy(_ => random.Next()).Take(25).ToArray();
            var excluded = new HashSet<long>();
            for (var i = 0; i < 10; i++)
            {
                var c = random.Next(graph.CustomerCount);
                if (graph.History(c).Count > 0)
                {
                    excluded.Add(graph.PairKey(c, graph.History(c)[random.Next(graph.History(c).Count)]));
                }
            }
            var subgraph = sampler.Sample(targets, random, excluded);
            Assert.Equal(targets, subgraph.InputNodes.Take(targets.Length));
            Assert.Equal(2, subgraph.Blocks.Count);
            Assert.Equal(targets.Length, subgraph.Blocks[^1].DestinationCount);
            Assert.Equal(subgraph.InputNodes.Length, subgraph.Blocks[0].SourceCount);
            Assert.Equal(subgraph.Blocks[0].DestinationCount, subgraph.Blocks[1].SourceCount);

            // Rebuild the node list of each hop: the last block (hop 1 from the targets) reads the first SourceCount inputs.
            for (var b = 0; b < 2; b++)
            {
                var block = subgraph.Blocks[b];
                var fanout = fanouts[subgraph.Blocks.Count - 1 - b];
                var perDestination = block.EdgeDestination.Zip(block.EdgeSource).GroupBy(e => e.First).ToDictionary(g => g.Key, g => g.Select(e => e.Second).ToArray());
                for (var d = 0; d < block.DestinationCount; d++)
                {
                    var node = subgraph.InputNodes[d];
                    var neighbours = perDestination.TryGetValue(d, out var s) ? s.Select(i => subgraph.InputNodes[i]).ToArray() : [];
                    Assert.True(neighbours.Length <= fanout, $"{neighbours.Length} neighbours with fan-out {fanout}");
                    Assert.Equal(neighbours.Length, neighbours.Distinct().Count());
                    var allowed = graph.Neighbours(node).ToArray().Where(u => !graph.IsExcluded(node, u, excluded)).ToArray();
                    Assert.Equal(Math.Min(fanout, allowed.Length), neighbours.Length);
                    foreach (var u in neighbours)
                    {
                        Assert.True(graph.HasEdge(node, u));
                        Assert.False(graph.IsExcluded(node, u, excluded));
                        var (c, p) = graph.TypeOf(node) == GraphNodeType.Customer ? (node, u) : (u, node);
                        if (graph.TypeOf(c) == GraphNodeType.Customer && graph.TypeOf(p) == GraphNodeType.Product)
                        {
                            var edge = (graph.Customers[c], graph.Products[p - graph.CustomerCount]);
                            Assert.DoesNotContain(edge, heldOutOnly);
                            Assert.Contains(edge, trainEdges);
                        }
                        sampled++;
                    }
                }
            }
        }
        output.WriteLine($"{graph.CustomerCount} customers, {graph.ProductCount} products, {graph.CategoryCount} categories, {graph.EdgeCount} edges; {heldOutOnly.Count} held-out-only customer–product edges; {sampled} sampled edges checked");
    }

    [Fact]
    public void Mean_aggregation_and_layers_match_hand_computed_values()
    {
        // A bought p1 (X) and p2 (X); B bought p2 and p3 (Y). Ids: A=0, B=1, p1=2, p2=3, p3=4, X=5, Y=6.
        var graph = HeteroGraph.Build(
        [
            new("A", "p1", "X", Start), new("A", "p2", "X", Start), new("B", "p2", "X", Start), new("B", "p3", "Y", Start),
        ]);
        Assert.Equal([2, 3], graph.Neighbours(0).ToArray());
        Assert.Equal([0, 1, 5], graph.Neighbours(3).ToArray());
        float[][] x = [[1, 0], [0, 1], [0, 2], [2, 4], [-3, 1], [1, 1], [-1, 2]];

        using var module = new GraphSageModule(graph.NodeTypes(), dimension: 2, layerCount: 2);
        float[] identities = [1, 0, 1, 0, 0, 1, 0, 1];
        using (no_grad())
        {
            module.NodeEmbedding.weight!.copy_(tensor(x.SelectMany(r => r).ToArray(), [7, 2]));
            module.TypeEmbedding.weight!.zero_();
            for (var l = 0; l < 2; l++)
            {
                // W = [I | I], b = 0: h' = normalize(act(h_self + mean(h_neigh))).
                module.Layer(l).weight!.copy_(tensor(identities, [2, 4]));
                module.Layer(l).bias!.zero_();
            }
        }

        // Mean of A's neighbours p1 and p2: ((0,2) + (2,4)) / 2 = (1, 3).
        var subgraph = new NeighbourSampler(graph, [0]).Sample([0], new Random(1));
        Assert.Equal([0, 2, 3], subgraph.InputNodes.Order());
        using (var inputs = tensor(subgraph.InputNodes.Select(n => (long)n).ToArray()))
        using (var h = module.Input(inputs))
        using (var mean = GraphSageModule.MeanAggregate(h, subgraph.Blocks[0]))
        {
            float[] expectedMean = [1, 3];
            Assert.Equal(expectedMean, mean.data<float>().ToArray());
        }

        // Two layers on p2 (neighbours A, B, X), full neighbourhoods, by hand:
        // layer 1 (ReLU): A: (1,0)+(1,3) = (2,3); B: (0,1)+mean((2,4),(-3,1)) = (-0.5,3.5) -> ReLU (0,3.5);
        // X: (1,1)+mean((0,2),(2,4)) = (2,4); p2: (2,4)+mean((1,0),(0,1),(1,1)) = (2.667,4.667); each normalised.
        // layer 2 (last, no ReLU): p2: n(p2) + mean(n(A), n(B), n(X)), normalised.
        static float[] N(float[] v)
        {
            var norm = MathF.Sqrt(v.Sum(a => a * a));
            return [.. v.Select(a => a / norm)];
        }
        var a1 = N([2, 3]);
        var b1 = N([0, 3.5f]);
        var x1 = N([2, 4]);
        var p21 = N([2 + 2 / 3f, 4 + 2 / 3f]);
        var expected = N([p21[0] + (a1[0] + b1[0] + x1[0]) / 3, p21[1] + (a1[1] + b1[1] + x1[1]) / 3]);
        var two = new NeighbourSampler(graph, [0, 0]).Sample([3], new Random(1));
        using var z = module.Embed(two);
        var actual = z.data<float>().ToArray();
        output.WriteLine($"expected ({expected[0]:F6}, {expected[1]:F6}), torch ({actual[0]:F6}, {actual[1]:F6})");
        Assert.Equal(expected[0], actual[0], 5);
        Assert.Equal(expected[1], actual[1], 5);
    }

    [Theory]
    [InlineData(GraphSageInputs.Categories)]
    [InlineData(GraphSageInputs.NodeIds)]
    public void Training_on_planted_communities_ranks_held_out_links_and_beats_popularity(GraphSageInputs inputs)
    {
        // Two communities (50 and 25 customers), each buying from its own block of 10 categories (3 products each):
        // 6 of its block's categories before the cutoff, the other 4 after. Popularity favours the larger block.
        var random = new Random(11);
        var purchases = new List<GraphPurchase>();
        for (var c = 0; c < 75; c++)
        {
            var block = c < 50 ? 0 : 1;
            var categories = Enumerable.Range(block * 10, 10).OrderBy(_ => random.Next()).ToArray();
            for (var i = 0; i < categories.Length; i++)
            {
                var time = i < 6 ? Start.AddDays(random.Next(80)) : Start.AddDays(81 + random.Next(19));
                for (var n = 0; n < 2; n++)
                {
                    purchases.Add(new GraphPurchase($"c{c:D2}", $"p{categories[i]:D2}-{random.Next(3)}", $"k{categories[i]:D2}", time));
                }
            }
        }
        var split = TemporalLinkSplit.At(purchases, Start.AddDays(80.5));
        Assert.Equal(75 * 4, split.HeldOutPairs);

        var options = new GraphSageOptions { Dimension = 16, Epochs = 30, BatchSize = 64, LearningRate = 0.01, Seed = 3, Fanouts = [5, 3], Inputs = inputs };
        using var result = GraphSageTrainer.Train(split.Graph, options);
        var results = LinkPredictionEvaluation.Evaluate(split, [result.Scorer(), new PopularityBaseline(split.Graph), new CoPurchaseBaseline(split.Graph)], k: 4, seed: 2);
        output.WriteLine($"loss {result.EpochLosses[0]:F4} -> {result.EpochLosses[^1]:F4} in {result.TrainingTime.TotalMilliseconds:F0} ms");
        output.WriteLine(LinkPredictionEvaluation.ToTable(results));
        var (sage, popularity) = (results[0], results[1]);
        Assert.True(result.EpochLosses[^1] < 0.7 * result.EpochLosses[0]);
        Assert.True(sage.Auc > 0.9, $"GraphSAGE AUC {sage.Auc}");
        Assert.True(sage.Auc > popularity.Auc + 0.1, $"GraphSAGE AUC {sage.Auc} vs popularity {popularity.Auc}");
        Assert.True(sage.RecallAtK > popularity.RecallAtK, $"GraphSAGE recall {sage.RecallAtK} vs popularity {popularity.RecallAtK}");
        Assert.Equal(75, sage.Customers);
        Assert.Equal(sage.Positives, sage.Negatives);
        var (difference, low, high) = sage.PairedDifference(popularity, hits: false);
        Assert.Equal(sage.RecallAtK - popularity.RecallAtK, difference, 9);
        Assert.True(low <= difference && difference <= high && low > 0, $"recall difference {difference} [{low}, {high}]");
        Assert.Equal((0.0, 0.0, 0.0), sage.PairedDifference(sage, hits: true));

        // Same seed, same embeddings; with category inputs, a product's input row is its category's, customers share row 0.
        var rows = GraphSageTrainer.InputRows(split.Graph, GraphSageInputs.Categories)!;
        Assert.All(Enumerable.Range(0, split.Graph.ProductCount), p => Assert.Equal(1 + split.Graph.CategoryOfProduct(p), rows[split.Graph.ProductNode(p)]));
        Assert.All(Enumerable.Range(0, split.Graph.CustomerCount), c => Assert.Equal(0, rows[c]));
        using var again = GraphSageTrainer.Train(split.Graph, options with { Epochs = 2 });
        using var again2 = GraphSageTrainer.Train(split.Graph, options with { Epochs = 2 });
        Assert.Equal(again.CustomerEmbeddings.SelectMany(r => r), again2.CustomerEmbeddings.SelectMany(r => r));
    }

    [Fact]
    public void Popularity_and_co_purchase_baselines_give_hand_checked_rankings()
    {
        // Categories W, X, Y, Z = indices 0..3. A: X, Y; B: X, Z; C: X, Y, W; D: Y.
        (string Customer, string Category)[] lines = [("A", "X"), ("A", "Y"), ("B", "X"), ("B", "Z"), ("C", "X"), ("C", "Y"), ("C", "W"), ("D", "Y")];
        var graph = HeteroGraph.Build(lines.Select(l => new GraphPurchase(l.Customer, "p" + l.Category, l.Category, Start)));
        Assert.Equal(["W", "X", "Y", "Z"], graph.Categories);
        int a = graph.CustomerIndex("A"), d = graph.CustomerIndex("D");

        var popularity = new PopularityBaseline(graph);
        float[] shares = [0.25f, 0.75f, 0.75f, 0.25f];
        Assert.Equal(shares, popularity.Score(d));
        Assert.Equal([1, 0, 3], LinkPredictionEvaluation.TopK(popularity.Score(d), graph.History(d), 10)); // X, then W and Z tied (by index)

        // n: W 1, X 3, Y 3, Z 1; cooc: XY 2, XZ 1, XW 1, YW 1. D (Y): X 2/3, W 1/3, Z 0.
        var coPurchase = new CoPurchaseBaseline(graph);
        Assert.Equal(2 / 3f, coPurchase.Conditional(2, 1), 6);
        Assert.Equal(1f, coPurchase.Conditional(0, 1), 6);
        var dScores = coPurchase.Score(d);
        float[] dExpected = [1 / 3f, 2 / 3f, 0f, 0f];
        Assert.Equal(dExpected, dScores);
        Assert.Equal([1, 0, 3], LinkPredictionEvaluation.TopK(dScores, graph.History(d), 10));
        // A (X, Y): W (1/3 + 1/3) / 2 = 1/3, Z (1/3 + 0) / 2 = 1/6: W before Z.
        var aScores = coPurchase.Score(a);
        Assert.Equal(1 / 3f, aScores[0], 6);
        Assert.Equal(1 / 6f, aScores[3], 6);
        Assert.Equal([0, 3], LinkPredictionEvaluation.TopK(aScores, graph.History(a), 10));

        // Evaluation on a hand-made split: D next buys W; A next buys Z. Co-purchase: D's top-1 is X (miss), A's is W (miss);
        // top-2 hits both. Popularity top-2: D gets X, W (hit), A gets W, Z (hit).
        var heldOut = new Dictionary<int, int[]> { [d] = [0], [a] = [3] };
        var results = LinkPredictionEvaluation.Evaluate(graph, heldOut, [coPurchase, popularity], k: 1);
        Assert.All(results, r => Assert.Equal(0, r.HitsAtK));
        results = LinkPredictionEvaluation.Evaluate(graph, heldOut, [coPurchase, popularity], k: 2);
        Assert.All(results, r => Assert.Equal(1, r.HitsAtK));
        Assert.All(results, r => Assert.Equal(1, r.RecallAtK));
    }

    [Fact]
    public void Embedding_csv_round_trips_and_augments_a_training_set_by_customer()
    {
        var random = new Random(4);
        var rows = Enumerable.Range(0, 300).Select(i => KeyValuePair.Create($"app:u-{i}", Enumerable.Range(0, 3).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray())).ToList();
        float[] odd = [1e-8f, -0f, 123456.78f];
        rows.Add(KeyValuePair.Create("odd, \"quoted\" id", odd));
        var table = new GraphEmbeddingTable(3, rows);
        var path = Path.Combine(dir, "embeddings.csv");
        table.Write(path);
        Assert.StartsWith("customer,emb_0,emb_1,emb_2\n", File.ReadAllText(path), StringComparison.Ordinal);
        var read = GraphEmbeddingTable.Read(path);
        Assert.Equal(table.Customers, read.Customers);
        Assert.All(rows, r => Assert.Equal(r.Value, read.For(r.Key)));
        Assert.Equal(new float[3], read.For("nobody"));

        // The synthetic training set's customers are app:u-0 … app:u-699: 300 have embeddings, the rest get zeros.
        var source = Path.Combine(dir, "ts");
        PipelineTests.WriteTrainingSet(source, rows: 400, seed: 1);
        var set = TrainingSet.Load(source);
        var augmented = GraphEmbeddingFeatures.Append(set, read);
        Assert.Equal([.. set.Features.Select(f => f.Name), "graph_emb_0", "graph_emb_1", "graph_emb_2"], augmented.FeatureNames);
        var missing = 0;
        for (var r = 0; r < set.Rows; r++)
        {
            Assert.Equal(set.X[r], augmented.X[r][..set.Features.Count]);
            var has = read.Contains(set.Customers[r]);
            missing += has ? 0 : 1;
            Assert.Equal(has ? rows.First(e => e.Key == set.Customers[r]).Value : new float[3], augmented.X[r][set.Features.Count..]);
        }
        Assert.Equal(missing, augmented.MissingRows);
        Assert.InRange(missing, 1, set.Rows - 1);

        var destination = Path.Combine(dir, "ts-graph");
        var written = GraphEmbeddingFeatures.WriteAugmentedTrainingSet(source, destination, read);
        Assert.True(written >= missing);
        var reloaded = TrainingSet.Load(destination);
        Assert.Equal(augmented.FeatureNames, reloaded.Features.Select(f => f.Name));
        Assert.Equal(set.Customers, reloaded.Customers);
        Assert.Equal(set.Y, reloaded.Y);
        for (var r = 0; r < set.Rows; r++)
        {
            Assert.Equal(augmented.X[r], reloaded.X[r]);
        }
        Assert.Throws<PipelineException>(() => GraphEmbeddingFeatures.WriteAugmentedTrainingSet(destination, Path.Combine(dir, "again"), read));
    }
}
