namespace EdgeProfile.Federated.Privacy;

/// <summary>
/// Clipping of an update to an L2 ball, which bounds one client's contribution to the round's sum (its sensitivity)
/// by the clipping norm C.
/// </summary>
public static class L2Clipping
{
    /// <summary>The Euclidean norm, accumulated in double precision.</summary>
    public static double Norm(ReadOnlySpan<float> vector) => Aggregation.UpdateClipping.L2Norm(vector);

    /// <summary>
    /// A copy of <paramref name="delta"/> scaled by <c>min(1, C/‖delta‖)</c> (<see cref="Aggregation.UpdateClipping.ClipToNorm"/>):
    /// its norm, computed as <see cref="Norm"/> does, is ≤ C despite float rounding. Throws on non-finite input, whose
    /// norm cannot be bounded.
    /// </summary>
    public static float[] Clip(ReadOnlySpan<float> delta, double clipNorm)
    {
        if (!(clipNorm > 0) || double.IsPositiveInfinity(clipNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(clipNorm), clipNorm, "must be positive and finite");
        }
        if (!double.IsFinite(Norm(delta)))
        {
            throw new ArgumentException("the update holds a non-finite value or overflows", nameof(delta));
        }
        var clipped = delta.ToArray();
        Aggregation.UpdateClipping.ClipToNorm(clipped, clipNorm);
        return clipped;
    }
}
