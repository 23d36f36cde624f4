using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeProfile.Semantic.Vectors;

/// <summary>SIMD kernels shared by the vector indexes (<see cref="Vector{T}"/> of <see cref="float"/>).</summary>
internal static class VectorMath
{
    /// <summary>The dot product of two equally long spans.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var n = a.Length;
        ref var ra = ref MemoryMarshal.GetReference(a);
        ref var rb = ref MemoryMarshal.GetReference(b);
        var width = Vector<float>.Count;
        var i = 0;
        var sum = 0f;
        if (Vector.IsHardwareAccelerated && n >= width)
        {
            var s0 = Vector<float>.Zero;
            var s1 = Vector<float>.Zero;
            var s2 = Vector<float>.Zero;
            var s3 = Vector<float>.Zero;
            for (; i <= n - (4 * width); i += 4 * width)
            {
                s0 += Vector.LoadUnsafe(ref ra, (nuint)i) * Vector.LoadUnsafe(ref rb, (nuint)i);
                s1 += Vector.LoadUnsafe(ref ra, (nuint)(i + width)) * Vector.LoadUnsafe(ref rb, (nuint)(i + width));
                s2 += Vector.LoadUnsafe(ref ra, (nuint)(i + (2 * width))) * Vector.LoadUnsafe(ref rb, (nuint)(i + (2 * width)));
                s3 += Vector.LoadUnsafe(ref ra, (nuint)(i + (3 * width))) * Vector.LoadUnsafe(ref rb, (nuint)(i + (3 * width)));
            }

            for (; i <= n - width; i += width)
            {
                s0 += Vector.LoadUnsafe(ref ra, (nuint)i) * Vector.LoadUnsafe(ref rb, (nuint)i);
            }

            sum = Vector.Sum((s0 + s1) + (s2 + s3));
        }

        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref ra, i) * Unsafe.Add(ref rb, i);
        }

        return sum;
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> scaled to unit length.</summary>
    /// <exception cref="ArgumentException">The length differs from <paramref name="dimensions"/>, or the vector is zero,
    /// NaN or infinite.</exception>
    public static void Normalize(ReadOnlySpan<float> source, Span<float> destination, int dimensions, string parameterName)
    {
        if (source.Length != dimensions)
        {
            throw new ArgumentException($"The vector has {source.Length} dimensions but the index holds {dimensions}-dimensional vectors.", parameterName);
        }

        var squared = (double)Dot(source, source);
        if (!double.IsFinite(squared))
        {
            throw new ArgumentException("The vector contains NaN or infinite values (or is too large to normalise).", parameterName);
        }

        if (squared <= 0)
        {
            throw new ArgumentException("The zero vector has no direction, so it has no cosine similarity; refusing it.", parameterName);
        }

        var scale = (float)(1.0 / Math.Sqrt(squared));
        var width = Vector<float>.Count;
        var i = 0;
        for (; i <= dimensions - width; i += width)
        {
            (new Vector<float>(source[i..]) * scale).CopyTo(destination[i..]);
        }

        for (; i < dimensions; i++)
        {
            destination[i] = source[i] * scale;
        }
    }
}
