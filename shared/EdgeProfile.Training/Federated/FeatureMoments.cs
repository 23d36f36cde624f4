namespace EdgeProfile.Training.Federated;

/// <summary>
/// Per-feature count, <c>Σx</c> and <c>Σx²</c> of a client's rows after the optional <c>log1p(max(x, 0))</c>: what a
/// federated job gathers (and adds up) to fix the input standardisation without pooling any row. The sum of all clients'
/// moments gives exactly the mean and population standard deviation of the union.
/// </summary>
public sealed record FeatureMoments(long Count, double[] Sum, double[] SumOfSquares)
{
    /// <summary>Moments of <paramref name="rows"/> (raw features) after the <paramref name="log1p"/> flags.</summary>
    public static FeatureMoments Of(float[][] rows, IReadOnlyList<bool>? log1p = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var width = rows.Length > 0 ? rows[0].Length : log1p?.Count ?? throw new ArgumentException("no rows and no width", nameof(rows));
        var sum = new double[width];
        var squares = new double[width];
        foreach (var row in rows)
        {
            if (row.Length != width)
            {
                throw new ArgumentException($"rows differ in width ({row.Length} vs {width})", nameof(rows));
            }
            for (var j = 0; j < width; j++)
            {
                var v = log1p is { } flags && flags[j] ? Math.Log(1 + Math.Max(row[j], 0)) : row[j];
                sum[j] += v;
                squares[j] += v * v;
            }
        }
        return new FeatureMoments(rows.Length, sum, squares);
    }

    /// <summary>The moments of both sets of rows together.</summary>
    public FeatureMoments Add(FeatureMoments other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Sum.Length != Sum.Length)
        {
            throw new ArgumentException($"{other.Sum.Length} features, expected {Sum.Length}", nameof(other));
        }
        return new FeatureMoments(
            Count + other.Count,
            Sum.Zip(other.Sum, (a, b) => a + b).ToArray(),
            SumOfSquares.Zip(other.SumOfSquares, (a, b) => a + b).ToArray());
    }

    /// <summary>Mean and population standard deviation (floored at <see cref="Standardizer.StdFloor"/>).</summary>
    public (float[] Mean, float[] Std) MeanStd()
    {
        if (Count <= 0)
        {
            throw new InvalidOperationException("no rows behind these moments");
        }
        var mean = new float[Sum.Length];
        var std = new float[Sum.Length];
        for (var j = 0; j < Sum.Length; j++)
        {
            var m = Sum[j] / Count;
            mean[j] = (float)m;
            std[j] = Math.Max((float)Math.Sqrt(Math.Max((SumOfSquares[j] / Count) - (m * m), 0)), Standardizer.StdFloor);
        }
        return (mean, std);
    }
}
