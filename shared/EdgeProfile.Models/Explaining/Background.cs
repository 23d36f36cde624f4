namespace EdgeProfile.Models.Explaining;

/// <summary>
/// The background sample that interventional expectations are taken over: rows of raw feature values with weights
/// summing to 1, and where they came from (said in every explanation, since attributions are relative to it).
/// </summary>
public sealed class Background
{
    /// <summary>Rows (<c>Count × Inputs</c>, row-major) with equal weights.</summary>
    /// <exception cref="ArgumentException">Shapes disagree, a value is not finite, or there is no row.</exception>
    public Background(double[] rows, int inputs, string source, double[]? weights = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        if (inputs <= 0 || rows.Length == 0 || rows.Length % inputs != 0)
        {
            throw new ArgumentException($"background: {rows.Length} values are not whole rows of {inputs} features", nameof(rows));
        }

        if (Array.Exists(rows, v => !double.IsFinite(v)))
        {
            throw new ArgumentException("background: every value must be finite", nameof(rows));
        }

        int count = rows.Length / inputs;
        if (weights is null)
        {
            weights = new double[count];
            Array.Fill(weights, 1.0 / count);
        }
        else
        {
            if (weights.Length != count || Array.Exists(weights, w => !double.IsFinite(w) || w < 0) || weights.Sum() <= 0)
            {
                throw new ArgumentException($"background: expected {count} non-negative weights with a positive sum", nameof(weights));
            }

            double sum = weights.Sum();
            weights = [.. weights.Select(w => w / sum)];
        }

        Rows = rows;
        Inputs = inputs;
        Weights = weights;
        Source = source;
    }

    /// <summary>Rows, row-major.</summary>
    public double[] Rows { get; }

    /// <summary>Features per row.</summary>
    public int Inputs { get; }

    /// <summary>Weight of each row (sum 1).</summary>
    public double[] Weights { get; }

    /// <summary>Number of rows K.</summary>
    public int Count => Weights.Length;

    /// <summary>Where the rows came from, e.g. <c>16 training rows (seed 1)</c> or <c>training mean</c>.</summary>
    public string Source { get; }

    /// <summary>Row <paramref name="k"/>.</summary>
    public ReadOnlySpan<double> Row(int k) => Rows.AsSpan(k * Inputs, Inputs);
}
