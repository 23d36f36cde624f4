using System.Numerics;
using System.Runtime.InteropServices;

namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Adds or subtracts many PRG streams to one vector. Work is split into ranges of the vector run in parallel; inside a
/// range every stream is applied one cache-sized chunk at a time, so the accumulator chunk stays in cache while all
/// streams pass over it (memory traffic is one pass over the vector, not one per stream).
/// </summary>
internal static class MaskAccumulator
{
    // 4096 words = 32 KB: an L1-sized slice of the accumulator; 16 chunks per parallel work item.
    private const int ChunkWords = 4096;
    private const int RangeWords = ChunkWords * 16;

    internal readonly record struct MaskStream(SecAggPrg.PrgKey Key, bool Subtract);

    public static void Apply(ulong[] accumulator, IReadOnlyList<MaskStream> streams, int maxDegreeOfParallelism)
    {
        if (streams.Count == 0 || accumulator.Length == 0)
        {
            return;
        }
        var ranges = (accumulator.Length + RangeWords - 1) / RangeWords;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, ranges, options, r =>
        {
            var end = Math.Min(accumulator.Length, (r + 1) * RangeWords);
            for (var start = r * RangeWords; start < end; start += ChunkWords)
            {
                var chunk = accumulator.AsSpan(start, Math.Min(ChunkWords, end - start));
                foreach (var stream in streams)
                {
                    SecAggPrg.Apply(stream.Key, chunk, start, stream.Subtract);
                }
            }
        });
    }

    /// <summary><c>accumulator += values</c> (mod 2^64), vectorised and split across cores.</summary>
    public static void AddInto(ulong[] accumulator, ulong[] values, int maxDegreeOfParallelism)
    {
        if (values.Length != accumulator.Length)
        {
            throw new ArgumentException($"{values.Length} values for an accumulator of {accumulator.Length}");
        }
        var ranges = (accumulator.Length + RangeWords - 1) / RangeWords;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, ranges, options, r =>
        {
            var start = r * RangeWords;
            var length = Math.Min(RangeWords, accumulator.Length - start);
            AddSpan(accumulator.AsSpan(start, length), values.AsSpan(start, length));
        });
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void AddSpan(Span<ulong> accumulator, ReadOnlySpan<ulong> values)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var acc = MemoryMarshal.Cast<ulong, Vector<ulong>>(accumulator);
            var val = MemoryMarshal.Cast<ulong, Vector<ulong>>(values);
            for (var v = 0; v < acc.Length; v++)
            {
                acc[v] += val[v];
            }
            i = acc.Length * Vector<ulong>.Count;
        }
        for (; i < accumulator.Length; i++)
        {
            accumulator[i] = unchecked(accumulator[i] + values[i]);
        }
    }
}
