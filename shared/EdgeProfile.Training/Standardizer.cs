namespace EdgeProfile.Training;

/// <summary>Per-feature mean and standard deviation, fitted on training rows only; <c>(x − Mean) / Std</c>.</summary>
public sealed record Standardizer(float[] Mean, float[] Std)
{
    /// <summary>Smallest standard deviation used, so constant features map to 0 instead of dividing by zero.</summary>
    public const float StdFloor = 1e-6f;

    /// <summary>Fits mean and (population) standard deviation over <paramref name="rows"/>.</summary>
    public static Standardizer Fit(float[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Length == 0)
        {
            throw new ArgumentException("cannot fit a standardiser on no rows", nameof(rows));
        }
        var width = rows[0].Length;
        var sum = new double[width];
        foreach (var row in rows)
        {
            for (var j = 0; j < width; j++)
            {
                sum[j] += row[j];
            }
        }
        var mean = new double[width];
        for (var j = 0; j < width; j++)
        {
            mean[j] = sum[j] / rows.Length;
        }
        var sq = new double[width];
        foreach (var row in rows)
        {
            for (var j = 0; j < width; j++)
            {
                var d = row[j] - mean[j];
                sq[j] += d * d;
            }
        }
        var std = new float[width];
        for (var j = 0; j < width; j++)
        {
            std[j] = Math.Max((float)Math.Sqrt(sq[j] / rows.Length), StdFloor);
        }
        return new Standardizer(mean.Select(m => (float)m).ToArray(), std);
    }

    /// <summary>The standardised rows as one row-major block <c>[rows × width]</c>.</summary>
    public float[] TransformFlat(float[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var width = Mean.Length;
        var flat = new float[rows.Length * width];
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i].Length != width)
            {
                throw new ArgumentException($"row {i} has {rows[i].Length} features, expected {width}", nameof(rows));
            }
            for (var j = 0; j < width; j++)
            {
                flat[i * width + j] = (rows[i][j] - Mean[j]) / Std[j];
            }
        }
        return flat;
    }
}
