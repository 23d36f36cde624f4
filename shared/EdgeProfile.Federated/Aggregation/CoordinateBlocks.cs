using System.Numerics;
using System.Runtime.InteropServices;

namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// A statistic of <see cref="Vector{T}.Count"/> coordinates at once from their client values, each lane sorted
/// ascending across <paramref name="sorted"/> (lane i of <c>sorted[k]</c> is the k-th smallest value of coordinate i).
/// </summary>
internal delegate Vector<float> SortedStatistic(ReadOnlySpan<Vector<float>> sorted);

/// <summary>
/// Shared machinery of the combiners: coordinate blocks processed in parallel, a per-thread scratch that holds a block
/// transposed (coordinate-major, so each coordinate's client values are contiguous), and a vectorised weighted sum.
/// </summary>
internal static class CoordinateBlocks
{
    /// <summary>Vector-wide coordinate groups per parallel task of a sorted statistic.</summary>
    internal const int GroupsPerTask = 256;

    /// <summary>Coordinates per block of a weighted sum: the 128 KB destination block stays in L2 while every source
    /// streams 128 KB into it (with 32 KB blocks the sources' short runs kept FedAvg at ~1.6× a memcpy of the same bytes,
    /// with 128 KB ~1.0×: bench-fl-aggregation).</summary>
    internal const int SumBlock = 32768;

    internal static int CommonLength(IReadOnlyList<ClientUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        if (updates.Count == 0)
        {
            throw new ArgumentException("no updates to combine", nameof(updates));
        }
        var length = updates[0].Delta.Length;
        foreach (var update in updates)
        {
            if (update.Delta.Length != length)
            {
                throw new ArgumentException($"client {update.ClientId}: {update.Delta.Length} parameters, the first update has {length}", nameof(updates));
            }
        }
        return length;
    }

    /// <summary>
    /// <c>result[c] = statistic(values of coordinate c across the updates, sorted)</c>, for order statistics (median,
    /// trimmed mean). Sorts <see cref="Vector{T}.Count"/> coordinates at once with a sorting network (Batcher's odd–even
    /// merge sort, pruned to n inputs) of SIMD min/max operations: branch-free, no transpose (the lanes are adjacent
    /// coordinates of one update), and no allocation per coordinate, only one n-vector scratch per worker thread.
    /// </summary>
    internal static float[] PerCoordinateSorted(IReadOnlyList<ClientUpdate> updates, SortedStatistic statistic)
    {
        var length = CommonLength(updates);
        var n = updates.Count;
        var deltas = updates.Select(u => u.Delta).ToArray();
        var network = SortingNetwork(n);
        var width = Vector<float>.Count;
        var groups = (length + width - 1) / width;
        var tasks = (groups + GroupsPerTask - 1) / GroupsPerTask;
        var result = new float[length];
        Parallel.For(
            0,
            tasks,
            () => new Vector<float>[n],
            (task, _, lanes) =>
            {
                var tail = new float[width];
                var last = Math.Min(groups, (task + 1) * GroupsPerTask);
                for (var g = task * GroupsPerTask; g < last; g++)
                {
                    var c = g * width;
                    var count = Math.Min(width, length - c);
                    for (var k = 0; k < n; k++)
                    {
                        if (count == width)
                        {
                            lanes[k] = new Vector<float>(deltas[k], c);
                        }
                        else
                        {
                            Array.Clear(tail);
                            Array.Copy(deltas[k], c, tail, 0, count);
                            lanes[k] = new Vector<float>(tail);
                        }
                    }
                    for (var p = 0; p < network.Length; p += 2)
                    {
                        var lo = network[p];
                        var hi = network[p + 1];
                        var a = lanes[lo];
                        var b = lanes[hi];
                        lanes[lo] = Vector.Min(a, b);
                        lanes[hi] = Vector.Max(a, b);
                    }
                    var value = statistic(lanes);
                    if (count == width)
                    {
                        value.CopyTo(result, c);
                    }
                    else
                    {
                        value.CopyTo(tail);
                        Array.Copy(tail, 0, result, c, count);
                    }
                }
                return lanes;
            },
            _ => { });
        return result;
    }

    /// <summary>
    /// Comparators (pairs <c>lo, hi</c>, flattened) of Batcher's odd–even merge sort for the next power of two ≥
    /// <paramref name="n"/>, keeping only those between the first n wires: the missing inputs act as +∞, which no
    /// comparator moves, so every comparator touching them is a no-op.
    /// </summary>
    internal static int[] SortingNetwork(int n)
    {
        var size = 1;
        while (size < n)
        {
            size <<= 1;
        }
        var pairs = new List<int>();
        for (var p = 1; p < size; p <<= 1)
        {
            for (var k = p; k >= 1; k >>= 1)
            {
                for (var j = k % p; j <= size - 1 - k; j += 2 * k)
                {
                    for (var i = 0; i <= Math.Min(k - 1, size - j - k - 1); i++)
                    {
                        var lo = i + j;
                        var hi = i + j + k;
                        if (lo / (2 * p) == hi / (2 * p) && hi < n)
                        {
                            pairs.Add(lo);
                            pairs.Add(hi);
                        }
                    }
                }
            }
        }
        return pairs.ToArray();
    }

