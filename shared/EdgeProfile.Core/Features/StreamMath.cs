namespace EdgeProfile.Core.Features;

/// <summary>Integer time arithmetic of the stream engine: floor alignment for negative times, saturation at the ends.</summary>
internal static class StreamMath
{
    public const double MsPerDay = 86_400_000.0;

    /// <summary>Floor of <paramref name="value"/> / <paramref name="divisor"/> (divisor positive), also for negative values.</summary>
    public static long FloorDiv(long value, long divisor)
    {
        var q = value / divisor;
        return value % divisor < 0 ? q - 1 : q;
    }

    /// <summary>The largest multiple of <paramref name="step"/> not above <paramref name="value"/>.</summary>
    public static long AlignDown(long value, long step) => FloorDiv(value, step) * step;

    /// <summary><paramref name="a"/> − <paramref name="b"/>, clamped to the range of long.</summary>
    public static long Sub(long a, long b)
    {
        var r = a - b;
        return ((a ^ b) & (a ^ r)) < 0 ? (a < 0 ? long.MinValue : long.MaxValue) : r;
    }

    /// <summary><paramref name="a"/> + <paramref name="b"/>, clamped to the range of long.</summary>
    public static long Add(long a, long b)
    {
        var r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? (a < 0 ? long.MinValue : long.MaxValue) : r;
    }

    /// <summary>Whole milliseconds of a non-negative span.</summary>
    public static long Ms(TimeSpan span) => span.Ticks / TimeSpan.TicksPerMillisecond;
}
