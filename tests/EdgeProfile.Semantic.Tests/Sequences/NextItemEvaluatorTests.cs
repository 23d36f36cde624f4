using EdgeProfile.Semantic.Sequences;

namespace EdgeProfile.Semantic.Tests.Sequences;

public sealed class NextItemEvaluatorTests
{
    /// <summary>Scores the item that follows the history's last item in a cycle 1→2→…→n→1 highest.</summary>
    private sealed class CycleScorer(int n) : INextItemScorer
    {
        public void Score(ReadOnlySpan<int> history, ReadOnlySpan<int> candidates, Span<float> scores)
        {
            var next = history.IsEmpty ? 1 : history[^1] % n + 1;
            for (var i = 0; i < candidates.Length; i++)
            {
                scores[i] = candidates[i] == next ? 1f : 0f;
            }
        }
    }

    private sealed class ConstantScorer : INextItemScorer
    {
        public void Score(ReadOnlySpan<int> history, ReadOnlySpan<int> candidates, Span<float> scores) => scores.Fill(0.5f);
    }

    private static SequenceDataset Cycles(int users, int items, int length)
    {
        var rng = new Random(7);
        var sequences = new List<int[]>();
        for (var u = 0; u < users; u++)
        {
            var start = rng.Next(1, items + 1);
            sequences.Add([.. Enumerable.Range(0, length).Select(i => (start - 1 + i) % items + 1)]);
        }

        return SequenceDataset.FromSequences(sequences, items);
    }

    [Fact]
    public void Load_reads_user_item_lines_in_order_and_names_a_bad_line()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, ["1 5", "1 3", "2 4", "1 9", "2 1"]);
            var data = SequenceDataset.Load(path);
            Assert.Equal(9, data.ItemCount);
            Assert.Equal([5, 3, 9], data.Sequences[0]);
            Assert.Equal([4, 1], data.Sequences[1]);
            Assert.Equal(1, data.ItemFrequencies()[9]);

            File.WriteAllLines(path, ["1 5", "1 x"]);
            var e = Assert.Throws<InvalidDataException>(() => SequenceDataset.Load(path));
            Assert.Contains(":2:", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Leave_one_out_holds_out_the_last_two_items()
    {
        int[] s = [1, 2, 3, 4, 5];
        Assert.Equal([1, 2, 3], LeaveOneOut.TrainingPrefix(s));
        var (validationHistory, validationTarget) = LeaveOneOut.Case(s, Holdout.Validation);
        Assert.Equal([1, 2, 3], validationHistory);
        Assert.Equal(4, validationTarget);
        var (history, target) = LeaveOneOut.Case(s, Holdout.Test);
        Assert.Equal([1, 2, 3, 4], history);
        Assert.Equal(5, target);
        Assert.Empty(LeaveOneOut.TrainingPrefix([1, 2]));
        Assert.Throws<ArgumentException>(() => LeaveOneOut.Case([1, 2], Holdout.Test));
        Assert.Throws<ArgumentException>(() => SequenceDataset.FromSequences([[0, 1]], 3));
    }

    [Theory]
    [InlineData(CandidateSet.PopularityNegatives)]
    [InlineData(CandidateSet.UniformNegatives)]
    [InlineData(CandidateSet.AllItems)]
    public void A_perfect_scorer_hits_every_target_and_a_constant_one_none(CandidateSet set)
    {
        var data = Cycles(300, 200, 12);
        var perfect = NextItemEvaluator.Evaluate(data, new CycleScorer(200), set);
        Assert.Equal(300, perfect.Users);
        Assert.Equal(1.0, perfect.HitRate1, 9);
        Assert.Equal(1.0, perfect.Ndcg10, 9);
        Assert.Equal(1.0, perfect.Mrr, 9);

        var constant = NextItemEvaluator.Evaluate(data, new ConstantScorer(), set);
        Assert.Equal(0.0, constant.HitRate10, 9);
    }

    [Fact]
    public void Results_do_not_depend_on_threads_and_sampled_protocols_rank_among_101_items()
    {
        var data = Cycles(400, 500, 8);
        var popular = new MostPopularScorer(data);
        var one = NextItemEvaluator.Evaluate(data, popular, CandidateSet.UniformNegatives, threads: 1);
        var two = NextItemEvaluator.Evaluate(data, popular, CandidateSet.UniformNegatives, threads: 2);
        Assert.Equal(one, two);

        // A random permutation scorer ranks the target uniformly among 101 candidates: HR@10 ≈ 10/101.
        var random = NextItemEvaluator.Evaluate(data, new HashScorer(), CandidateSet.UniformNegatives);
        Assert.InRange(random.HitRate10, 0.05, 0.16);

        var limited = NextItemEvaluator.Evaluate(data, popular, CandidateSet.AllItems, maxUsers: 50);
        Assert.Equal(50, limited.Users);
        Assert.EndsWith("/test", limited.Protocol, StringComparison.Ordinal);
    }

    [Fact]
    public void Popularity_negatives_favour_popular_items()
    {
        // Item 1 is in almost every sequence, so the popularity-sampled protocol draws the other popular items often
        // and the most-popular baseline does worse under it than under uniform sampling.
        var rng = new Random(3);
        var sequences = new List<int[]>();
        for (var u = 0; u < 500; u++)
        {
            sequences.Add([.. Enumerable.Range(0, 6).Select(_ => rng.NextDouble() < 0.5 ? rng.Next(2, 12) : rng.Next(12, 1001))]);
        }

        var data = SequenceDataset.FromSequences(sequences, 1000);
        var popular = new MostPopularScorer(data);
        var byPopularity = NextItemEvaluator.Evaluate(data, popular, CandidateSet.PopularityNegatives);
        var uniform = NextItemEvaluator.Evaluate(data, popular, CandidateSet.UniformNegatives);
        Assert.True(byPopularity.HitRate10 < uniform.HitRate10, $"{byPopularity.HitRate10} vs {uniform.HitRate10}");
    }

    private sealed class HashScorer : INextItemScorer
    {
        public void Score(ReadOnlySpan<int> history, ReadOnlySpan<int> candidates, Span<float> scores)
        {
            for (var i = 0; i < candidates.Length; i++)
            {
                scores[i] = (uint)(candidates[i] * 2654435761u ^ (uint)history.Length * 40503u) % 100003;
            }
        }
    }
}