    /// <summary>
    /// <c>Σ_k weights[k] · updates[k]</c> in float, over contiguous blocks with <see cref="Vector{T}"/> arithmetic and
    /// <see cref="Parallel.For(int, int, Action{int})"/>: each update is streamed once, the block's sum stays in cache.
    /// </summary>
    internal static float[] WeightedSum(IReadOnlyList<float[]> vectors, ReadOnlySpan<float> weights)
    {
        var length = vectors[0].Length;
        var result = new float[length];
        var w = weights.ToArray();
        var blocks = (length + SumBlock - 1) / SumBlock;
        Parallel.For(0, blocks, block =>
        {
            var start = block * SumBlock;
            var count = Math.Min(SumBlock, length - start);
            var destination = result.AsSpan(start, count);
            Scale(vectors[0].AsSpan(start, count), w[0], destination);
            var k = 1;
            // Four sources per pass over the destination block: a quarter of the loads and stores to it.
            for (; k + 3 < vectors.Count; k += 4)
            {
                AddScaled4(
                    vectors[k].AsSpan(start, count),
                    vectors[k + 1].AsSpan(start, count),
                    vectors[k + 2].AsSpan(start, count),
                    vectors[k + 3].AsSpan(start, count),
                    w.AsSpan(k, 4),
                    destination);
            }
            for (; k < vectors.Count; k++)
            {
                AddScaled(vectors[k].AsSpan(start, count), w[k], destination);
            }
        });
        return result;
    }

    /// <summary><c>destination = weight · source</c>.</summary>
    internal static void Scale(ReadOnlySpan<float> source, float weight, Span<float> destination)
    {
        var vs = MemoryMarshal.Cast<float, Vector<float>>(source);
        var vd = MemoryMarshal.Cast<float, Vector<float>>(destination);
        var vw = new Vector<float>(weight);
        for (var i = 0; i < vs.Length; i++)
        {
            vd[i] = vs[i] * vw;
        }
        for (var i = vs.Length * Vector<float>.Count; i < source.Length; i++)
        {
            destination[i] = source[i] * weight;
        }
    }

    /// <summary><c>destination += Σ weights[i] · source_i</c> for four sources.</summary>
    internal static void AddScaled4(
        ReadOnlySpan<float> s0,
        ReadOnlySpan<float> s1,
        ReadOnlySpan<float> s2,
        ReadOnlySpan<float> s3,
        ReadOnlySpan<float> weights,
        Span<float> destination)
    {
        var v0 = MemoryMarshal.Cast<float, Vector<float>>(s0);
        var v1 = MemoryMarshal.Cast<float, Vector<float>>(s1);
        var v2 = MemoryMarshal.Cast<float, Vector<float>>(s2);
        var v3 = MemoryMarshal.Cast<float, Vector<float>>(s3);
        var vd = MemoryMarshal.Cast<float, Vector<float>>(destination);
        var w0 = new Vector<float>(weights[0]);
        var w1 = new Vector<float>(weights[1]);
        var w2 = new Vector<float>(weights[2]);
        var w3 = new Vector<float>(weights[3]);
        var n = Math.Min(Math.Min(v0.Length, v1.Length), Math.Min(Math.Min(v2.Length, v3.Length), vd.Length));
        for (var i = 0; i < n; i++)
        {
            vd[i] += (v0[i] * w0) + (v1[i] * w1) + (v2[i] * w2) + (v3[i] * w3);
        }
        for (var i = n * Vector<float>.Count; i < destination.Length; i++)
        {
            destination[i] += (s0[i] * weights[0]) + (s1[i] * weights[1]) + (s2[i] * weights[2]) + (s3[i] * weights[3]);
        }
    }

    /// <summary><c>destination += weight · source</c>.</summary>
    internal static void AddScaled(ReadOnlySpan<float> source, float weight, Span<float> destination)
    {
        var vs = MemoryMarshal.Cast<float, Vector<float>>(source);
        var vd = MemoryMarshal.Cast<float, Vector<float>>(destination);
        var vw = new Vector<float>(weight);
        for (var i = 0; i < vs.Length; i++)
        {
            vd[i] += vs[i] * vw;
        }
        for (var i = vs.Length * Vector<float>.Count; i < source.Length; i++)
        {
            destination[i] += source[i] * weight;
        }
    }

    /// <summary>Sample-weighted mean (FedAvg) of the given updates.</summary>
    internal static float[] SampleWeightedMean(IReadOnlyList<ClientUpdate> updates)
    {
        double total = 0;
        foreach (var update in updates)
        {
            total += update.Samples;
        }
        var weights = new float[updates.Count];
        for (var k = 0; k < weights.Length; k++)
        {
            weights[k] = (float)(updates[k].Samples / total);
        }
        return WeightedSum(updates.Select(u => u.Delta).ToArray(), weights);
    }
}
