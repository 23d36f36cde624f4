namespace EdgeProfile.Semantic.Sequences;

/// <summary>Which items a held-out target is ranked against.</summary>
public enum CandidateSet
{
    /// <summary>100 (or <c>negatives</c>) items the user never touched, sampled in proportion to their popularity
    /// (BERT4Rec's protocol).</summary>
    PopularityNegatives,

    /// <summary>100 (or <c>negatives</c>) items the user never touched, sampled uniformly (SASRec's protocol).</summary>
    UniformNegatives,

    /// <summary>Every item except those already in the history (full ranking; the sampled protocols overstate it).</summary>
    AllItems,
}

/// <summary>Ranking quality of one scorer under one protocol.</summary>
/// <param name="Protocol">The candidate set and holdout, e.g. <c>popularity-100/test</c>.</param>
/// <param name="Users">Users evaluated (those with at least three items, up to the limit).</param>
/// <param name="HitRate1">Share of users whose target ranks first.</param>
/// <param name="HitRate5">Share whose target ranks in the top 5.</param>
/// <param name="HitRate10">Share whose target ranks in the top 10.</param>
/// <param name="Ndcg5">Mean NDCG@5 (one relevant item: 1/log2(rank+2) when in the top 5).</param>
/// <param name="Ndcg10">Mean NDCG@10.</param>
/// <param name="Mrr">Mean reciprocal rank over the whole candidate list.</param>
public sealed record RankingMetrics(string Protocol, int Users, double HitRate1, double HitRate5, double HitRate10, double Ndcg5, double Ndcg10, double Mrr);

/// <summary>
/// Leave-one-out next-item evaluation as the SASRec and BERT4Rec papers do it. The target's rank is the number of other
/// candidates scoring at least as high (ties count against the model, so a constant scorer gets nothing). Negatives
/// are distinct items outside the user's whole sequence, drawn with a per-user generator seeded from
/// <c>seed</c> and the user's index, so the result does not depend on the thread count.
/// </summary>
public static class NextItemEvaluator
{
    /// <summary>Evaluates <paramref name="scorer"/>; with <paramref name="threads"/> &gt; 1 it must be thread-safe.</summary>
    public static RankingMetrics Evaluate(
        SequenceDataset data,
        INextItemScorer scorer,
        CandidateSet candidates,
        Holdout holdout = Holdout.Test,
        int negatives = 100,
        int seed = 42,
        int maxUsers = int.MaxValue,
        int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentOutOfRangeException.ThrowIfLessThan(negatives, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxUsers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);

        var users = Enumerable.Range(0, data.Sequences.Count).Where(u => data.Sequences[u].Length >= 3).ToArray();
        if (maxUsers < users.Length)
        {
            new Random(seed).Shuffle(users);
            users = users[..maxUsers];
            Array.Sort(users);
        }

        var sampler = candidates switch
        {
            CandidateSet.PopularityNegatives => new NegativeSampler(data.ItemFrequencies()),
            CandidateSet.UniformNegatives => new NegativeSampler(null, data.ItemCount),
            _ => null,
        };
        if (sampler is not null && negatives > data.ItemCount - 1)
        {
            throw new ArgumentException($"{negatives} negatives need more than {data.ItemCount} items", nameof(negatives));
        }

        var ranks = new int[users.Length];
        var sizes = new int[users.Length];
        void EvaluateRange(int from, int to)
        {
            var seen = new HashSet<int>();
            var list = new List<int>();
            var scores = Array.Empty<float>();
            for (var i = from; i < to; i++)
            {
                var u = users[i];
                var sequence = data.Sequences[u];
                var (history, target) = LeaveOneOut.Case(sequence, holdout);
                list.Clear();
                list.Add(target);
                seen.Clear();
                if (sampler is not null)
                {
                    foreach (var item in sequence)
                    {
                        seen.Add(item);
                    }

                    var rng = new Random(unchecked((seed * 1_000_003) + u)); // not HashCode: it is randomised per process
                    while (list.Count <= negatives)
                    {
                        var item = sampler.Next(rng);
                        if (seen.Add(item))
                        {
                            list.Add(item);
                        }
                    }
                }
                else
                {
                    foreach (var item in history)
                    {
                        seen.Add(item);
                    }

                    seen.Remove(target);
                    for (var item = 1; item <= data.ItemCount; item++)
                    {
                        if (item != target && !seen.Contains(item))
                        {
                            list.Add(item);
                        }
                    }
                }

                if (scores.Length < list.Count)
                {
                    scores = new float[list.Count];
                }

                var span = scores.AsSpan(0, list.Count);
                scorer.Score(history, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list), span);
                var t = span[0];
                var rank = 0;
                if (float.IsNaN(t))
                {
                    rank = list.Count - 1;
                }
                else
                {
                    for (var j = 1; j < span.Length; j++)
                    {
                        if (span[j] >= t || float.IsNaN(span[j]))
                        {
                            rank++;
                        }
                    }
                }

                ranks[i] = rank;
                sizes[i] = list.Count;
            }
        }

        if (threads == 1 || users.Length < 2 * threads)
        {
            EvaluateRange(0, users.Length);
        }
        else
        {
            var chunk = (users.Length + threads - 1) / threads;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                EvaluateRange(t * chunk, Math.Min(users.Length, (t + 1) * chunk)));
        }

        double hr1 = 0, hr5 = 0, hr10 = 0, ndcg5 = 0, ndcg10 = 0, mrr = 0;
        foreach (var rank in ranks)
        {
            var gain = 1.0 / Math.Log2(rank + 2);
            hr1 += rank < 1 ? 1 : 0;
            hr5 += rank < 5 ? 1 : 0;
            hr10 += rank < 10 ? 1 : 0;
            ndcg5 += rank < 5 ? gain : 0;
            ndcg10 += rank < 10 ? gain : 0;
            mrr += 1.0 / (rank + 1);
        }

        var n = Math.Max(1, ranks.Length);
        var name = candidates switch
        {
            CandidateSet.PopularityNegatives => $"popularity-{negatives}",
            CandidateSet.UniformNegatives => $"uniform-{negatives}",
            _ => "all-items",
        } + (holdout == Holdout.Test ? "/test" : "/validation");
        return new RankingMetrics(name, ranks.Length, hr1 / n, hr5 / n, hr10 / n, ndcg5 / n, ndcg10 / n, mrr / n);
    }

    /// <summary>Draws item ids in proportion to weights (cumulative table and binary search) or uniformly.</summary>
    private sealed class NegativeSampler
    {
        private readonly double[]? cumulative;
        private readonly int itemCount;

        public NegativeSampler(long[]? frequencies, int itemCount = 0)
        {
            if (frequencies is null)
            {
                this.itemCount = itemCount;
                return;
            }

            this.itemCount = frequencies.Length - 1;
            cumulative = new double[frequencies.Length];
            double sum = 0;
            for (var i = 1; i < frequencies.Length; i++)
            {
                sum += frequencies[i];
                cumulative[i] = sum;
            }
        }

        public int Next(Random rng)
        {
            if (cumulative is null || cumulative[^1] <= 0)
            {
                return rng.Next(1, itemCount + 1);
            }

            var x = rng.NextDouble() * cumulative[^1];
            var i = Array.BinarySearch(cumulative, 1, itemCount, x);
            i = i < 0 ? ~i : i + 1;
            return Math.Clamp(i, 1, itemCount);
        }
    }
}
