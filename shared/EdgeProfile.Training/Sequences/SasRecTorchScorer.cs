using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;
using EdgeProfile.Semantic.Sequences;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Sequences;

/// <summary>
/// Next-item scores of a trained <see cref="SasRecModule"/> for <see cref="NextItemEvaluator"/>: score(item) =
/// hidden(history) · E[item], the specification's <c>scores</c>. The customer embedding (hidden) comes from a torch
/// forward in evaluation mode without gradients; the dot products are done in C# against a copy of the item embedding
/// taken at construction, so do not train the module further while scoring. <see cref="Precompute"/> runs many
/// histories through the module in batches and caches their hidden vectors, which makes evaluating tens of thousands
/// of users fast; a history not precomputed costs one single-row forward (and is not cached, so memory stays bounded).
/// Thread-safe: the cache is concurrent and torch calls are serialised.
/// </summary>
public sealed class SasRecTorchScorer : INextItemScorer
{
    private readonly SasRecModule module;
    private readonly float[] items;
    private readonly int dimensions;
    private readonly int batchSize;
    private readonly ConcurrentDictionary<int[], float[]> cache = new(HistoryComparer.Instance);
    private readonly Lock torchLock = new();

    /// <summary>Wraps <paramref name="module"/> (put in evaluation mode; not owned, the caller disposes it).</summary>
    public SasRecTorchScorer(SasRecModule module, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        this.module = module;
        this.batchSize = batchSize;
        dimensions = module.Dimensions;
        module.eval();
        items = SasRecModule.Read(module.ItemEmbedding);
        Array.Clear(items, 0, dimensions);
    }

    /// <summary>Items the model knows (ids 1..ItemCount).</summary>
    public int ItemCount => module.ItemCount;

    /// <summary>Histories whose hidden vector is cached.</summary>
    public int CachedHistories => cache.Count;

    /// <inheritdoc/>
    public void Score(ReadOnlySpan<int> history, ReadOnlySpan<int> candidates, Span<float> scores)
    {
        if (scores.Length < candidates.Length)
        {
            throw new ArgumentException($"{scores.Length} scores for {candidates.Length} candidates", nameof(scores));
        }
        var key = Key(history);
        if (!cache.TryGetValue(key, out var hidden))
        {
            hidden = Embed([key])[0];
        }
        var h = hidden.AsSpan();
        for (var i = 0; i < candidates.Length; i++)
        {
            var c = candidates[i];
            if (c < 0 || c > module.ItemCount)
            {
                throw new ArgumentOutOfRangeException(nameof(candidates), c, $"item ids are 1..{module.ItemCount}");
            }
            scores[i] = Dot(h, items.AsSpan(c * dimensions, dimensions));
        }
    }

    /// <summary>
    /// Runs <paramref name="histories"/> through the module in batches and caches their hidden vectors for
    /// <see cref="Score"/>. Returns how many histories were computed (those already cached are skipped).
    /// </summary>
    public int Precompute(IEnumerable<int[]> histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        var pending = histories.Select(h => Key(h)).Distinct(HistoryComparer.Instance).Where(k => !cache.ContainsKey(k)).ToList();
        for (var start = 0; start < pending.Count; start += batchSize)
        {
            var batch = pending.GetRange(start, Math.Min(batchSize, pending.Count - start));
            var hidden = Embed(batch);
            for (var i = 0; i < batch.Count; i++)
            {
                cache[batch[i]] = hidden[i];
            }
        }
        return pending.Count;
    }

    /// <summary>Forgets every cached hidden vector.</summary>
    public void ClearCache() => cache.Clear();

