using EdgeProfile.Models.Sequences;
using EdgeProfile.Semantic.Sequences;
using EdgeProfile.Training.Sequences;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Tests.Sequences;

[Collection(TorchCollection.Name)]
public sealed class SasRecTests
{
    /// <summary>Users walk a cycle 1 → 2 → … → <paramref name="items"/> → 1 from a random start: the next item is always the previous + 1.</summary>
    private static SequenceDataset Cycles(int users, int items, int minLength, int maxLength, int seed)
    {
        var random = new Random(seed);
        var sequences = new int[users][];
        for (var u = 0; u < users; u++)
        {
            var start = random.Next(items);
            sequences[u] = [.. Enumerable.Range(0, random.Next(minLength, maxLength + 1)).Select(i => ((start + i) % items) + 1)];
        }
        return SequenceDataset.FromSequences(sequences, items);
    }

    private static SasRecModule RandomModule(int items, int maxLength, int dimensions, int blocks, int heads, int seed)
    {
        manual_seed(seed);
        var module = new SasRecModule(items, maxLength, dimensions, blocks, heads, dropout: 0.3);
        using (no_grad())
        {
            // Larger than the initialisation, so norms, biases and attention all matter.
            foreach (var p in module.parameters())
            {
                nn.init.normal_(p, 0, 0.5);
            }
        }
        module.ZeroPadding();
        module.eval();
        return module;
    }

    [Fact]
    public void Forward_matches_the_plain_reference_on_the_exported_weights()
    {
        using var module = RandomModule(items: 23, maxLength: 7, dimensions: 8, blocks: 2, heads: 2, seed: 3);
        int[][] histories = [[5], [1, 2, 3], [23, 4, 4, 9, 1, 17, 2], [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], [12, 7]];
        var weights = module.ExportWeights();
        Assert.Equal(new float[8], weights.ItemEmbedding[..8]);
        var reference = SasRecReference.Forward(weights, histories);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (hidden, scores, attention) = module.Infer(module.Ids(histories));
        Assert.Equal([histories.Length, 8], hidden.shape);
        Assert.Equal([histories.Length, 24], scores.shape);
        Assert.Equal([histories.Length, 7], attention.shape);
        AssertClose(reference.Hidden, hidden.data<float>().ToArray(), 1e-5);
        AssertClose(reference.Scores, scores.data<float>().ToArray(), 1e-5);
        AssertClose(reference.Attention, attention.data<float>().ToArray(), 1e-5);
        // Attention rows are distributions over the causal window.
        foreach (var row in attention.data<float>().ToArray().Chunk(7))
        {
            Assert.Equal(1.0, row.Sum(), 4);
        }
    }

    [Fact]
    public void Module_loaded_from_exported_weights_computes_the_same()
    {
        using var module = RandomModule(items: 11, maxLength: 5, dimensions: 4, blocks: 1, heads: 1, seed: 4);
        var weights = module.ExportWeights();
        using var copy = SasRecModule.FromWeights(weights);
        int[][] histories = [[1, 2], [11, 10, 9, 8, 7, 6]];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var a = module.Infer(module.Ids(histories)).Scores.data<float>().ToArray();
        var b = copy.Infer(copy.Ids(histories)).Scores.data<float>().ToArray();
        Assert.Equal(a, b);
        var again = copy.ExportWeights();
        Assert.Equal(weights.ItemEmbedding, again.ItemEmbedding);
        Assert.Equal(weights.Blocks[0].Query, again.Blocks[0].Query);
        Assert.Equal(weights.Blocks[0].FeedForward2, again.Blocks[0].FeedForward2);
    }

