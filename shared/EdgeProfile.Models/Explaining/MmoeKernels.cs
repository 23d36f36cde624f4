using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeProfile.Models.Explaining;

/// <summary>
/// 512-bit kernels for <see cref="MmoeFunction"/>'s SIMD tail: the same operations in the same order as its
/// <c>Vector&lt;double&gt;</c> code (so the same numbers, lane by lane), on buffers laid out <c>[width][Lanes]</c> with
/// <see cref="Lanes"/> = 32 columns, i.e. four <see cref="Vector512{T}"/> per row. Used only when
/// <see cref="Enabled"/>; callers fall back to the portable code otherwise.
/// </summary>
/// <remarks>The dense layer keeps a 4 outputs × 32 columns tile (16 accumulators) in registers: each weight is
/// broadcast once per block of 32 columns and each input vector is loaded once per 4 outputs, so the loop is bound by
/// the FMA units rather than by loads. With four experts the mixture keeps all gates in registers. Hot methods are
/// compiled fully optimised on first call (explanations are latency-bound from the first request).</remarks>
internal static class MmoeKernels
{
    /// <summary>Columns (coalitions or rows) per block, as in <see cref="MmoeFunction"/>.</summary>
    public const int Lanes = 32;

    /// <summary>
    /// Whether the kernels run on vector hardware; a JIT-time constant. With AVX-512 each operation is one instruction;
    /// with AVX2 only, .NET runs each 512-bit operation as two 256-bit ones, which keeps the tiling (weights broadcast
    /// once per block, inputs loaded once per four outputs) and measured 1.1–4.3x faster than the portable
    /// <c>Vector&lt;double&gt;</c> code on a Zen 3 (bench-explanations, bench/README.md), with the same numbers.
    /// </summary>
    public static bool Enabled => Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated;

