using System.Numerics;
using System.Runtime.InteropServices;

namespace EdgeProfile.Models.Explaining;

/// <summary>Options of <see cref="KernelShap"/>.</summary>
public sealed record KernelShapOptions
{
    /// <summary>Coalitions to evaluate besides the empty and the full one (default <c>2·M + 2048</c>). When it covers
    /// all <c>2^M − 2</c> coalitions they are all enumerated and the result is the exact Shapley values.</summary>
    public int? Samples { get; init; }

    /// <summary>Seed of the coalition sampler and the bootstrap: the same seed gives the same attribution.</summary>
    public int Seed { get; init; }

    /// <summary>Bootstrap resamples of the sampled coalition pairs for <see cref="Attribution.StandardErrors"/>
    /// (0: no error estimate when sampling, the standard errors are then null).</summary>
    public int Bootstrap { get; init; } = 32;
}

/// <summary>
/// KernelSHAP (Lundberg &amp; Lee, NeurIPS 2017), following the shap library's <c>KernelExplainer</c>: Shapley values
/// as the solution of a weighted least-squares fit <c>v(S) − v(∅) ≈ Σ_{i∈S} φ_i</c> over coalitions weighted by the
/// Shapley kernel <c>(M−1)/(C(M,|S|)·|S|·(M−|S|))</c>, with the efficiency constraint <c>Σ φ = v(all) − v(∅)</c>
/// enforced exactly (one φ eliminated). Coalition sizes are taken in pairs <c>(s, M−s)</c> by decreasing kernel mass;
/// a pair is enumerated exactly while the remaining budget would sample each of its coalitions at least once; the
/// rest is sampled (size ∝ remaining kernel mass, members uniform) in complementary pairs, duplicates merged.
/// Coalition values are interventional expectations over the background, as for <see cref="ExactShapley"/>.
/// </summary>
public static class KernelShap
{
    /// <summary>KernelSHAP values of every output at row <paramref name="x"/>, one <see cref="Attribution"/> per output,
    /// with bootstrap standard errors (0 when every coalition was enumerated).</summary>
    /// <exception cref="ArgumentException">Widths disagree or the options are out of range.</exception>
    public static Attribution[] Explain(
        IExplainedFunction function, ReadOnlySpan<double> x, Background background, FeatureGroups groups, KernelShapOptions? options = null)
    {
        ExactShapley.Validate(function, x, background, groups);
        options ??= new KernelShapOptions();
        int m = groups.Count;
        int outputs = function.Outputs;
        int budget = options.Samples ?? ((2 * m) + 2048);
        if (budget < 2)
        {
            throw new ArgumentException($"KernelSHAP needs at least 2 samples, got {budget}", nameof(options));
        }

        if (options.Bootstrap < 0)
        {
            throw new ArgumentException($"bootstrap resamples must be non-negative, got {options.Bootstrap}", nameof(options));
        }

        var random = new Random(options.Seed);
        var plan = m == 1 ? new Plan() : Sample(m, budget, random);

        // Coalition 0 = ∅, 1 = all, then the enumerated ones, then each sampled pair (S, complement of S).
        int coalitions = 2 + plan.Fixed.Count + (2 * plan.Pairs.Count);
        var members = new bool[coalitions * m];
        members.AsSpan(m, m).Fill(true);
        int next = 2;
        foreach (var (coalition, _) in plan.Fixed)
        {
            coalition.CopyTo(members, next++ * m);
        }

        foreach (var pair in plan.Pairs)
        {
            pair.Members.CopyTo(members, next++ * m);
            for (int g = 0; g < m; g++)
            {
                members[(next * m) + g] = !pair.Members[g];
            }

            next++;
        }

        var values = new double[coalitions * outputs];
        ExactShapley.EvaluateCoalitions(function, x, background, groups, members, values);
        var regression = new Regression(m, outputs, members, values, plan);
        var phi = regression.Solve(plan.Pairs.Select(p => (double)p.Count).ToArray());

        double[][]? errors = null;
        if (plan.Pairs.Count == 0)
        {
            errors = [.. Enumerable.Range(0, outputs).Select(_ => new double[m])];
        }
        else if (options.Bootstrap > 0)
        {
            errors = Bootstrap(regression, plan, options.Bootstrap, random, outputs, m);
        }

        long evaluations = (long)coalitions * background.Count;
        string source = ExactShapley.Describe(background);
        var result = new Attribution[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double baseValue = values[o];
            double output = values[outputs + o];
            result[o] = new Attribution(
                AttributionMethod.KernelShap,
                groups.Names,
                phi[o],
                baseValue,
                output,
                Math.Abs(baseValue + phi[o].Sum() - output),
                errors?[o],
                evaluations,
                source);
        }

        return result;
    }

