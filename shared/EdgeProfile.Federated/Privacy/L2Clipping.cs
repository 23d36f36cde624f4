namespace EdgeProfile.Federated.Privacy;

/// <summary>
/// Clipping of an update to an L2 ball, which bounds one client's contribution to the round's sum (its sensitivity)
/// by the clipping norm C.
/// </summary>
public static class L2Clipping
{
    /// <summary>The Euclidean norm, accumulated in double precision.</summary>
    public static double Norm(ReadOnlySpan<float> vector)
    {
        double sum = 0;
        foreach (var v in vector)
        {
            sum += (double)v * v;
        }
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// A copy of <paramref name="delta"/> scaled by <c>min(1, C/‖delta‖)</c>. The result's norm, computed as
    /// <see cref="Norm"/> does, is guaranteed ≤ C despite float rounding. Throws on non-finite input, whose norm
    /// cannot be bounded.
    /// </summary>
    public static float[] Clip(ReadOnlySpan<float> delta, double clipNorm)
    {
        if (!(clipNorm > 0) || double.IsPositiveInfinity(clipNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(clipNorm), clipNorm, "must be positive and finite");
        }
        var norm = Norm(delta);
        if (!double.IsFinite(norm))
        {
            throw new ArgumentException("the update holds a non-finite value or overflows", nameof(delta));
        }
        var clipped = delta.ToArray();
        if (norm <= clipNorm)
        {
            return clipped;
        }
        // Rounding each coordinate to float can push the norm a few ulps over C; shrink the factor until it holds.
        var factor = clipNorm / norm;
        for (var attempt = 0; ; attempt++)
        {
            for (var i = 0; i < clipped.Length; i++)
            {
                clipped[i] = (float)(delta[i] * factor);
            }
            if (Norm(clipped) <= clipNorm || attempt == 50)
            {
                return clipped;
            }
            factor *= 1 - 1e-7;
        }
    }
}