    [Fact]
    public void Training_logits_are_computed_at_non_padded_targets_only()
    {
        using var module = RandomModule(items: 9, maxLength: 4, dimensions: 4, blocks: 1, heads: 1, seed: 5);
        var (inputs, targets, positions) = SasRecTrainer.TrainingRows(SequenceDataset.FromSequences([[1, 2, 3, 4, 5], [6, 7, 8, 9, 1, 2, 3, 4], [2, 3]], 9), 4);
        // Prefixes [1,2,3] and [6,7,8,9,1,2]; [2,3] has no training prefix.
        Assert.Equal(2, inputs.Length);
        Assert.Equal([0, 0, 1, 2], inputs[0]);
        Assert.Equal([0, 0, 2, 3], targets[0]);
        Assert.Equal([7, 8, 9, 1], inputs[1]);
        Assert.Equal([8, 9, 1, 2], targets[1]);
        Assert.Equal(6, positions);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = tensor(inputs.SelectMany(r => r).ToArray(), [2, 4]);
        var next = tensor(targets.SelectMany(r => r).ToArray(), [2, 4]);
        var (logits, labels) = module.TrainingLogits(ids, next);
        Assert.Equal([6, 9], logits.shape);
        Assert.Equal([1L, 2, 7, 8, 0, 1], labels.data<long>().ToArray());
        // Logit of item j + 1 at a position = hidden · E[j + 1].
        var (h, _) = module.Encode(ids);
        var expected = h[1, 3].matmul(module.ItemEmbedding.narrow(0, 1, 9).t());
        AssertClose(expected.data<float>().ToArray(), logits[5].data<float>().ToArray(), 1e-6);
    }

    [Fact]
    public void Training_hidden_skips_padding_columns_exactly()
    {
        using var module = RandomModule(items: 15, maxLength: 9, dimensions: 8, blocks: 2, heads: 2, seed: 6);
        // Longest row 4 items: only the last 5 columns are computed, the first standing for the 5 dropped padding keys.
        int[][] inputs = [[3, 1, 4], [15, 9, 2, 6], [5]];
        int[][] targets = [[1, 4, 1], [9, 2, 6, 5], [3]];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = module.Ids(inputs);
        var next = module.Ids(targets);
        var (hidden, labels) = module.TrainingHidden(ids, next);
        var (full, _) = module.Encode(ids);
        var flat = next.reshape(-1);
        var positions = flat.ne(0).nonzero().reshape(-1);
        var expected = full.reshape(-1, 8).index_select(0, positions);
        Assert.Equal([8, 8], hidden.shape);
        Assert.Equal((flat.index_select(0, positions) - 1).data<long>().ToArray(), labels.data<long>().ToArray());
        AssertClose(expected.data<float>().ToArray(), hidden.data<float>().ToArray(), 1e-5);
    }

    [Fact]
    public void Learns_a_deterministic_cycle_while_most_popular_cannot()
    {
        var data = Cycles(users: 200, items: 20, minLength: 5, maxLength: 15, seed: 7);
        var options = new SasRecOptions { MaxLength = 8, Dimensions = 16, Blocks = 1, Heads = 1, Dropout = 0.1, LearningRate = 1e-2, BatchSize = 50, MaxEpochs = 30, Patience = 3, ValidateEvery = 5, Threads = 1, Seed = 1 };
        using var result = SasRecTrainer.Train(data, options);
        Assert.True(result.EpochsRun <= options.MaxEpochs);
        Assert.True(result.Epochs[^1].Loss < result.Epochs[0].Loss, $"loss {result.Epochs[0].Loss} → {result.Epochs[^1].Loss}");

        var scorer = result.Scorer();
        var sasrec = NextItemEvaluator.Evaluate(data, scorer, CandidateSet.AllItems);
        var popular = NextItemEvaluator.Evaluate(data, new MostPopularScorer(data), CandidateSet.AllItems);
        Assert.True(sasrec.HitRate1 > 0.95, $"SASRec HR@1 {sasrec.HitRate1}");
        Assert.True(popular.HitRate1 < 0.2, $"MostPopular HR@1 {popular.HitRate1}");

        // Precomputed (batched) hidden vectors and the torch full ranking agree with the per-user path.
        var cases = data.Sequences.Select(s => LeaveOneOut.Case(s, Holdout.Test)).ToArray();
        var computed = scorer.Precompute(cases.Select(c => c.History));
        Assert.Equal(cases.Select(c => string.Join(',', c.History.TakeLast(options.MaxLength))).Distinct().Count(), computed);
        Assert.Equal(computed, scorer.CachedHistories);
        Assert.Equal(0, scorer.Precompute(cases.Select(c => c.History)));
        Assert.Equal(sasrec, NextItemEvaluator.Evaluate(data, scorer, CandidateSet.AllItems));
        var torchRanks = SasRecTorchScorer.Metrics("all-items/test", SasRecTorchScorer.FullRankingRanks(result.Module, [.. cases.Select(c => c.History)], [.. cases.Select(c => c.Target)], batchSize: 50));
        Assert.Equal(sasrec.HitRate1, torchRanks.HitRate1, 2);
        Assert.Equal(sasrec.Ndcg10, torchRanks.Ndcg10, 2);
    }