    /// <summary>Solves <c>A·x = b</c> for a symmetric positive semi-definite <c>A</c> (n × n, row-major) by Cholesky,
    /// adding a growing ridge to the diagonal when <c>A</c> is (numerically) singular. <c>b</c> holds
    /// <paramref name="rhs"/> right-hand sides (n × rhs, row-major) and is overwritten by the solutions.</summary>
    internal static void SolveSymmetric(double[] a, int n, double[] b, int rhs)
    {
        double scale = 0;
        for (int i = 0; i < n; i++)
        {
            scale = Math.Max(scale, Math.Abs(a[(i * n) + i]));
        }

        if (scale == 0)
        {
            scale = 1;
        }

        var l = new double[n * n];
        double ridge = 0;
        for (int attempt = 0; ; attempt++)
        {
            if (Cholesky(a, n, ridge, l, scale))
            {
                break;
            }

            if (attempt > 12)
            {
                throw new InvalidOperationException("the least-squares system stays singular even with a ridge");
            }

            ridge = ridge == 0 ? scale * 1e-12 : ridge * 100;
        }

        for (int c = 0; c < rhs; c++)
        {
            // L·y = b, then Lᵀ·x = y.
            for (int i = 0; i < n; i++)
            {
                double s = b[(i * rhs) + c];
                for (int j = 0; j < i; j++)
                {
                    s -= l[(i * n) + j] * b[(j * rhs) + c];
                }

                b[(i * rhs) + c] = s / l[(i * n) + i];
            }

            for (int i = n - 1; i >= 0; i--)
            {
                double s = b[(i * rhs) + c];
                for (int j = i + 1; j < n; j++)
                {
                    s -= l[(j * n) + i] * b[(j * rhs) + c];
                }

                b[(i * rhs) + c] = s / l[(i * n) + i];
            }
        }
    }

