using System.Numerics;
using System.Runtime.InteropServices;

namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// Krum and Multi-Krum (Blanchard et al., NeurIPS 2017). With <c>f</c> clients assumed Byzantine, each update's score
/// is the sum of its squared Euclidean distances to its <c>n − f − 2</c> nearest other updates; Krum returns the update
/// with the lowest score, Multi-Krum the mean of the <c>m</c> lowest. The formal guarantee needs <c>n &gt; 2f + 2</c>;
/// the rule only refuses inputs where the score is undefined (<c>n − f − 2 &lt; 1</c>).
/// <para>
/// Multi-Krum averages its selection <b>sample-weighted</b> (as FedAvg) by default, or plainly with
/// <c>weightBySamples: false</c> (as in the paper, which has no sample counts). Updates not selected are reported in
/// <see cref="CombinedUpdate.Rejected"/>. Ties in score go to the earlier update, so the result is deterministic.
/// </para>
/// <para>
/// Cost: the n(n−1)/2 distances are computed over coordinate blocks that stay in cache (every update is read from memory
/// once), in parallel over blocks; O(n²·d) arithmetic.
/// </para>
/// </summary>
public sealed class KrumCombiner : IUpdateCombiner
{
    private const int DistanceBlock = 2048;

    /// <summary>
    /// Creates Krum (<paramref name="select"/> = 1) or Multi-Krum (<paramref name="select"/> = m &gt; 1, or null for
    /// <c>m = n − f</c>, the paper's choice) assuming <paramref name="byzantineClients"/> Byzantine clients.
    /// </summary>
    public KrumCombiner(int byzantineClients, int? select = 1, bool weightBySamples = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byzantineClients);
        if (select is { } m)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(m, 1, nameof(select));
        }
        ByzantineClients = byzantineClients;
        Select = select;
        WeightBySamples = weightBySamples;
    }

    /// <summary>f: the number of Byzantine clients assumed.</summary>
    public int ByzantineClients { get; }

    /// <summary>m: how many of the best-scored updates are averaged (null: n − f).</summary>
    public int? Select { get; }

    /// <summary>Whether Multi-Krum weights its selection by sample count (true) or averages it plainly.</summary>
    public bool WeightBySamples { get; }

    /// <inheritdoc/>
    public string Name => Select == 1 ? "krum" : "multi-krum";

    /// <inheritdoc/>
    public CombinedUpdate Combine(IReadOnlyList<ClientUpdate> updates)
    {
        CoordinateBlocks.CommonLength(updates);
        var n = updates.Count;
        var scores = Scores(updates, ByzantineClients);
        var m = Math.Min(Select ?? (n - ByzantineClients), n);
        var order = Enumerable.Range(0, n).OrderBy(i => scores[i]).ThenBy(i => i).ToArray();
        var chosen = order[..m].Order().Select(i => updates[i]).ToArray();
        var rejected = order[m..].Order().Select(i => updates[i].ClientId).ToArray();
        float[] delta;
        if (chosen.Length == 1)
        {
            delta = (float[])chosen[0].Delta.Clone();
        }
        else if (WeightBySamples)
        {
            delta = CoordinateBlocks.SampleWeightedMean(chosen);
        }
        else
        {
            var w = new float[chosen.Length];
            Array.Fill(w, 1f / chosen.Length);
            delta = CoordinateBlocks.WeightedSum(chosen.Select(u => u.Delta).ToArray(), w);
        }
        return new CombinedUpdate(delta, chosen.Select(u => u.ClientId).ToArray(), rejected);
    }

    /// <summary>Krum score of every update: the sum of squared distances to its n − f − 2 nearest others.</summary>
    public static double[] Scores(IReadOnlyList<ClientUpdate> updates, int byzantineClients)
    {
        var n = updates.Count;
        var neighbours = n - byzantineClients - 2;
        if (neighbours < 1)
        {
            throw new ArgumentException($"Krum with f = {byzantineClients} needs at least {byzantineClients + 3} updates, got {n}", nameof(updates));
        }
        var distances = SquaredDistances(updates);
        var scores = new double[n];
        var row = new double[n - 1];
        for (var i = 0; i < n; i++)
        {
            var c = 0;
            for (var j = 0; j < n; j++)
            {
                if (j != i)
                {
                    row[c++] = distances[(i * n) + j];
                }
            }
            Array.Sort(row);
            double score = 0;
            for (var j = 0; j < neighbours; j++)
            {
                score += row[j];
            }
            scores[i] = score;
        }
        return scores;
    }

    /// <summary>Row-major n × n matrix of squared Euclidean distances between the updates.</summary>
    public static double[] SquaredDistances(IReadOnlyList<ClientUpdate> updates)
    {
        var length = CoordinateBlocks.CommonLength(updates);
        var n = updates.Count;
        var total = new double[n * n];
        var gate = new object();
        var blocks = (length + DistanceBlock - 1) / DistanceBlock;
        Parallel.For(
            0,
            blocks,
            () => new double[n * n],
            (block, _, local) =>
            {
                var start = block * DistanceBlock;
                var count = Math.Min(DistanceBlock, length - start);
                for (var i = 0; i < n; i++)
                {
                    var a = updates[i].Delta.AsSpan(start, count);
                    for (var j = i + 1; j < n; j++)
                    {
                        local[(i * n) + j] += SquaredDistance(a, updates[j].Delta.AsSpan(start, count));
                    }
                }
                return local;
            },
            local =>
            {
                lock (gate)
                {
                    for (var i = 0; i < local.Length; i++)
                    {
                        total[i] += local[i];
                    }
                }
            });
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                total[(j * n) + i] = total[(i * n) + j];
            }
        }
        return total;
    }

    // A block is at most 2048 floats, so a float accumulator per lane loses nothing that matters; blocks add in double.
    private static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var va = MemoryMarshal.Cast<float, Vector<float>>(a);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
        var acc = Vector<float>.Zero;
        for (var i = 0; i < va.Length; i++)
        {
            var d = va[i] - vb[i];
            acc += d * d;
        }
        double sum = Vector.Sum(acc);
        for (var i = va.Length * Vector<float>.Count; i < a.Length; i++)
        {
            double d = a[i] - b[i];
            sum += d * d;
        }
        return sum;
    }
}
