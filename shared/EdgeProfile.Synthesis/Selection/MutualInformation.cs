namespace EdgeProfile.Synthesis.Selection;

/// <summary>
/// Mutual information of discretised variables: equal-frequency bins (ties never split, so at most the number asked)
/// plus a bin for missing values, and the plug-in estimate in nats.
/// </summary>
public static class MutualInformation
{
    /// <summary>
    /// Bin codes 0…k−1 for present values (k ≤ <paramref name="bins"/>) by equal-frequency cut points that never
    /// split a run of equal values, and k for NaN.
    /// </summary>
    public static int[] Discretize(double[] values, int bins)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var present = values.Where(v => !double.IsNaN(v)).ToArray();
        Array.Sort(present);

        // Equal frequency, ties never split: each bin takes its share of what is left, extended to the end of a run of
        // equal values. A large mass at one value (say 90 % zeros) becomes one bin and the rest is still split.
        var cuts = new List<double>();
        var n = present.Length;
        var start = 0;
        for (var left = Math.Min(bins, n); left > 1 && start < n; left--)
        {
            var end = start + (int)Math.Ceiling((n - start) / (double)left);
            while (end < n && present[end] == present[end - 1])
            {
                end++;
            }

            if (end >= n)
            {
                break;
            }

            cuts.Add(present[end]);
            start = end;
        }

        var missing = cuts.Count + 1;
        var codes = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            codes[i] = double.IsNaN(v) ? missing : UpperBound(cuts, v);
        }

        return codes;
    }

    /// <summary>MI of two code sequences of equal length, nats.</summary>
    public static double Compute(int[] x, int[] y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length", nameof(y));
        }

        var n = x.Length;
        if (n == 0)
        {
            return 0;
        }

        int nx = x.Max() + 1, ny = y.Max() + 1;
        var joint = new int[nx * ny];
        var px = new int[nx];
        var py = new int[ny];
        for (var i = 0; i < n; i++)
        {
            joint[(x[i] * ny) + y[i]]++;
            px[x[i]]++;
            py[y[i]]++;
        }

        var mi = 0.0;
        for (var a = 0; a < nx; a++)
        {
            for (var b = 0; b < ny; b++)
            {
                var c = joint[(a * ny) + b];
                if (c > 0)
                {
                    mi += (double)c / n * Math.Log((double)c * n / ((double)px[a] * py[b]));
                }
            }
        }

        return Math.Max(0, mi);
    }

    /// <summary>Entropy of a code sequence, nats.</summary>
    public static double Entropy(int[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Length == 0)
        {
            return 0;
        }

        var h = 0.0;
        foreach (var g in x.GroupBy(v => v))
        {
            var p = (double)g.Count() / x.Length;
            h -= p * Math.Log(p);
        }

        return h;
    }

    private static int UpperBound(List<double> cuts, double v)
    {
        int lo = 0, hi = cuts.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (cuts[mid] <= v)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