    private static bool Cholesky(double[] a, int n, double ridge, double[] l, double scale)
    {
        double tiny = scale * 1e-13;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = a[(i * n) + j] + (i == j ? ridge : 0);
                for (int k = 0; k < j; k++)
                {
                    s -= l[(i * n) + k] * l[(j * n) + k];
                }

                if (i == j)
                {
                    if (!(s > tiny))
                    {
                        return false;
                    }

                    l[(i * n) + i] = Math.Sqrt(s);
                }
                else
                {
                    l[(i * n) + j] = s / l[(j * n) + j];
                }
            }
        }

        return true;
    }

    /// <summary>Chooses the coalitions: size pairs enumerated while the budget covers them, the rest sampled.</summary>
    private static Plan Sample(int m, int budget, Random random)
    {
        var plan = new Plan();
        int pairsCount = m / 2;

        // Kernel mass of each size pair p = (p, M−p): C(M,s) coalitions of kernel weight (M−1)/(C(M,s)·s·(M−s)) each.
        var kernel = new double[pairsCount + 1];
        var mass = new double[pairsCount + 1];
        var size = new double[pairsCount + 1];
        double total = 0;
        for (int p = 1; p <= pairsCount; p++)
        {
            bool middle = 2 * p == m;
            kernel[p] = (m - 1.0) / (ExactShapley.Binomial(m, p) * p * (m - p));
            mass[p] = (m - 1.0) / (p * (m - p)) * (middle ? 1 : 2);
            size[p] = ExactShapley.Binomial(m, p) * (middle ? 1 : 2);
            total += mass[p];
        }

        for (int p = 1; p <= pairsCount; p++)
        {
            kernel[p] /= total;
            mass[p] /= total;
        }

        bool everything = budget >= Math.Pow(2, m) - 2;
        double left = budget;
        double remaining = 1;
        int enumerated = 0;
        for (int p = 1; p <= pairsCount; p++)
        {
            // shap's rule: enumerate the pair when sampling its share of the budget would be expected to draw each of
            // its coalitions at least once.
            if (!everything && left * mass[p] / remaining < size[p] - 1e-8)
            {
                break;
            }

            foreach (var coalition in Combinations(m, p))
            {
                plan.Fixed.Add((coalition, kernel[p]));
                if (2 * p != m)
                {
                    plan.Fixed.Add((Array.ConvertAll(coalition, b => !b), kernel[p]));
                }
            }

            left -= size[p];
            remaining -= mass[p];
            enumerated = p;
        }

        if (enumerated == pairsCount)
        {
            return plan;
        }

        // A draw adds S and its complement, two coalitions of the pair's per-coalition kernel weight; drawing pair p
        // with probability ∝ its kernel mass makes each coalition's expected draw count ∝ its kernel weight (a pair
        // of sizes p ≠ M − p has C(M,p) distinct draws for twice the mass of the middle pair's C(M,p)/2).
        plan.WeightLeft = 0;
        var cumulative = new double[pairsCount - enumerated];
        double sum = 0;
        for (int p = enumerated + 1; p <= pairsCount; p++)
        {
            sum += mass[p];
            cumulative[p - enumerated - 1] = sum;
            plan.WeightLeft += mass[p];
        }

        var order = Enumerable.Range(0, m).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var key = new char[m];
        long maxDraws = (4L * (long)left) + 64;
        for (long draw = 0; left >= 2 && draw < maxDraws; draw++)
        {
            double u = random.NextDouble() * sum;
            int slot = 0;
            while (slot < cumulative.Length - 1 && cumulative[slot] <= u)
            {
                slot++;
            }

            // Drawing size p or M − p makes no difference: the pair {S, complement} is added either way.
            int s = enumerated + 1 + slot;
            for (int i = 0; i < s; i++)
            {
                int j = random.Next(i, m);
                (order[i], order[j]) = (order[j], order[i]);
            }

            var coalition = new bool[m];
            for (int i = 0; i < s; i++)
            {
                coalition[order[i]] = true;
            }

            // The pair {S, complement} is one unit: key it by whichever member leaves group 0 out.
            bool flip = coalition[0];
            for (int g = 0; g < m; g++)
            {
                key[g] = coalition[g] ^ flip ? '1' : '0';
            }

            string name = new(key);
            if (index.TryGetValue(name, out int existing))
            {
                plan.Pairs[existing].Count++;
            }
            else
            {
                index.Add(name, plan.Pairs.Count);
                plan.Pairs.Add(new SampledPair(coalition));
                left -= 2;
            }
        }

        return plan;
    }

    /// <summary>All subsets of size <paramref name="k"/> of <paramref name="m"/> groups, as membership flags.</summary>
    private static IEnumerable<bool[]> Combinations(int m, int k)
    {
        var index = Enumerable.Range(0, k).ToArray();
        while (true)
        {
            var coalition = new bool[m];
            foreach (int i in index)
            {
                coalition[i] = true;
            }

            yield return coalition;
            int t = k - 1;
            while (t >= 0 && index[t] == m - k + t)
            {
                t--;
            }

            if (t < 0)
            {
                yield break;
            }

            index[t]++;
            for (int j = t + 1; j < k; j++)
            {
                index[j] = index[j - 1] + 1;
            }
        }
    }

    /// <summary>Sampled pairs are cut into at most this many blocks for the bootstrap.</summary>
    private const int BootstrapBlocks = 64;

    /// <summary>
    /// Standard errors: the spread of the solution over bootstrap resamples of the sampling draws. The draws are
    /// independent, so they are resampled in blocks (pair u in block u mod B, B ≤ <see cref="BootstrapBlocks"/>): each
    /// block's terms of the normal equations are summed once, and a resample adds B picked blocks instead of
    /// re-accumulating every pair.
    /// </summary>
    private static double[][] Bootstrap(Regression regression, Plan plan, int resamples, Random random, int outputs, int m)
    {
        int blocks = Math.Min(BootstrapBlocks, plan.Pairs.Count);
        var sums = regression.Blocks(blocks, [.. plan.Pairs.Select(p => (double)p.Count)]);
        var sum = new double[outputs, m];
        var squares = new double[outputs, m];
        var picks = new int[blocks];
        for (int r = 0; r < resamples; r++)
        {
            Array.Clear(picks);
            for (int d = 0; d < blocks; d++)
            {
                picks[random.Next(blocks)]++;
            }

            var phi = regression.Solve(sums, picks);
            for (int o = 0; o < outputs; o++)
            {
                for (int g = 0; g < m; g++)
                {
                    sum[o, g] += phi[o][g];
                    squares[o, g] += phi[o][g] * phi[o][g];
                }
            }
        }

        var errors = new double[outputs][];
        for (int o = 0; o < outputs; o++)
        {
            errors[o] = new double[m];
            for (int g = 0; g < m; g++)
            {
                double mean = sum[o, g] / resamples;
                double variance = resamples > 1 ? (squares[o, g] - (resamples * mean * mean)) / (resamples - 1) : 0;
                errors[o][g] = Math.Sqrt(Math.Max(variance, 0));
            }
        }

        return errors;
    }

    /// <summary>Per block of sampled pairs: the normal matrix and right-hand sides (unscaled), and the draws.</summary>
    private sealed record BlockSums(double[][] A, double[][] B, double[] Draws);

    private sealed class SampledPair(bool[] members)
    {
        public bool[] Members { get; } = members;

        public long Count { get; set; } = 1;
    }

    private sealed class Plan
    {
        /// <summary>Enumerated coalitions with their exact (normalised) kernel weights.</summary>
        public List<(bool[] Members, double Weight)> Fixed { get; } = [];

        /// <summary>Sampled complementary pairs with their draw counts.</summary>
        public List<SampledPair> Pairs { get; } = [];

        /// <summary>Kernel mass of the sampled sizes, shared out over the sampled coalitions by draw count.</summary>
        public double WeightLeft { get; set; }
    }

    /// <summary>
    /// The constrained weighted least squares. With the last group eliminated through <c>φ_{M−1} = Δ − Σ_{j&lt;M−1} φ_j</c>
    /// (Δ = v(all) − v(∅)), each coalition z contributes the row <c>e_j = z_j − z_{M−1}</c> and the target
    /// <c>v(z) − v(∅) − z_{M−1}·Δ</c>. The enumerated part of the normal equations is fixed; the sampled part depends
    /// on the draw counts, so bootstrap resamples only redo that part.
    /// </summary>
    private sealed class Regression
    {
        private readonly int m;
        private readonly int outputs;
        private readonly int n;
        private readonly double[] fixedA;
        private readonly double[] fixedB;
        private readonly double[] delta;
        private readonly double[][] pairRows;
        private readonly double[][] pairTargets;
        private readonly double weightLeft;

        public Regression(int m, int outputs, bool[] members, double[] values, Plan plan)
        {
            this.m = m;
            this.outputs = outputs;
            n = m - 1;
            weightLeft = plan.WeightLeft;
            delta = new double[outputs];
            for (int o = 0; o < outputs; o++)
            {
                delta[o] = values[outputs + o] - values[o];
            }

            fixedA = new double[n * n];
            fixedB = new double[n * outputs];
            var e = new double[n];
            var y = new double[outputs];
            for (int f = 0; f < plan.Fixed.Count; f++)
            {
                Row(members, values, 2 + f, e, y);
                Accumulate(fixedA, fixedB, e, y, plan.Fixed[f].Weight);
            }

            // A pair's complement has row −e and its own target: fold both into one row and the target difference
            // (e·eᵀ is the same for both; e·y_S + (−e)·y_Sc = e·(y_S − y_Sc)).
            pairRows = new double[plan.Pairs.Count][];
            pairTargets = new double[plan.Pairs.Count][];
            var yc = new double[outputs];
            for (int u = 0; u < plan.Pairs.Count; u++)
            {
                int c = 2 + plan.Fixed.Count + (2 * u);
                pairRows[u] = new double[n];
                Row(members, values, c, pairRows[u], y);
                Row(members, values, c + 1, e, yc);
                pairTargets[u] = new double[outputs];
                for (int o = 0; o < outputs; o++)
                {
                    pairTargets[u][o] = y[o] - yc[o];
                }
            }
        }

        /// <summary>φ per output for the sampled pairs weighted ∝ <paramref name="counts"/>.</summary>
        public double[][] Solve(double[] counts)
        {
            var phi = new double[outputs][];
            if (n == 0)
            {
                for (int o = 0; o < outputs; o++)
                {
                    phi[o] = [delta[o]];
                }

                return phi;
            }

            var a = (double[])fixedA.Clone();
            var b = (double[])fixedB.Clone();
            double total = counts.Sum();
            if (total > 0)
            {
                // Each pair holds two coalitions of weight count · weightLeft / (2 · total draws).
                double scale = weightLeft / (2 * total);
                for (int u = 0; u < pairRows.Length; u++)
                {
                    if (counts[u] > 0)
                    {
                        Accumulate(a, b, pairRows[u], pairTargets[u], 2 * scale * counts[u], targetScale: 0.5);
                    }
                }
            }

            return Finish(a, b);
        }

        /// <summary>The sampled pairs' terms of the normal equations (unscaled: weight = draw count) summed per block,
        /// pair u in block u mod <paramref name="blocks"/>, with each block's draws.</summary>
        public BlockSums Blocks(int blocks, double[] counts)
        {
            var sums = new BlockSums(
                [.. Enumerable.Range(0, blocks).Select(_ => new double[n * n])],
                [.. Enumerable.Range(0, blocks).Select(_ => new double[n * outputs])],
                new double[blocks]);
            for (int u = 0; u < pairRows.Length; u++)
            {
                int g = u % blocks;
                Accumulate(sums.A[g], sums.B[g], pairRows[u], pairTargets[u], counts[u], targetScale: 0.5);
                sums.Draws[g] += counts[u];
            }

            return sums;
        }

        /// <summary>φ per output for the sampled pairs of the blocks picked <paramref name="picks"/> times each.</summary>
        public double[][] Solve(BlockSums sums, int[] picks)
        {
            if (n == 0)
            {
                return Solve([]);
            }

            var a = (double[])fixedA.Clone();
            var b = (double[])fixedB.Clone();
            double total = 0;
            for (int g = 0; g < picks.Length; g++)
            {
                total += picks[g] * sums.Draws[g];
            }

            for (int g = 0; g < picks.Length && total > 0; g++)
            {
                if (picks[g] > 0)
                {
                    double f = picks[g] * weightLeft / total;
                    AddScaled(a, sums.A[g], f);
                    AddScaled(b, sums.B[g], f);
                }
            }

            return Finish(a, b);
        }

        private static void AddScaled(double[] target, double[] source, double f)
        {
            var t = MemoryMarshal.Cast<double, Vector<double>>(target.AsSpan());
            var s = MemoryMarshal.Cast<double, Vector<double>>(source.AsSpan());
            var fv = new Vector<double>(f);
            for (int v = 0; v < t.Length; v++)
            {
                t[v] += fv * s[v];
            }

            for (int i = t.Length * Vector<double>.Count; i < target.Length; i++)
            {
                target[i] += f * source[i];
            }
        }

        /// <summary>Mirrors the lower triangle of <paramref name="a"/>, solves, and restores the eliminated group.</summary>
        private double[][] Finish(double[] a, double[] b)
        {
            var phi = new double[outputs][];
            for (int i = 0; i < n; i++)
            {
                for (int j = i + 1; j < n; j++)
                {
                    a[(i * n) + j] = a[(j * n) + i];
                }
            }

            SolveSymmetric(a, n, b, outputs);
            for (int o = 0; o < outputs; o++)
            {
                phi[o] = new double[m];
                double sum = 0;
                for (int j = 0; j < n; j++)
                {
                    phi[o][j] = b[(j * outputs) + o];
                    sum += phi[o][j];
                }

                phi[o][n] = delta[o] - sum;
            }

            return phi;
        }

        private void Row(bool[] members, double[] values, int c, double[] e, double[] y)
        {
            double last = members[(c * m) + n] ? 1 : 0;
            for (int j = 0; j < n; j++)
            {
                e[j] = (members[(c * m) + j] ? 1 : 0) - last;
            }

            for (int o = 0; o < outputs; o++)
            {
                y[o] = values[(c * outputs) + o] - values[o] - (last * delta[o]);
            }
        }

        /// <summary>Adds <c>w·e·eᵀ</c> (lower triangle) to <paramref name="a"/> and <c>w·targetScale·e·y</c> to
        /// <paramref name="b"/>.</summary>
        private void Accumulate(double[] a, double[] b, double[] e, double[] y, double w, double targetScale = 1)
        {
            for (int i = 0; i < n; i++)
            {
                double wi = w * e[i];
                if (wi == 0)
                {
                    continue;
                }

                // Row i of the lower triangle, j = 0 … i, as one vectorised a += wi·e.
                var row = a.AsSpan(i * n, i + 1);
                var ej = e.AsSpan(0, i + 1);
                int j = 0;
                if (System.Numerics.Vector.IsHardwareAccelerated)
                {
                    var wv = new System.Numerics.Vector<double>(wi);
                    var rv = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(row);
                    var ev = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(ej);
                    for (int v = 0; v < rv.Length; v++)
                    {
                        rv[v] += wv * ev[v];
                    }

                    j = rv.Length * System.Numerics.Vector<double>.Count;
                }

                for (; j <= i; j++)
                {
                    row[j] += wi * ej[j];
                }

                for (int o = 0; o < outputs; o++)
                {
                    b[(i * outputs) + o] += wi * targetScale * y[o];
                }
            }
        }
    }
}