    /// <summary><c>output[j][·] = B[j] + Σ_i W[i, j] · input[i][·]</c> (FMA chain in i order from the bias), optionally
    /// followed by ReLU. W row-major <c>[inputs, outputs]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dense(ReadOnlySpan<double> input, int inputs, int outputs, double[] weights, double[] bias, Span<double> output, bool relu)
    {
        ref double x = ref MemoryMarshal.GetReference(input);
        ref double y = ref MemoryMarshal.GetReference(output);
        ref double w = ref MemoryMarshal.GetArrayDataReference(weights);
        ref double b = ref MemoryMarshal.GetArrayDataReference(bias);
        int j = 0;
        for (; j + 4 <= outputs; j += 4)
        {
            var b0 = Vector512.Create(Unsafe.Add(ref b, j));
            var b1 = Vector512.Create(Unsafe.Add(ref b, j + 1));
            var b2 = Vector512.Create(Unsafe.Add(ref b, j + 2));
            var b3 = Vector512.Create(Unsafe.Add(ref b, j + 3));
            Vector512<double> a00 = b0, a01 = b0, a02 = b0, a03 = b0;
            Vector512<double> a10 = b1, a11 = b1, a12 = b1, a13 = b1;
            Vector512<double> a20 = b2, a21 = b2, a22 = b2, a23 = b2;
            Vector512<double> a30 = b3, a31 = b3, a32 = b3, a33 = b3;
            ref double xi = ref x;
            ref double wi = ref Unsafe.Add(ref w, j);
            for (int i = 0; i < inputs; i++)
            {
                var x0 = Vector512.LoadUnsafe(ref xi);
                var x1 = Vector512.LoadUnsafe(ref xi, 8);
                var x2 = Vector512.LoadUnsafe(ref xi, 16);
                var x3 = Vector512.LoadUnsafe(ref xi, 24);
                var w0 = Vector512.Create(wi);
                a00 = Vector512.FusedMultiplyAdd(w0, x0, a00);
                a01 = Vector512.FusedMultiplyAdd(w0, x1, a01);
                a02 = Vector512.FusedMultiplyAdd(w0, x2, a02);
                a03 = Vector512.FusedMultiplyAdd(w0, x3, a03);
                var w1 = Vector512.Create(Unsafe.Add(ref wi, 1));
                a10 = Vector512.FusedMultiplyAdd(w1, x0, a10);
                a11 = Vector512.FusedMultiplyAdd(w1, x1, a11);
                a12 = Vector512.FusedMultiplyAdd(w1, x2, a12);
                a13 = Vector512.FusedMultiplyAdd(w1, x3, a13);
                var w2 = Vector512.Create(Unsafe.Add(ref wi, 2));
                a20 = Vector512.FusedMultiplyAdd(w2, x0, a20);
                a21 = Vector512.FusedMultiplyAdd(w2, x1, a21);
                a22 = Vector512.FusedMultiplyAdd(w2, x2, a22);
                a23 = Vector512.FusedMultiplyAdd(w2, x3, a23);
                var w3 = Vector512.Create(Unsafe.Add(ref wi, 3));
                a30 = Vector512.FusedMultiplyAdd(w3, x0, a30);
                a31 = Vector512.FusedMultiplyAdd(w3, x1, a31);
                a32 = Vector512.FusedMultiplyAdd(w3, x2, a32);
                a33 = Vector512.FusedMultiplyAdd(w3, x3, a33);
                xi = ref Unsafe.Add(ref xi, Lanes);
                wi = ref Unsafe.Add(ref wi, outputs);
            }

            if (relu)
            {
                (a00, a01, a02, a03) = (Rectify(a00), Rectify(a01), Rectify(a02), Rectify(a03));
                (a10, a11, a12, a13) = (Rectify(a10), Rectify(a11), Rectify(a12), Rectify(a13));
                (a20, a21, a22, a23) = (Rectify(a20), Rectify(a21), Rectify(a22), Rectify(a23));
                (a30, a31, a32, a33) = (Rectify(a30), Rectify(a31), Rectify(a32), Rectify(a33));
            }

            ref double yj = ref Unsafe.Add(ref y, j * Lanes);
            Store4(ref yj, a00, a01, a02, a03);
            Store4(ref Unsafe.Add(ref yj, Lanes), a10, a11, a12, a13);
            Store4(ref Unsafe.Add(ref yj, 2 * Lanes), a20, a21, a22, a23);
            Store4(ref Unsafe.Add(ref yj, 3 * Lanes), a30, a31, a32, a33);
        }

        for (; j < outputs; j++)
        {
            var bj = Vector512.Create(Unsafe.Add(ref b, j));
            Vector512<double> a0 = bj, a1 = bj, a2 = bj, a3 = bj;
            ref double xi = ref x;
            ref double wi = ref Unsafe.Add(ref w, j);
            for (int i = 0; i < inputs; i++)
            {
                var wij = Vector512.Create(wi);
                a0 = Vector512.FusedMultiplyAdd(wij, Vector512.LoadUnsafe(ref xi), a0);
                a1 = Vector512.FusedMultiplyAdd(wij, Vector512.LoadUnsafe(ref xi, 8), a1);
                a2 = Vector512.FusedMultiplyAdd(wij, Vector512.LoadUnsafe(ref xi, 16), a2);
                a3 = Vector512.FusedMultiplyAdd(wij, Vector512.LoadUnsafe(ref xi, 24), a3);
                xi = ref Unsafe.Add(ref xi, Lanes);
                wi = ref Unsafe.Add(ref wi, outputs);
            }

            if (relu)
            {
                (a0, a1, a2, a3) = (Rectify(a0), Rectify(a1), Rectify(a2), Rectify(a3));
            }

            Store4(ref Unsafe.Add(ref y, j * Lanes), a0, a1, a2, a3);
        }
    }

    /// <summary><c>pre[j][·] = base[j] + table[j][·]</c> for <c>j &lt; width</c>, with ReLU on the first
    /// <paramref name="reluWidth"/> rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddBase(ReadOnlySpan<double> baseRow, ReadOnlySpan<double> table, Span<double> pre, int width, int reluWidth)
    {
        ref double b = ref MemoryMarshal.GetReference(baseRow);
        ref double t = ref MemoryMarshal.GetReference(table);
        ref double y = ref MemoryMarshal.GetReference(pre);
        int j = 0;
        for (; j < reluWidth; j++)
        {
            var bj = Vector512.Create(Unsafe.Add(ref b, j));
            ref double tj = ref Unsafe.Add(ref t, j * Lanes);
            Store4(
                ref Unsafe.Add(ref y, j * Lanes),
                Rectify(bj + Vector512.LoadUnsafe(ref tj)),
                Rectify(bj + Vector512.LoadUnsafe(ref tj, 8)),
                Rectify(bj + Vector512.LoadUnsafe(ref tj, 16)),
                Rectify(bj + Vector512.LoadUnsafe(ref tj, 24)));
        }

        for (; j < width; j++)
        {
            var bj = Vector512.Create(Unsafe.Add(ref b, j));
            ref double tj = ref Unsafe.Add(ref t, j * Lanes);
            Store4(
                ref Unsafe.Add(ref y, j * Lanes),
                bj + Vector512.LoadUnsafe(ref tj),
                bj + Vector512.LoadUnsafe(ref tj, 8),
                bj + Vector512.LoadUnsafe(ref tj, 16),
                bj + Vector512.LoadUnsafe(ref tj, 24));
        }
    }

