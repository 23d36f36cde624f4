namespace EdgeProfile.Federated.Privacy;

/// <summary>
/// Log-space arithmetic and the complementary error function, for the RDP accountant. .NET has no <c>erfc</c>, and
/// the accountant needs <c>log erfc(x)</c> far into the tail (x in the hundreds), where <c>erfc</c> itself underflows.
/// </summary>
internal static class LogMath
{
    private static readonly double LogSqrtPi = 0.5 * Math.Log(Math.PI);

    /// <summary><c>log(e^a + e^b)</c>; <c>-∞</c> stands for zero.</summary>
    public static double LogAdd(double a, double b)
    {
        var (lo, hi) = a < b ? (a, b) : (b, a);
        if (double.IsNegativeInfinity(lo))
        {
            return hi;
        }
        return hi + Math.Log(1 + Math.Exp(lo - hi));
    }

    /// <summary><c>log(e^a − e^b)</c> for <c>a ≥ b</c>; NaN when the difference would be negative.</summary>
    public static double LogSub(double a, double b)
    {
        if (a < b)
        {
            return double.NaN;
        }
        if (double.IsNegativeInfinity(b))
        {
            return a;
        }
        if (a == b)
        {
            return double.NegativeInfinity;
        }
        // e^a − e^b = e^a (1 − e^(b−a)); log1p keeps precision when b is far below a.
        var d = b - a;
        return a + (d > -0.693 ? Math.Log(-ExpM1(d)) : Log1P(-Math.Exp(d)));
    }

    /// <summary><c>log(erfc(x))</c>, accurate to a few ulps in the tails of both signs.</summary>
    public static double LogErfc(double x)
    {
        if (x >= 2.5)
        {
            // erfc(x) = e^(−x²)/√π · F(x), with F the continued fraction; staying in logs avoids the underflow of e^(−x²).
            return -(x * x) - LogSqrtPi + Math.Log(ErfcContinuedFraction(x));
        }
        return Math.Log(Erfc(x));
    }

    /// <summary>The complementary error function.</summary>
    public static double Erfc(double x)
    {
        if (x >= 2.5)
        {
            return Math.Exp(-(x * x) - LogSqrtPi) * ErfcContinuedFraction(x);
        }
        if (x <= -2.5)
        {
            return 2 - Erfc(-x);
        }
        return 1 - ErfSeries(x);
    }

    /// <summary>
    /// erf by the series <c>erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1))</c>: all terms share the sign of x, so
    /// nothing cancels (|x| &lt; 2.5 needs at most ~60 terms).
    /// </summary>
    private static double ErfSeries(double x)
    {
        var x2 = x * x;
        var term = x;
        var sum = x;
        for (var n = 1; n < 500; n++)
        {
            term *= 2 * x2 / ((2 * n) + 1);
            sum += term;
            if (Math.Abs(term) < 1e-17 * Math.Abs(sum))
            {
                break;
            }
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
    }

    /// <summary>
    /// <c>F(x) = √π e^(x²) erfc(x) = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))</c>, by the modified Lentz method
    /// (x ≥ 2.5, where it converges in well under 100 steps).
    /// </summary>
    private static double ErfcContinuedFraction(double x)
    {
        const double tiny = 1e-300;
        var f = x;
        var c = x;
        var d = 0.0;
        for (var k = 1; k < 5000; k++)
        {
            var a = k / 2.0;
            d = x + (a * d);
            d = d == 0 ? tiny : 1 / d;
            c = x + (a / c);
            if (c == 0)
            {
                c = tiny;
            }
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }
        return 1 / f;
    }

    /// <summary><c>log(1 + x)</c> accurate for small x.</summary>
    public static double Log1P(double x)
    {
        var u = 1 + x;
        // Classic correction: log(u) · x / (u − 1) is exact to rounding for small x.
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    /// <summary><c>e^x − 1</c> accurate for small x.</summary>
    public static double ExpM1(double x)
    {
        if (Math.Abs(x) >= 1)
        {
            return Math.Exp(x) - 1;
        }
        // e^x − 1 = 2 tanh(x/2) / (1 − tanh(x/2)), free of the cancellation of Exp(x) − 1 near zero.
        var t = Math.Tanh(x / 2);
        return 2 * t / (1 - t);
    }
}
