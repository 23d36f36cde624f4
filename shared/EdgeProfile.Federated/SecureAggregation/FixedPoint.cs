namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Fixed-point encoding of real vectors into the ring <c>Z_(2^64)</c> used by secure aggregation: <c>x</c> becomes
/// <c>round(x · Scale)</c> as a two's-complement 64-bit integer, so ring addition of encodings is addition of values.
/// </summary>
/// <remarks>
/// Range limit: a sum of <c>N</c> encodings decodes correctly only while <c>|Σ round(x_i · Scale)| &lt; 2^63</c>,
/// i.e. roughly <c>|Σ x_i| · Scale &lt; 2^63</c>; beyond it the sum wraps around and decodes to a wrong value with
/// no error. <see cref="MaxAbsValue"/> gives the per-value bound that keeps any sum of <c>N</c> values in range.
/// Each encoding rounds by at most <c>0.5 / Scale</c>, so a decoded sum of <c>N</c> values is within
/// <c>N · 0.5 / Scale</c> of the real sum (plus the double rounding of the division, negligible below 2^53).
/// </remarks>
public sealed class FixedPoint
{
    private const double TwoTo63 = 9223372036854775808.0;

    /// <summary>Creates an encoder with the given scale (a power of two keeps <c>x · Scale</c> exact).</summary>
    public FixedPoint(double scale)
    {
        if (!double.IsFinite(scale) || scale < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "the scale must be finite and at least 1");
        }
        Scale = scale;
    }

    /// <summary>Multiplier applied before rounding.</summary>
    public double Scale { get; }

    /// <summary>Largest <c>|x|</c> such that any sum of <paramref name="addends"/> encoded values stays decodable.</summary>
    public double MaxAbsValue(int addends)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(addends, 1);
        // One rounding step of slack per addend keeps Σ round(x·Scale) strictly inside (−2^63, 2^63).
        return (TwoTo63 / addends - 1) / Scale;
    }

    /// <summary>Encodes <paramref name="values"/> into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is not finite or its encoding does not fit 63 bits.</exception>
    public void Encode(ReadOnlySpan<float> values, Span<ulong> destination)
    {
        if (destination.Length != values.Length)
        {
            throw new ArgumentException($"destination has {destination.Length} slots for {values.Length} values");
        }
        for (var i = 0; i < values.Length; i++)
        {
            var scaled = Math.Round(values[i] * Scale, MidpointRounding.ToEven);
            if (!(Math.Abs(scaled) < TwoTo63))
            {
                throw new ArgumentOutOfRangeException(
                    nameof(values), values[i], $"value {i} is not finite or too large for scale {Scale}");
            }
            destination[i] = unchecked((ulong)(long)scaled);
        }
    }

    /// <summary>Encodes <paramref name="values"/> into a new array.</summary>
    public ulong[] Encode(ReadOnlySpan<float> values)
    {
        var encoded = new ulong[values.Length];
        Encode(values, encoded);
        return encoded;
    }

    /// <summary>Decodes one ring element (a sum of encodings) as a two's-complement value divided by the scale.</summary>
    public double Decode(ulong element) => unchecked((long)element) / Scale;

    /// <summary>Decodes a vector of ring elements, each the sum of the encodings of up to N clients.</summary>
    public double[] DecodeSum(ReadOnlySpan<ulong> elements)
    {
        var decoded = new double[elements.Length];
        for (var i = 0; i < elements.Length; i++)
        {
            decoded[i] = Decode(elements[i]);
        }
        return decoded;
    }
}