    /// <summary>
    /// <c>baseRow = A + Σ D_g</c> over the high groups set in <paramref name="block"/>, added in ascending group order
    /// (as the portable code does), with the running sum kept in registers. <paramref name="d"/> is one background row's
    /// <c>[M][P]</c>; the high groups are <c>low … low + high − 1</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void HighSums(ReadOnlySpan<double> a, ReadOnlySpan<double> d, int width, int low, int high, int block, Span<double> baseRow)
    {
        ref double ar = ref MemoryMarshal.GetReference(a);
        ref double dr = ref Unsafe.Add(ref MemoryMarshal.GetReference(d), low * width);
        ref double y = ref MemoryMarshal.GetReference(baseRow);
        uint set = (uint)block & ((1u << high) - 1);
        int j = 0;
        for (; j + 32 <= width; j += 32)
        {
            var s0 = Vector512.LoadUnsafe(ref ar, (nuint)j);
            var s1 = Vector512.LoadUnsafe(ref ar, (nuint)(j + 8));
            var s2 = Vector512.LoadUnsafe(ref ar, (nuint)(j + 16));
            var s3 = Vector512.LoadUnsafe(ref ar, (nuint)(j + 24));
            for (uint bits = set; bits != 0; bits &= bits - 1)
            {
                ref double dg = ref Unsafe.Add(ref dr, (BitOperations.TrailingZeroCount(bits) * width) + j);
                s0 += Vector512.LoadUnsafe(ref dg);
                s1 += Vector512.LoadUnsafe(ref dg, 8);
                s2 += Vector512.LoadUnsafe(ref dg, 16);
                s3 += Vector512.LoadUnsafe(ref dg, 24);
            }

            Store4(ref Unsafe.Add(ref y, j), s0, s1, s2, s3);
        }

        for (; j + 8 <= width; j += 8)
        {
            var s0 = Vector512.LoadUnsafe(ref ar, (nuint)j);
            for (uint bits = set; bits != 0; bits &= bits - 1)
            {
                s0 += Vector512.LoadUnsafe(ref Unsafe.Add(ref dr, (BitOperations.TrailingZeroCount(bits) * width) + j));
            }

            s0.StoreUnsafe(ref y, (nuint)j);
        }

        for (; j < width; j++)
        {
            double sum = Unsafe.Add(ref ar, j);
            for (uint bits = set; bits != 0; bits &= bits - 1)
            {
                sum += Unsafe.Add(ref dr, (BitOperations.TrailingZeroCount(bits) * width) + j);
            }

            Unsafe.Add(ref y, j) = sum;
        }
    }

