using System.Globalization;
using EdgeProfile.Synthesis.Dfs;

namespace EdgeProfile.Synthesis.Selection;

/// <summary>
/// Chooses features from a matrix: drops mostly-missing and constant ones, ranks the rest by mutual information with
/// the label, then walks the ranking and drops any feature too correlated with one kept before it.
/// </summary>
public static class FeatureSelector
{
    /// <summary>Selects from <paramref name="matrix"/> against <paramref name="label"/> (0/1 when <paramref name="binaryLabel"/>, else binned like the features).</summary>
    public static SelectionResult Select(FeatureMatrix matrix, double[] label, bool binaryLabel, SelectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        if (label.Length != matrix.Rows.Count)
        {
            throw new ArgumentException($"{label.Length} labels for {matrix.Rows.Count} rows", nameof(label));
        }

        var y = binaryLabel ? label.Select(v => v > 0 ? 1 : 0).ToArray() : MutualInformation.Discretize(label, options.Bins);
        var dropped = new List<DroppedFeature>();
        var survivors = new List<int>();
        var missingShare = new double[matrix.Features.Count];
        for (var f = 0; f < matrix.Features.Count; f++)
        {
            var column = matrix.Columns[f];
            var missing = column.Count(double.IsNaN);
            missingShare[f] = column.Length == 0 ? 1 : (double)missing / column.Length;
            var name = matrix.Features[f].Name;
            if (missingShare[f] > options.MaxMissing)
            {
                dropped.Add(new DroppedFeature(name, DropReason.MostlyNull, Invariant($"{missingShare[f]:P1} missing (limit {options.MaxMissing:P0})")));
            }
            else if (IsConstant(column, out var value))
            {
                dropped.Add(new DroppedFeature(name, DropReason.Constant, double.IsNaN(value) ? "no value" : Invariant($"every value is {value:G6}")));
            }
            else
            {
                survivors.Add(f);
            }
        }

        var mi = new double[matrix.Features.Count];
        Parallel.ForEach(survivors, f => mi[f] = MutualInformation.Compute(MutualInformation.Discretize(matrix.Columns[f], options.Bins), y));

        var order = survivors
            .OrderByDescending(f => mi[f])
            .ThenBy(f => matrix.Features[f].Depth)
            .ThenBy(f => matrix.Features[f].Name, StringComparer.Ordinal)
            .ToList();
        var kept = new List<int>();
        foreach (var f in order)
        {
            var clash = -1;
            var r = 0.0;
            foreach (var k in kept)
            {
                r = Pearson(matrix.Columns[f], matrix.Columns[k]);
                if (Math.Abs(r) > options.MaxCorrelation)
                {
                    clash = k;
                    break;
                }
            }

            if (clash >= 0)
            {
                var other = matrix.Features[clash].Name;
                dropped.Add(new DroppedFeature(matrix.Features[f].Name, DropReason.Correlated, Invariant($"r = {r:F3} with {other}"), other, r, mi[f]));
            }
            else
            {
                kept.Add(f);
            }
        }

        var ranked = kept.Select((f, i) => new RankedFeature(i + 1, matrix.Features[f].Name, mi[f], missingShare[f])).ToList();
        return new SelectionResult(matrix.Features.Count, dropped, ranked, ranked.Take(options.Top).ToList(), MutualInformation.Entropy(y));
    }

    /// <summary>Pearson correlation over the rows where both values are present; 0 when either is constant there.</summary>
    public static double Pearson(double[] a, double[] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var n = 0;
        double ma = 0, mb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            if (!double.IsNaN(a[i]) && !double.IsNaN(b[i]))
            {
                n++;
                ma += a[i];
                mb += b[i];
            }
        }

        if (n < 2)
        {
            return 0;
        }

        ma /= n;
        mb /= n;
        double sab = 0, saa = 0, sbb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            if (!double.IsNaN(a[i]) && !double.IsNaN(b[i]))
            {
                var da = a[i] - ma;
                var db = b[i] - mb;
                sab += da * db;
                saa += da * da;
                sbb += db * db;
            }
        }

        return saa <= 0 || sbb <= 0 ? 0 : sab / Math.Sqrt(saa * sbb);
    }

    private static bool IsConstant(double[] column, out double value)
    {
        value = double.NaN;
        foreach (var v in column)
        {
            if (double.IsNaN(v))
            {
                continue;
            }

            if (double.IsNaN(value))
            {
                value = v;
            }
            else if (v != value)
            {
                return false;
            }
        }

        return true;
    }

    private static void Validate(SelectionOptions o)
    {
        if (o.MaxMissing is < 0 or > 1 || double.IsNaN(o.MaxMissing))
        {
            throw new SynthesisException($"max-missing must be between 0 and 1 (got {o.MaxMissing})", isConfiguration: true);
        }

        if (o.MaxCorrelation is <= 0 or > 1 || double.IsNaN(o.MaxCorrelation))
        {
            throw new SynthesisException($"max-correlation must be above 0 and at most 1 (got {o.MaxCorrelation})", isConfiguration: true);
        }

        if (o.Top < 1)
        {
            throw new SynthesisException($"top must be 1 or more (got {o.Top})", isConfiguration: true);
        }

        if (o.Bins < 2)
        {
            throw new SynthesisException($"bins must be 2 or more (got {o.Bins})", isConfiguration: true);
        }
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
