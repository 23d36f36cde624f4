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

    /// <summary><c>accumulator += Σ values</c> element-wise in the ring of <paramref name="ringBits"/> bits, vectorised
    /// and split across cores; the sources are added in groups of four per pass over the accumulator.</summary>
    public static void AddInto(byte[] accumulator, IReadOnlyList<byte[]> values, int ringBits, int maxDegreeOfParallelism)
    {
        foreach (var v in values)
        {
            if (v.Length != accumulator.Length)
            {
                throw new ArgumentException($"{v.Length} bytes of values for an accumulator of {accumulator.Length}");
            }
        }
        if (values.Count == 0)
        {
            return;
        }
        var ranges = (accumulator.Length + RangeBytes - 1) / RangeBytes;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, ranges, options, r =>
        {
            var start = r * RangeBytes;
            var length = Math.Min(RangeBytes, accumulator.Length - start);
            if (ringBits == 64)
            {
                AddRange<ulong>(accumulator.AsSpan(start, length), values, start);
            }
            else
            {
                AddRange<uint>(accumulator.AsSpan(start, length), values, start);
            }
        });
    }

    private static void AddRange<T>(Span<byte> accumulator, IReadOnlyList<byte[]> values, int start)
        where T : unmanaged, IBinaryInteger<T>
    {
        var acc = MemoryMarshal.Cast<byte, T>(accumulator);
        var length = accumulator.Length;
        ReadOnlySpan<T> Source(int k) => MemoryMarshal.Cast<byte, T>(values[k].AsSpan(start, length));
        var k = 0;
        for (; k + 3 < values.Count; k += 4)
        {
            AddSpan4(acc, Source(k), Source(k + 1), Source(k + 2), Source(k + 3));
        }
        for (; k < values.Count; k++)
        {
            AddSpan(acc, Source(k));
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void AddSpan4<T>(Span<T> accumulator, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, ReadOnlySpan<T> d)
        where T : unmanaged, IBinaryInteger<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var acc = MemoryMarshal.Cast<T, Vector<T>>(accumulator);
            var va = MemoryMarshal.Cast<T, Vector<T>>(a);
            var vb = MemoryMarshal.Cast<T, Vector<T>>(b);
            var vc = MemoryMarshal.Cast<T, Vector<T>>(c);
            var vd = MemoryMarshal.Cast<T, Vector<T>>(d);
            for (var v = 0; v < acc.Length; v++)
            {
                acc[v] += (va[v] + vb[v]) + (vc[v] + vd[v]);
            }
            i = acc.Length * Vector<T>.Count;
        }
        for (; i < accumulator.Length; i++)
        {
            accumulator[i] = unchecked(accumulator[i] + a[i] + b[i] + c[i] + d[i]);
        }
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