    /// <summary>The customer embedding (hidden, d values) of each history, computed in batches (nothing cached).</summary>
    public float[][] Embed(IReadOnlyList<int[]> histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        var result = new float[histories.Count][];
        for (var start = 0; start < histories.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, histories.Count - start);
            var batch = Enumerable.Range(start, count).Select(i => histories[i]).ToArray();
            float[] flat;
            lock (torchLock)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var ids = module.Ids(batch);
                var (h, _) = module.Encode(ids);
                flat = h.select(1, module.MaxLength - 1).contiguous().data<float>().ToArray();
            }
            for (var i = 0; i < count; i++)
            {
                result[start + i] = flat.AsSpan(i * dimensions, dimensions).ToArray();
            }
        }
        return result;
    }

    /// <summary>
    /// Full-ranking ranks of <paramref name="targets"/> after <paramref name="histories"/>, computed in torch in batches
    /// (the module's current weights, evaluation mode, no gradients): rank = the number of other items scoring at least
    /// as high as the target, over every item except padding and the history's items (the target always stays) — the
    /// same rank <see cref="NextItemEvaluator"/> gives with <see cref="CandidateSet.AllItems"/>. The module's training
    /// mode is restored afterwards.
    /// </summary>
    public static int[] FullRankingRanks(SasRecModule module, IReadOnlyList<int[]> histories, IReadOnlyList<int> targets, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (histories.Count != targets.Count)
        {
            throw new ArgumentException($"{histories.Count} histories for {targets.Count} targets", nameof(targets));
        }
        var wasTraining = module.training;
        module.eval();
        try
        {
            var ranks = new int[histories.Count];
            for (var start = 0; start < histories.Count; start += batchSize)
            {
                var count = Math.Min(batchSize, histories.Count - start);
                var batch = Enumerable.Range(start, count).Select(i => histories[i]).ToArray();
                var width = Math.Max(1, batch.Max(h => h.Length));
                var seen = new long[count * width];
                var target = new long[count];
                for (var i = 0; i < count; i++)
                {
                    for (var j = 0; j < batch[i].Length; j++)
                    {
                        seen[(i * width) + j] = batch[i][j];
                    }
                    target[i] = targets[start + i];
                    if (target[i] < 1 || target[i] > module.ItemCount)
                    {
                        throw new ArgumentOutOfRangeException(nameof(targets), target[i], $"item ids are 1..{module.ItemCount}");
                    }
                }
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var ids = module.Ids(batch);
                var (_, scores, _) = module.Infer(ids);
                var targetIndex = tensor(target).unsqueeze(1);
                var targetScore = scores.gather(1, targetIndex);
                // Padding (column 0, also where the history index is padded), the history's items and the target itself are
                // not "other candidates".
                var seenIndex = tensor(seen, [count, width]);
                scores.scatter_(1, seenIndex, full_like(seenIndex, float.NegativeInfinity, ScalarType.Float32));
                scores.scatter_(1, targetIndex, full_like(targetIndex, float.NegativeInfinity, ScalarType.Float32));
                var better = scores.ge(targetScore).sum(1, type: ScalarType.Int64);
                var counts = better.data<long>().ToArray();
                for (var i = 0; i < count; i++)
                {
                    ranks[start + i] = (int)counts[i];
                }
            }
            return ranks;
        }
        finally
        {
            module.train(wasTraining);
        }
    }

    /// <summary>The metrics of <see cref="NextItemEvaluator"/> (HR@k = rank &lt; k, NDCG@k = 1/log2(rank + 2), MRR) from ranks.</summary>
    public static RankingMetrics Metrics(string protocol, IReadOnlyList<int> ranks)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(ranks);
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
        var n = Math.Max(1, ranks.Count);
        return new RankingMetrics(protocol, ranks.Count, hr1 / n, hr5 / n, hr10 / n, ndcg5 / n, ndcg10 / n, mrr / n);
    }

    private int[] Key(ReadOnlySpan<int> history)
    {
        var kept = history.Length > module.MaxLength ? history[^module.MaxLength..] : history;
        foreach (var item in kept)
        {
            if (item < 1 || item > module.ItemCount)
            {
                throw new ArgumentOutOfRangeException(nameof(history), item, $"item ids are 1..{module.ItemCount}");
            }
        }
        return kept.ToArray();
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            sum += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        }
        var result = Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            result += a[i] * b[i];
        }
        return result;
    }

    /// <summary>Compares histories by content.</summary>
    private sealed class HistoryComparer : IEqualityComparer<int[]>
    {
        public static readonly HistoryComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(int[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(MemoryMarshal.AsBytes(obj.AsSpan()));
            return hash.ToHashCode();
        }
    }
}
