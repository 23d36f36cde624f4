namespace EdgeProfile.Federated.Jobs;

/// <summary>
/// A participant's feature statistics for a job's statistics phase (round 0), a vector whose sum over participants is
/// all the hub needs to fix the global input transform: the row count, then per feature Σx, Σx², Σx³, the count of
/// negative values, and Σt, Σt² of t = log1p(max(x, 0)).
/// </summary>
public static class FeatureSums
{
    /// <summary>Length of the vector for <paramref name="features"/> features.</summary>
    public static int Width(int features) => 1 + (6 * features);

    /// <summary>The statistics of <paramref name="rows"/> (each at least <paramref name="features"/> wide).</summary>
    public static double[] Of(IReadOnlyList<float[]> rows, int features)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var s = new double[Width(features)];
        s[0] = rows.Count;
        foreach (var row in rows)
        {
            for (var j = 0; j < features; j++)
            {
                double x = row[j];
                var t = Math.Log(1 + Math.Max(x, 0));
                s[1 + j] += x;
                s[1 + features + j] += x * x;
                s[1 + (2 * features) + j] += x * x * x;
                s[1 + (3 * features) + j] += x < 0 ? 1 : 0;
                s[1 + (4 * features) + j] += t;
                s[1 + (5 * features) + j] += t * t;
            }
        }
        return s;
    }
}