    /// <summary>
    /// The mixture straight from the tables, for experts of one layer: <c>mixed[j][·] = Σ_e gate[e][·] ·
    /// ReLU(base[e·width + j] + table[e·width + j][·])</c>, in e order (product, then FMAs): the same numbers as
    /// <see cref="AddBase"/> followed by <see cref="Mixture"/>, without writing the experts' activations.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MixtureFromTable(ReadOnlySpan<double> baseRow, ReadOnlySpan<double> table, ReadOnlySpan<double> gate, int experts, int width, Span<double> mixed)
    {
        ref double b = ref MemoryMarshal.GetReference(baseRow);
        ref double t = ref MemoryMarshal.GetReference(table);
        ref double g = ref MemoryMarshal.GetReference(gate);
        ref double y = ref MemoryMarshal.GetReference(mixed);
        int stride = width * Lanes;
        if (experts == 4)
        {
            var g00 = Vector512.LoadUnsafe(ref g);
            var g01 = Vector512.LoadUnsafe(ref g, 8);
            var g02 = Vector512.LoadUnsafe(ref g, 16);
            var g03 = Vector512.LoadUnsafe(ref g, 24);
            var g10 = Vector512.LoadUnsafe(ref g, 32);
            var g11 = Vector512.LoadUnsafe(ref g, 40);
            var g12 = Vector512.LoadUnsafe(ref g, 48);
            var g13 = Vector512.LoadUnsafe(ref g, 56);
            var g20 = Vector512.LoadUnsafe(ref g, 64);
            var g21 = Vector512.LoadUnsafe(ref g, 72);
            var g22 = Vector512.LoadUnsafe(ref g, 80);
            var g23 = Vector512.LoadUnsafe(ref g, 88);
            var g30 = Vector512.LoadUnsafe(ref g, 96);
            var g31 = Vector512.LoadUnsafe(ref g, 104);
            var g32 = Vector512.LoadUnsafe(ref g, 112);
            var g33 = Vector512.LoadUnsafe(ref g, 120);
            for (int j = 0; j < width; j++)
            {
                ref double t0 = ref Unsafe.Add(ref t, j * Lanes);
                ref double t1 = ref Unsafe.Add(ref t0, stride);
                ref double t2 = ref Unsafe.Add(ref t1, stride);
                ref double t3 = ref Unsafe.Add(ref t2, stride);
                var b0 = Vector512.Create(Unsafe.Add(ref b, j));
                var b1 = Vector512.Create(Unsafe.Add(ref b, width + j));
                var b2 = Vector512.Create(Unsafe.Add(ref b, (2 * width) + j));
                var b3 = Vector512.Create(Unsafe.Add(ref b, (3 * width) + j));
                var s0 = g00 * Rectify(b0 + Vector512.LoadUnsafe(ref t0));
                var s1 = g01 * Rectify(b0 + Vector512.LoadUnsafe(ref t0, 8));
                var s2 = g02 * Rectify(b0 + Vector512.LoadUnsafe(ref t0, 16));
                var s3 = g03 * Rectify(b0 + Vector512.LoadUnsafe(ref t0, 24));
                s0 = Vector512.FusedMultiplyAdd(g10, Rectify(b1 + Vector512.LoadUnsafe(ref t1)), s0);
                s1 = Vector512.FusedMultiplyAdd(g11, Rectify(b1 + Vector512.LoadUnsafe(ref t1, 8)), s1);
                s2 = Vector512.FusedMultiplyAdd(g12, Rectify(b1 + Vector512.LoadUnsafe(ref t1, 16)), s2);
                s3 = Vector512.FusedMultiplyAdd(g13, Rectify(b1 + Vector512.LoadUnsafe(ref t1, 24)), s3);
                s0 = Vector512.FusedMultiplyAdd(g20, Rectify(b2 + Vector512.LoadUnsafe(ref t2)), s0);
                s1 = Vector512.FusedMultiplyAdd(g21, Rectify(b2 + Vector512.LoadUnsafe(ref t2, 8)), s1);
                s2 = Vector512.FusedMultiplyAdd(g22, Rectify(b2 + Vector512.LoadUnsafe(ref t2, 16)), s2);
                s3 = Vector512.FusedMultiplyAdd(g23, Rectify(b2 + Vector512.LoadUnsafe(ref t2, 24)), s3);
                s0 = Vector512.FusedMultiplyAdd(g30, Rectify(b3 + Vector512.LoadUnsafe(ref t3)), s0);
                s1 = Vector512.FusedMultiplyAdd(g31, Rectify(b3 + Vector512.LoadUnsafe(ref t3, 8)), s1);
                s2 = Vector512.FusedMultiplyAdd(g32, Rectify(b3 + Vector512.LoadUnsafe(ref t3, 16)), s2);
                s3 = Vector512.FusedMultiplyAdd(g33, Rectify(b3 + Vector512.LoadUnsafe(ref t3, 24)), s3);
                Store4(ref Unsafe.Add(ref y, j * Lanes), s0, s1, s2, s3);
            }

            return;
        }

        for (int j = 0; j < width; j++)
        {
            for (nuint v = 0; v < Lanes; v += 8)
            {
                nuint n = ((nuint)j * Lanes) + v;
                var sum = Vector512.LoadUnsafe(ref g, v) * Rectify(Vector512.Create(Unsafe.Add(ref b, j)) + Vector512.LoadUnsafe(ref t, n));
                for (int e = 1; e < experts; e++)
                {
                    var h = Rectify(Vector512.Create(Unsafe.Add(ref b, (e * width) + j)) + Vector512.LoadUnsafe(ref t, ((nuint)e * (nuint)stride) + n));
                    sum = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref g, ((nuint)e * Lanes) + v), h, sum);
                }

                sum.StoreUnsafe(ref y, n);
            }
        }
    }

    /// <summary>ReLU in place (length a multiple of 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu(Span<double> values)
    {
        ref double v = ref MemoryMarshal.GetReference(values);
        for (int n = 0; n + 8 <= values.Length; n += 8)
        {
            Rectify(Vector512.LoadUnsafe(ref v, (nuint)n)).StoreUnsafe(ref v, (nuint)n);
        }
    }

    /// <summary>Softmax over <paramref name="experts"/> logits rows (<c>[E][Lanes]</c>) into <paramref name="gate"/>:
    /// <c>e^(l − max)</c>, summed from zero in e order, each times <c>1 / sum</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(ReadOnlySpan<double> logits, int experts, Span<double> gate)
    {
        ref double l = ref MemoryMarshal.GetReference(logits);
        ref double g = ref MemoryMarshal.GetReference(gate);
        for (nuint v = 0; v < Lanes; v += 8)
        {
            var max = Vector512.LoadUnsafe(ref l, v);
            for (int e = 1; e < experts; e++)
            {
                max = Vector512.Max(max, Vector512.LoadUnsafe(ref l, ((nuint)e * Lanes) + v));
            }

            var sum = Vector512<double>.Zero;
            for (int e = 0; e < experts; e++)
            {
                nuint at = ((nuint)e * Lanes) + v;
                var p = Exp(Vector512.LoadUnsafe(ref l, at) - max);
                p.StoreUnsafe(ref g, at);
                sum += p;
            }

            var inverse = Vector512<double>.One / sum;
            for (int e = 0; e < experts; e++)
            {
                nuint at = ((nuint)e * Lanes) + v;
                (Vector512.LoadUnsafe(ref g, at) * inverse).StoreUnsafe(ref g, at);
            }
        }
    }

    /// <summary><c>mixed[j][·] = Σ_e gate[e][·] · h[e][j][·]</c> in e order (product, then FMAs), for
    /// <paramref name="width"/> outputs per expert; h is <c>[E][width][Lanes]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Mixture(ReadOnlySpan<double> gate, ReadOnlySpan<double> h, int experts, int width, Span<double> mixed)
    {
        ref double g = ref MemoryMarshal.GetReference(gate);
        ref double x = ref MemoryMarshal.GetReference(h);
        ref double y = ref MemoryMarshal.GetReference(mixed);
        int stride = width * Lanes;
        if (experts == 4)
        {
            // All 16 gate vectors stay in registers.
            var g00 = Vector512.LoadUnsafe(ref g);
            var g01 = Vector512.LoadUnsafe(ref g, 8);
            var g02 = Vector512.LoadUnsafe(ref g, 16);
            var g03 = Vector512.LoadUnsafe(ref g, 24);
            var g10 = Vector512.LoadUnsafe(ref g, 32);
            var g11 = Vector512.LoadUnsafe(ref g, 40);
            var g12 = Vector512.LoadUnsafe(ref g, 48);
            var g13 = Vector512.LoadUnsafe(ref g, 56);
            var g20 = Vector512.LoadUnsafe(ref g, 64);
            var g21 = Vector512.LoadUnsafe(ref g, 72);
            var g22 = Vector512.LoadUnsafe(ref g, 80);
            var g23 = Vector512.LoadUnsafe(ref g, 88);
            var g30 = Vector512.LoadUnsafe(ref g, 96);
            var g31 = Vector512.LoadUnsafe(ref g, 104);
            var g32 = Vector512.LoadUnsafe(ref g, 112);
            var g33 = Vector512.LoadUnsafe(ref g, 120);
            for (int j = 0; j < width; j++)
            {
                ref double h0 = ref Unsafe.Add(ref x, j * Lanes);
                ref double h1 = ref Unsafe.Add(ref h0, stride);
                ref double h2 = ref Unsafe.Add(ref h1, stride);
                ref double h3 = ref Unsafe.Add(ref h2, stride);
                var s0 = g00 * Vector512.LoadUnsafe(ref h0);
                var s1 = g01 * Vector512.LoadUnsafe(ref h0, 8);
                var s2 = g02 * Vector512.LoadUnsafe(ref h0, 16);
                var s3 = g03 * Vector512.LoadUnsafe(ref h0, 24);
                s0 = Vector512.FusedMultiplyAdd(g10, Vector512.LoadUnsafe(ref h1), s0);
                s1 = Vector512.FusedMultiplyAdd(g11, Vector512.LoadUnsafe(ref h1, 8), s1);
                s2 = Vector512.FusedMultiplyAdd(g12, Vector512.LoadUnsafe(ref h1, 16), s2);
                s3 = Vector512.FusedMultiplyAdd(g13, Vector512.LoadUnsafe(ref h1, 24), s3);
                s0 = Vector512.FusedMultiplyAdd(g20, Vector512.LoadUnsafe(ref h2), s0);
                s1 = Vector512.FusedMultiplyAdd(g21, Vector512.LoadUnsafe(ref h2, 8), s1);
                s2 = Vector512.FusedMultiplyAdd(g22, Vector512.LoadUnsafe(ref h2, 16), s2);
                s3 = Vector512.FusedMultiplyAdd(g23, Vector512.LoadUnsafe(ref h2, 24), s3);
                s0 = Vector512.FusedMultiplyAdd(g30, Vector512.LoadUnsafe(ref h3), s0);
                s1 = Vector512.FusedMultiplyAdd(g31, Vector512.LoadUnsafe(ref h3, 8), s1);
                s2 = Vector512.FusedMultiplyAdd(g32, Vector512.LoadUnsafe(ref h3, 16), s2);
                s3 = Vector512.FusedMultiplyAdd(g33, Vector512.LoadUnsafe(ref h3, 24), s3);
                Store4(ref Unsafe.Add(ref y, j * Lanes), s0, s1, s2, s3);
            }

            return;
        }

        for (int j = 0; j < width; j++)
        {
            for (nuint v = 0; v < Lanes; v += 8)
            {
                nuint n = ((nuint)j * Lanes) + v;
                var sum = Vector512.LoadUnsafe(ref g, v) * Vector512.LoadUnsafe(ref x, n);
                for (int e = 1; e < experts; e++)
                {
                    sum = Vector512.FusedMultiplyAdd(
                        Vector512.LoadUnsafe(ref g, ((nuint)e * Lanes) + v), Vector512.LoadUnsafe(ref x, ((nuint)e * (nuint)stride) + n), sum);
                }

                sum.StoreUnsafe(ref y, n);
            }
        }
    }

    /// <summary><c>1 / (1 + e^−y)</c> in place (length a multiple of 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sigmoid(Span<double> values)
    {
        ref double v = ref MemoryMarshal.GetReference(values);
        var one = Vector512<double>.One;
        for (int n = 0; n + 8 <= values.Length; n += 8)
        {
            (one / (one + Exp(-Vector512.LoadUnsafe(ref v, (nuint)n)))).StoreUnsafe(ref v, (nuint)n);
        }
    }

    /// <summary>
    /// <c>target[lane][o] = FMA(w, y[o][lane], target[lane][o])</c> for the first <paramref name="valid"/> lanes: a
    /// block's outputs (<c>[outputs][Lanes]</c>) weighted into the coalitions' values (<c>[coalition][outputs]</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddTransposed(double weight, ReadOnlySpan<double> y, int outputs, Span<double> target, int valid)
    {
        if (y.Length < outputs * Lanes || target.Length < valid * outputs || valid > Lanes)
        {
            throw new ArgumentException("buffers too short for the block");
        }

        ref double src = ref MemoryMarshal.GetReference(y);
        ref double dst = ref MemoryMarshal.GetReference(target);
        if (outputs == 1 && valid == Lanes)
        {
            var w = Vector512.Create(weight);
            for (nuint v = 0; v < Lanes; v += 8)
            {
                Vector512.FusedMultiplyAdd(w, Vector512.LoadUnsafe(ref src, v), Vector512.LoadUnsafe(ref dst, v)).StoreUnsafe(ref dst, v);
            }

            return;
        }

        for (int lane = 0; lane < valid; lane++)
        {
            ref double row = ref Unsafe.Add(ref dst, lane * outputs);
            for (int o = 0; o < outputs; o++)
            {
                ref double sum = ref Unsafe.Add(ref row, o);
                sum = Math.FusedMultiplyAdd(weight, Unsafe.Add(ref src, (o * Lanes) + lane), sum);
            }
        }
    }

    /// <summary><c>e^x</c> exactly as <see cref="MmoeFunction"/>'s portable version computes it (same constants and
    /// operations): range reduction by ln 2, Taylor polynomial of degree 13, exponent bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Exp(Vector512<double> x)
    {
        var magic = Vector512.Create(6755399441055744.0);
        // Native min/max with the constant first: one instruction each, and a NaN x comes through (x86 returns the
        // second operand when either is NaN), as with the portable IEEE min/max.
        x = Vector512.MinNative(Vector512.Create(709.0), Vector512.MaxNative(Vector512.Create(-708.0), x));
        var t = Vector512.FusedMultiplyAdd(x, Vector512.Create(1.4426950408889634), magic);
        var n = t - magic;
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.6931471805599453), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-2.3190468138462996e-17), r);
        var p = Vector512.Create(1.0 / 6227020800.0);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 479001600.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 39916800.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 3628800.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 362880.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 40320.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 5040.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 720.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 120.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 24.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 6.0));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<double>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<double>.One);
        var exponent = Vector512.ShiftLeft(t.AsInt64() - magic.AsInt64() + Vector512.Create(1023L), 52);
        return p * exponent.AsDouble();
    }

    /// <summary>ReLU as one <c>vmaxpd</c>: <c>max(0, x)</c> with x second, so a NaN comes through as with the IEEE
    /// maximum; only −0 stays −0 instead of becoming +0, which changes no sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Rectify(Vector512<double> x) => Vector512.MaxNative(Vector512<double>.Zero, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(ref double target, Vector512<double> a0, Vector512<double> a1, Vector512<double> a2, Vector512<double> a3)
    {
        a0.StoreUnsafe(ref target);
        a1.StoreUnsafe(ref target, 8);
        a2.StoreUnsafe(ref target, 16);
        a3.StoreUnsafe(ref target, 24);
    }

    /// <summary>
    /// Four rows of <paramref name="width"/> values (<paramref name="rows"/>, row-major) into columns
    /// <c>lane … lane + 3</c> of <paramref name="target"/> (<c>[width][stride]</c>): 4 × 4 tiles transposed in registers
    /// where 256-bit vectors are accelerated, one value at a time otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose4(ReadOnlySpan<double> rows, int width, Span<double> target, int stride, int lane)
    {
        int j = 0;
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            ref double r0 = ref MemoryMarshal.GetReference(rows);
            ref double t = ref MemoryMarshal.GetReference(target);
            for (; j + 4 <= width; j += 4)
            {
                var a0 = Vector256.LoadUnsafe(ref r0, (nuint)j);
                var a1 = Vector256.LoadUnsafe(ref r0, (nuint)(width + j));
                var a2 = Vector256.LoadUnsafe(ref r0, (nuint)((2 * width) + j));
                var a3 = Vector256.LoadUnsafe(ref r0, (nuint)((3 * width) + j));
                var t0 = System.Runtime.Intrinsics.X86.Avx.UnpackLow(a0, a1);
                var t1 = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(a0, a1);
                var t2 = System.Runtime.Intrinsics.X86.Avx.UnpackLow(a2, a3);
                var t3 = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(a2, a3);
                System.Runtime.Intrinsics.X86.Avx.Permute2x128(t0, t2, 0x20).StoreUnsafe(ref t, (nuint)((j * stride) + lane));
                System.Runtime.Intrinsics.X86.Avx.Permute2x128(t1, t3, 0x20).StoreUnsafe(ref t, (nuint)(((j + 1) * stride) + lane));
                System.Runtime.Intrinsics.X86.Avx.Permute2x128(t0, t2, 0x31).StoreUnsafe(ref t, (nuint)(((j + 2) * stride) + lane));
                System.Runtime.Intrinsics.X86.Avx.Permute2x128(t1, t3, 0x31).StoreUnsafe(ref t, (nuint)(((j + 3) * stride) + lane));
            }
        }

        for (; j < width; j++)
        {
            for (int q = 0; q < 4; q++)
            {
                target[(j * stride) + lane + q] = rows[(q * width) + j];
            }
        }
    }
}