    [Fact]
    public void Training_is_reproducible_keeps_the_padding_row_zero_and_keeps_the_best_epoch()
    {
        var data = Cycles(users: 120, items: 40, minLength: 5, maxLength: 12, seed: 9);
        var options = new SasRecOptions { MaxLength = 8, Dimensions = 16, Blocks = 2, Heads = 2, Dropout = 0.3, BatchSize = 32, MaxEpochs = 6, Patience = 2, ValidationUsers = 60, Threads = 1, Seed = 11 };
        using var first = SasRecTrainer.Train(data, options);
        using var second = SasRecTrainer.Train(data, options);
        using var other = SasRecTrainer.Train(data, options with { Seed = 12 });

        Assert.Equal(first.Weights.ItemEmbedding, second.Weights.ItemEmbedding);
        Assert.Equal(first.Weights.Blocks[1].Value, second.Weights.Blocks[1].Value);
        Assert.Equal(first.Epochs.Select(e => e.Loss), second.Epochs.Select(e => e.Loss));
        Assert.NotEqual(first.Weights.ItemEmbedding, other.Weights.ItemEmbedding);

        using (no_grad())
        {
            Assert.Equal(new float[16], first.Module.ItemEmbedding[0].data<float>().ToArray());
        }
        Assert.Equal(new float[16], first.Weights.ItemEmbedding[..16]);
        Assert.Contains(first.Weights.ItemEmbedding[16..], v => v != 0);

        // The kept weights are the best validation epoch's: recomputing the validation NDCG@10 gives that epoch's figure.
        var best = first.Epochs.Where(e => e.ValidationNdcg10 is not null).MaxBy(e => e.ValidationNdcg10!.Value)!;
        Assert.Equal(best.Epoch, first.BestEpoch);
        Assert.Equal(best.ValidationNdcg10, first.BestValidationNdcg10);
        var (histories, targets) = SasRecTrainer.ValidationSample(data, options.ValidationUsers, options.Seed);
        var again = SasRecTorchScorer.Metrics("all-items/validation", SasRecTorchScorer.FullRankingRanks(first.Module, histories, targets));
        Assert.Equal(best.ValidationNdcg10!.Value, again.Ndcg10, 6);
    }

    [Fact]
    public void Options_and_inputs_are_checked()
    {
        new SasRecOptions().Validate();
        Assert.Throws<ArgumentException>(() => new SasRecOptions { Dimensions = 10, Heads = 3 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SasRecOptions { Dropout = 1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SasRecOptions { LearningRate = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SasRecOptions { MaxLength = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SasRecOptions { TimeLimit = TimeSpan.Zero }.Validate());

        var row = new long[4];
        SasRecModule.LeftPad([1, 2, 3, 4, 5, 6], 4, 6, row);
        Assert.Equal([3, 4, 5, 6], row);
        SasRecModule.LeftPad([6], 4, 6, row);
        Assert.Equal([0, 0, 0, 6], row);
        Assert.Throws<ArgumentOutOfRangeException>(() => SasRecModule.LeftPad([7], 4, 6, new long[4]));

        using var module = RandomModule(items: 6, maxLength: 4, dimensions: 4, blocks: 1, heads: 1, seed: 1);
        var scorer = new SasRecTorchScorer(module);
        var scores = new float[2];
        Assert.Throws<ArgumentOutOfRangeException>(() => scorer.Score([1, 2], [3, 7], scores));
        scorer.Score([1, 2], [3, 4], scores);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
    }

    private static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double tolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var scale = Math.Max(1, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }
}
