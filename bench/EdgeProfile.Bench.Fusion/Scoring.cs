using System.Globalization;
using EdgeProfile.Training;

namespace EdgeProfile.Bench.Fusion;

/// <summary>Metrics, a paired bootstrap, the stacking logistic regression and number formatting.</summary>
internal static class Scoring
{
    /// <summary>
    /// HR@10 of the category task: the share of <paramref name="rows"/> whose <paramref name="target"/> category is among
    /// the 10 highest <paramref name="scores"/> (<c>[row][category]</c>; ties broken pessimistically: a target tied with the
    /// 10th is a hit only if fewer than 10 other categories score at least as high).
    /// </summary>
    public static double HitRate(IReadOnlyList<float[]> scores, IReadOnlyList<int> target, IReadOnlyList<int> rows, int k = 10) =>
        rows.Count == 0 ? double.NaN : rows.Average(r => Hit(scores[r], target[r], k) ? 1.0 : 0.0);

    /// <summary>Whether <paramref name="target"/> ranks in the top <paramref name="k"/> of <paramref name="scores"/> (pessimistic on ties).</summary>
    public static bool Hit(float[] scores, int target, int k = 10)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var s = scores[target];
        var better = 0;
        for (var c = 0; c < scores.Length; c++)
        {
            if (c != target && scores[c] >= s)
            {
                better++;
            }
        }
        return better < k;
    }

    /// <summary>ROC AUC of <paramref name="scores"/> against 0/1 <paramref name="labels"/> over <paramref name="rows"/>.</summary>
    public static double Auc(IReadOnlyList<float> scores, IReadOnlyList<bool> labels, IReadOnlyList<int> rows) =>
        Metrics.RocAuc([.. rows.Select(r => scores[r])], [.. rows.Select(r => labels[r] ? 1f : 0f)]);

    /// <summary>
    /// Paired bootstrap (percentile, 95%) of <c>metric(b) − metric(a)</c> over resampled <paramref name="rows"/>:
    /// the point difference and the interval.
    /// </summary>
    public static (double Difference, double Low, double High) PairedBootstrap(IReadOnlyList<int> rows, Func<IReadOnlyList<int>, double> a, Func<IReadOnlyList<int>, double> b, int resamples, int seed)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var random = new Random(seed);
        var differences = new List<double>(resamples);
        var sample = new int[rows.Count];
        for (var i = 0; i < resamples; i++)
        {
            for (var j = 0; j < sample.Length; j++)
            {
                sample[j] = rows[random.Next(rows.Count)];
            }
            var d = b(sample) - a(sample);
            if (!double.IsNaN(d))
            {
                differences.Add(d);
            }
        }
        differences.Sort();
        return (b(rows) - a(rows), differences[(int)(0.025 * (differences.Count - 1))], differences[(int)Math.Ceiling(0.975 * (differences.Count - 1))]);
    }

    /// <summary>logit(p), p clipped to [1e-6, 1 − 1e-6].</summary>
    public static double Logit(double p)
    {
        p = Math.Clamp(p, 1e-6, 1 - 1e-6);
        return Math.Log(p / (1 - p));
    }

    /// <summary>
    /// Logistic regression <c>P(y) = σ(w·x + b)</c> fitted by Newton's method (IRLS) with an L2 penalty
    /// <paramref name="l2"/> on the weights (not the bias); returns <c>[w…, b]</c>.
    /// </summary>
    public static double[] FitLogistic(IReadOnlyList<double[]> x, IReadOnlyList<bool> y, double l2 = 1e-3, int iterations = 50)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var n = x[0].Length + 1;
        var beta = new double[n];
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            var gradient = new double[n];
            var hessian = new double[n, n];
            for (var i = 0; i < x.Count; i++)
            {
                var row = (double[])[.. x[i], 1.0];
                var z = 0.0;
                for (var j = 0; j < n; j++)
                {
                    z += beta[j] * row[j];
                }
                var p = 1 / (1 + Math.Exp(-z));
                var w = Math.Max(p * (1 - p), 1e-9);
                var residual = (y[i] ? 1 : 0) - p;
                for (var a = 0; a < n; a++)
                {
                    gradient[a] += residual * row[a];
                    for (var b = 0; b < n; b++)
                    {
                        hessian[a, b] += w * row[a] * row[b];
                    }
                }
            }
            for (var a = 0; a < n - 1; a++)
            {
                gradient[a] -= l2 * x.Count * beta[a];
                hessian[a, a] += l2 * x.Count;
            }
            var step = Solve(hessian, gradient);
            var size = 0.0;
            for (var j = 0; j < n; j++)
            {
                beta[j] += step[j];
                size = Math.Max(size, Math.Abs(step[j]));
            }
            if (size < 1e-8)
            {
                break;
            }
        }
        return beta;
    }

    /// <summary>Solves <c>A·x = b</c> (small, symmetric positive definite) by Gaussian elimination with partial pivoting.</summary>
    private static double[] Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        var m = (double[,])a.Clone();
        var v = (double[])b.Clone();
        for (var c = 0; c < n; c++)
        {
            var pivot = c;
            for (var r = c + 1; r < n; r++)
            {
                if (Math.Abs(m[r, c]) > Math.Abs(m[pivot, c]))
                {
                    pivot = r;
                }
            }
            for (var j = 0; j < n; j++)
            {
                (m[c, j], m[pivot, j]) = (m[pivot, j], m[c, j]);
            }
            (v[c], v[pivot]) = (v[pivot], v[c]);
            for (var r = c + 1; r < n; r++)
            {
                var f = m[r, c] / m[c, c];
                for (var j = c; j < n; j++)
                {
                    m[r, j] -= f * m[c, j];
                }
                v[r] -= f * v[c];
            }
        }
        var x = new double[n];
        for (var r = n - 1; r >= 0; r--)
        {
            var s = v[r];
            for (var j = r + 1; j < n; j++)
            {
                s -= m[r, j] * x[j];
            }
            x[r] = s / m[r, r];
        }
        return x;
    }

    /// <summary>Sample standard deviation (0 for one value).</summary>
    public static double StandardDeviation(IReadOnlyCollection<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var mean = values.Average();
        return values.Count > 1 ? Math.Sqrt(values.Sum(x => (x - mean) * (x - mean)) / (values.Count - 1)) : 0;
    }

    /// <summary>"mean ± sd" with four decimals (signed when <paramref name="signed"/>).</summary>
    public static string Stat(IReadOnlyCollection<double> values, bool signed = false)
    {
        ArgumentNullException.ThrowIfNull(values);
        var mean = values.Average();
        var m = signed ? Signed(mean) : mean.ToString("F4", CultureInfo.InvariantCulture);
        return values.Count > 1 ? $"{m} ± {StandardDeviation(values).ToString("F4", CultureInfo.InvariantCulture)}" : m;
    }

    /// <summary>A signed number with four decimals.</summary>
    public static string Signed(double x) => x.ToString("+0.0000;−0.0000;0.0000", CultureInfo.InvariantCulture);
}
