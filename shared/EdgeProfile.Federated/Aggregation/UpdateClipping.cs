namespace EdgeProfile.Federated.Aggregation;

/// <summary>L2 norm clipping of one update, as clients apply it before masking (secure aggregation hides the norm).</summary>
public static class UpdateClipping
{
    /// <summary>The L2 norm of <paramref name="values"/>, accumulated in double.</summary>
    public static double L2Norm(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (var v in values)
        {
            sum += (double)v * v;
        }
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// Scales <paramref name="values"/> in place so that its L2 norm is at most <paramref name="c"/> (unchanged when it
    /// already is) and returns the norm it had before. The bound holds for the result as <see cref="L2Norm"/> computes
    /// it despite float rounding (differential privacy's sensitivity depends on it).
    /// </summary>
    public static double ClipToNorm(Span<float> values, double c)
    {
        if (!(c > 0) || double.IsInfinity(c))
        {
            throw new ArgumentOutOfRangeException(nameof(c), c, "clip norm must be positive and finite");
        }
        var norm = L2Norm(values);
        if (norm > c)
        {
            var factor = (float)(c / norm);
            for (var i = 0; i < values.Length; i++)
            {
                values[i] *= factor;
            }
            // Rounding each coordinate can leave the norm a few ulps over c: shrink a little until it holds.
            for (var attempt = 0; attempt < 50 && L2Norm(values) > c; attempt++)
            {
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] *= 0.9999999f;
                }
            }
        }
        return norm;
    }
}
