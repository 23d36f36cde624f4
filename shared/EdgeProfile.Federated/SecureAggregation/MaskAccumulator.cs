using System.Numerics;
using System.Runtime.InteropServices;

namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Adds or subtracts many PRG streams to one vector of ring elements (little-endian bytes, 4 or 8 per element). Work is
/// split into ranges of the vector run in parallel; inside a range every stream is applied one cache-sized chunk at a
/// time, so the accumulator chunk stays in cache while all streams pass over it (memory traffic is one pass over the
/// vector, not one per stream).
/// </summary>
internal static class MaskAccumulator
{
    // 32 KB: an L1-sized slice of the accumulator; 16 chunks per parallel work item.
    private const int ChunkBytes = 32 * 1024;
    private const int RangeBytes = ChunkBytes * 16;

    internal readonly record struct MaskStream(SecAggPrg.PrgKey Key, bool Subtract);

    public static void Apply(byte[] accumulator, IReadOnlyList<MaskStream> streams, int ringBits, int maxDegreeOfParallelism)
    {
        if (streams.Count == 0 || accumulator.Length == 0)
        {
            return;
        }
        var ranges = (accumulator.Length + RangeBytes - 1) / RangeBytes;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, ranges, options, r =>
        {
            var end = Math.Min(accumulator.Length, (r + 1) * RangeBytes);
            for (var start = r * RangeBytes; start < end; start += ChunkBytes)
            {
                var chunk = accumulator.AsSpan(start, Math.Min(ChunkBytes, end - start));
                foreach (var stream in streams)
                {
                    SecAggPrg.Apply(stream.Key, chunk, start, stream.Subtract, ringBits);
                }
            }
        });
    }

    /// <summary><c>accumulator += values</c> element-wise in the ring of <paramref name="ringBits"/> bits, vectorised and
    /// split across cores.</summary>
    public static void AddInto(byte[] accumulator, byte[] values, int ringBits, int maxDegreeOfParallelism)
    {
        if (values.Length != accumulator.Length)
        {
            throw new ArgumentException($"{values.Length} bytes of values for an accumulator of {accumulator.Length}");
        }
        var ranges = (accumulator.Length + RangeBytes - 1) / RangeBytes;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, ranges, options, r =>
        {
            var start = r * RangeBytes;
            var length = Math.Min(RangeBytes, accumulator.Length - start);
            if (ringBits == 64)
            {
                AddSpan(MemoryMarshal.Cast<byte, ulong>(accumulator.AsSpan(start, length)), MemoryMarshal.Cast<byte, ulong>(values.AsSpan(start, length)));
            }
            else
            {
                AddSpan(MemoryMarshal.Cast<byte, uint>(accumulator.AsSpan(start, length)), MemoryMarshal.Cast<byte, uint>(values.AsSpan(start, length)));
            }
        });
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void AddSpan<T>(Span<T> accumulator, ReadOnlySpan<T> values)
        where T : unmanaged, IBinaryInteger<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var acc = MemoryMarshal.Cast<T, Vector<T>>(accumulator);
            var val = MemoryMarshal.Cast<T, Vector<T>>(values);
            for (var v = 0; v < acc.Length; v++)
            {
                acc[v] += val[v];
            }
            i = acc.Length * Vector<T>.Count;
        }
        for (; i < accumulator.Length; i++)
        {
            accumulator[i] = unchecked(accumulator[i] + values[i]);
        }
    }
}
