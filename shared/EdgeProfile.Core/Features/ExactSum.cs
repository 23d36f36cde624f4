using System.Numerics;

namespace EdgeProfile.Core.Features;

/// <summary>
/// An exact sum of doubles: a 256-bit two's-complement fixed-point integer in units of 2^-80. Every finite double
/// below 2^111 in magnitude adds without rounding (bits below 2^-80, i.e. under 1e-24, are dropped, the same way for
/// every value), so the sum does not depend on the order of additions or merges. It is rounded once, to the nearest
/// double, when read.
/// </summary>
internal struct ExactSum
{
    private const int Scale = 80;
    private const int MaxTopBit = 190;

    private ulong _0;
    private ulong _1;
    private ulong _2;
    private ulong _3;

    public readonly bool IsZero => (_0 | _1 | _2 | _3) == 0;

    /// <summary>Adds <paramref name="value"/>; false (nothing added) for NaN, infinities and magnitudes of 2^111 or more.</summary>
    public bool TryAdd(double value)
    {
        var bits = BitConverter.DoubleToInt64Bits(value);
        var exponent = (int)((bits >> 52) & 0x7FF);
        if (exponent == 0x7FF)
        {
            return false;
        }

        var mantissa = (ulong)bits & 0x000F_FFFF_FFFF_FFFFUL;
        if (exponent == 0)
        {
            exponent = 1;
        }
        else
        {
            mantissa |= 1UL << 52;
        }

        if (mantissa == 0)
        {
            return true;
        }

        // Position of the mantissa's lowest bit in the fixed-point integer.
        var shift = exponent - 1075 + Scale;
        if (shift + 52 > MaxTopBit)
        {
            return false;
        }

        if (shift < 0)
        {
            if (shift <= -53)
            {
                return true;
            }

            mantissa >>= -shift;
            shift = 0;
        }

        ulong m0 = 0, m1 = 0, m2 = 0, m3 = 0;
        var limb = shift >> 6;
        var offset = shift & 63;
        var low = mantissa << offset;
        var high = offset == 0 ? 0 : mantissa >> (64 - offset);
        switch (limb)
        {
            case 0:
                m0 = low;
                m1 = high;
                break;
            case 1:
                m1 = low;
                m2 = high;
                break;
            default:
                m2 = low;
                m3 = high;
                break;
        }

        if (bits < 0)
        {
            Negate(ref m0, ref m1, ref m2, ref m3);
        }

        AddLimbs(m0, m1, m2, m3);
        return true;
    }

    public void Add(in ExactSum other) => AddLimbs(other._0, other._1, other._2, other._3);

    /// <summary>The sum rounded to the nearest double.</summary>
    public readonly double ToDouble()
    {
        ulong m0 = _0, m1 = _1, m2 = _2, m3 = _3;
        var negative = (long)m3 < 0;
        if (negative)
        {
            Negate(ref m0, ref m1, ref m2, ref m3);
        }

        int top;
        if (m3 != 0)
        {
            top = 192 + 63 - BitOperations.LeadingZeroCount(m3);
        }
        else if (m2 != 0)
        {
            top = 128 + 63 - BitOperations.LeadingZeroCount(m2);
        }
        else if (m1 != 0)
        {
            top = 64 + 63 - BitOperations.LeadingZeroCount(m1);
        }
        else if (m0 != 0)
        {
            top = 63 - BitOperations.LeadingZeroCount(m0);
        }
        else
        {
            return 0;
        }

        // The 64 bits ending at the top bit, with a sticky bit for anything below, round correctly to 53 bits.
        var lowest = Math.Max(0, top - 63);
        var head = Extract(m0, m1, m2, m3, lowest);
        if (lowest > 0 && AnyBelow(m0, m1, m2, lowest))
        {
            head |= 1;
        }

        var magnitude = Math.ScaleB((double)head, lowest - Scale);
        return negative ? -magnitude : magnitude;
    }

    public readonly void Write(StateWriter w)
    {
        ulong m0 = _0, m1 = _1, m2 = _2, m3 = _3;
        var negative = (long)m3 < 0;
        if (negative)
        {
            Negate(ref m0, ref m1, ref m2, ref m3);
        }

        w.Bool(negative);
        w.VarUInt(m0);
        w.VarUInt(m1);
        w.VarUInt(m2);
        w.VarUInt(m3);
    }

    public static ExactSum Read(ref StateReader r)
    {
        var negative = r.Bool();
        ulong m0 = r.VarUInt(), m1 = r.VarUInt(), m2 = r.VarUInt(), m3 = r.VarUInt();
        if (negative)
        {
            Negate(ref m0, ref m1, ref m2, ref m3);
        }

        return new ExactSum { _0 = m0, _1 = m1, _2 = m2, _3 = m3 };
    }

    private void AddLimbs(ulong b0, ulong b1, ulong b2, ulong b3)
    {
        var s0 = _0 + b0;
        var c = s0 < _0 ? 1UL : 0UL;
        var s1 = _1 + b1 + c;
        c = s1 < _1 || (c == 1 && s1 == _1) ? 1UL : 0UL;
        var s2 = _2 + b2 + c;
        c = s2 < _2 || (c == 1 && s2 == _2) ? 1UL : 0UL;
        _3 = _3 + b3 + c;
        _0 = s0;
        _1 = s1;
        _2 = s2;
    }

    private static void Negate(ref ulong m0, ref ulong m1, ref ulong m2, ref ulong m3)
    {
        m0 = ~m0;
        m1 = ~m1;
        m2 = ~m2;
        m3 = ~m3;
        m0++;
        if (m0 != 0)
        {
            return;
        }

        m1++;
        if (m1 != 0)
        {
            return;
        }

        m2++;
        if (m2 == 0)
        {
            m3++;
        }
    }

    /// <summary>The 64 bits starting at bit <paramref name="from"/>.</summary>
    private static ulong Extract(ulong m0, ulong m1, ulong m2, ulong m3, int from)
    {
        var limb = from >> 6;
        var offset = from & 63;
        ReadOnlySpan<ulong> limbs = [m0, m1, m2, m3, 0];
        var low = limbs[limb] >> offset;
        return offset == 0 ? low : low | (limbs[limb + 1] << (64 - offset));
    }

    /// <summary>Whether any bit below <paramref name="from"/> is set.</summary>
    private static bool AnyBelow(ulong m0, ulong m1, ulong m2, int from)
    {
        ReadOnlySpan<ulong> limbs = [m0, m1, m2];
        var limb = from >> 6;
        for (var i = 0; i < limb && i < 3; i++)
        {
            if (limbs[i] != 0)
            {
                return true;
            }
        }

        var offset = from & 63;
        return limb < 3 && offset > 0 && (limbs[limb] & ((1UL << offset) - 1)) != 0;
    }
}
