using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Fixed-point encoding of real vectors into the ring <c>Z_(2^b)</c> used by secure aggregation (<c>b</c> = 64 by
/// default, or 32): <c>x</c> becomes <c>round(x · Scale)</c> as a two's-complement <c>b</c>-bit integer, so ring
/// addition of encodings is addition of values. Ring elements travel as little-endian <c>b/8</c>-byte words.
/// </summary>
/// <remarks>
/// Range limit: a sum of <c>N</c> encodings decodes correctly only while <c>|Σ round(x_i · Scale)| &lt; 2^(b−1)</c>,
/// i.e. roughly <c>|Σ x_i| · Scale &lt; 2^(b−1)</c>; beyond it the sum wraps around and decodes to a wrong value with
/// no error. <see cref="MaxAbsValue"/> gives the per-value bound that keeps any sum of <c>N</c> values in range.
/// Each encoding rounds by at most <c>0.5 / Scale</c>, so a decoded sum of <c>N</c> values is within
/// <c>N · 0.5 / Scale</c> of the real sum (plus the double rounding of the division, negligible below 2^53).
/// </remarks>
public sealed class FixedPoint
{
    private readonly double _half;

    /// <summary>Creates an encoder with the given scale (a power of two keeps <c>x · Scale</c> exact) for the ring of
    /// <paramref name="ringBits"/> bits (64 or 32).</summary>
    public FixedPoint(double scale, int ringBits = 64)
    {
        if (!double.IsFinite(scale) || scale < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "the scale must be finite and at least 1");
        }
        if (ringBits is not (32 or 64))
        {
            throw new ArgumentOutOfRangeException(nameof(ringBits), ringBits, "the ring has 32 or 64 bits");
        }
        Scale = scale;
        RingBits = ringBits;
        _half = Math.ScaleB(1.0, ringBits - 1);
    }

    /// <summary>Multiplier applied before rounding.</summary>
    public double Scale { get; }

    /// <summary>Bits of the ring (64 or 32).</summary>
    public int RingBits { get; }

    /// <summary>Bytes of one encoded value.</summary>
    public int ElementBytes => RingBits / 8;

    /// <summary>Largest <c>|x|</c> such that any sum of <paramref name="addends"/> encoded values stays decodable.</summary>
    public double MaxAbsValue(int addends)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(addends, 1);
        // One rounding step of slack per addend keeps Σ round(x·Scale) strictly inside (−2^(b−1), 2^(b−1)).
        return (_half / addends - 1) / Scale;
    }

    /// <summary>Encodes <paramref name="values"/> into <paramref name="destination"/> (a 64-bit ring only).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is not finite or its encoding does not fit 63 bits.</exception>
    public void Encode(ReadOnlySpan<float> values, Span<ulong> destination)
    {
        if (RingBits != 64)
        {
            throw new InvalidOperationException("64-bit words need a 64-bit ring; use EncodeBytes");
        }
        if (destination.Length != values.Length)
        {
            throw new ArgumentException($"destination has {destination.Length} slots for {values.Length} values");
        }
        for (var i = 0; i < values.Length; i++)
        {
            destination[i] = unchecked((ulong)Round(values[i], i));
        }
    }

    /// <summary>Encodes <paramref name="values"/> into a new array (a 64-bit ring only).</summary>
    public ulong[] Encode(ReadOnlySpan<float> values)
    {
        var encoded = new ulong[values.Length];
        Encode(values, encoded);
        return encoded;
    }

    /// <summary>Encodes <paramref name="values"/> as ring elements, <see cref="ElementBytes"/> little-endian bytes each.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is not finite or its encoding does not fit the ring.</exception>
    public byte[] EncodeBytes(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * ElementBytes];
        if (RingBits == 64)
        {
            for (var i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), Round(values[i], i));
            }
        }
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), (int)Round(values[i], i));
            }
        }
        return bytes;
    }

    /// <summary>Decodes one 64-bit ring element (a sum of encodings) as a two's-complement value divided by the scale.</summary>
    public double Decode(ulong element) => unchecked((long)element) / Scale;

    /// <summary>Decodes a vector of 64-bit ring elements, each the sum of the encodings of up to N clients.</summary>
    public double[] DecodeSum(ReadOnlySpan<ulong> elements)
    {
        var decoded = new double[elements.Length];
        for (var i = 0; i < elements.Length; i++)
        {
            decoded[i] = Decode(elements[i]);
        }
        return decoded;
    }

    /// <summary>Decodes ring elements in their byte form (<see cref="ElementBytes"/> each), each the sum of the
    /// encodings of up to N clients (vectorised).</summary>
    public double[] DecodeSumBytes(ReadOnlySpan<byte> elements)
    {
        if (elements.Length % ElementBytes != 0)
        {
            throw new ArgumentException($"{elements.Length} bytes is not a whole number of {ElementBytes}-byte elements");
        }
        var decoded = new double[elements.Length / ElementBytes];
        DecodeRange(elements, decoded);
        return decoded;
    }

    private void DecodeRange(ReadOnlySpan<byte> elements, Span<double> decoded)
    {
        var i = 0;
        var scale = Vector256.Create(Scale);
        if (Vector256.IsHardwareAccelerated && BitConverter.IsLittleEndian)
        {
            if (RingBits == 64)
            {
                var words = MemoryMarshal.Cast<byte, long>(elements);
                for (; i + Vector256<long>.Count <= decoded.Length; i += Vector256<long>.Count)
                {
                    (Vector256.ConvertToDouble(Vector256.Create(words.Slice(i, Vector256<long>.Count))) / scale).CopyTo(decoded[i..]);
                }
            }
            else
            {
                var words = MemoryMarshal.Cast<byte, int>(elements);
                for (; i + Vector256<int>.Count <= decoded.Length; i += Vector256<int>.Count)
                {
                    var (lower, upper) = Vector256.Widen(Vector256.Create(words.Slice(i, Vector256<int>.Count)));
                    (Vector256.ConvertToDouble(lower) / scale).CopyTo(decoded[i..]);
                    (Vector256.ConvertToDouble(upper) / scale).CopyTo(decoded[(i + Vector256<long>.Count)..]);
                }
            }
        }
        for (; i < decoded.Length; i++)
        {
            decoded[i] = RingBits == 64
                ? BinaryPrimitives.ReadInt64LittleEndian(elements[(i * 8)..]) / Scale
                : BinaryPrimitives.ReadInt32LittleEndian(elements[(i * 4)..]) / Scale;
        }
    }

    private long Round(float value, int index)
    {
        var scaled = Math.Round(value * Scale, MidpointRounding.ToEven);
        if (!(Math.Abs(scaled) < _half))
        {
            throw new ArgumentOutOfRangeException(
                nameof(value), value, $"value {index} is not finite or too large for scale {Scale} in a {RingBits}-bit ring");
        }
        return (long)scaled;
    }
}
