namespace EdgeProfile.Federated.Tests;

/// <summary>
/// An independent second implementation of the Sampled Gaussian Mechanism's RDP, for checking the accountant. It shares
/// no code or formula with <c>RdpAccountant</c>'s closed forms: A_α is the definition in Mironov, Talwar, Zhang 2019 §3,
/// <c>A_α = E_{z~N(0,σ²)}[((1−q) + q·exp((2z−1)/(2σ²)))^α]</c>, integrated numerically by the trapezoid rule on a
/// uniform grid, summed in log space (log-sum-exp) so that values like e^(10⁵) do not overflow.
/// </summary>
/// <remarks>
/// Why the trapezoid rule is enough: the integrand is analytic in a strip |Im z| &lt; πσ² around the real axis (the
/// nearest singularity of log((1−q) + q·e^u) is at Im u = π), where the rule's error falls like exp(−2π·πσ²/h); with
/// h = min(σ, σ²)/4 that is ~e^(−79). The window: the integrand is at most max(φ(z), e^((α²−α)/(2σ²))·φ(z−α)) and
/// A_α ≥ max(1, q^α e^((α²−α)/(2σ²))), so cutting 9σ below 0 and σ√(2(α·log(1/q)+40)) above α drops less than e^(−40)
/// of it. When A_α is within 1 % of 1 the difference A_α − 1 is integrated instead, so that it is not lost in the
/// rounding of a sum near 1. Tests also compare against a half-step run to show convergence.
/// </remarks>
internal static class ReferenceSgmRdp
{
    public static double LogA(double q, double sigma, double alpha, double stepDivisor = 4)
    {
        var s2 = sigma * sigma;
        var h = Math.Min(sigma, s2) / stepDivisor;
        var lower = (-9 * sigma) - 1;
        var upper = alpha + (sigma * Math.Sqrt(2 * ((alpha * Math.Log(1 / q)) + 40))) + 1;
        var n = (int)Math.Ceiling((upper - lower) / h);
        var logNormaliser = -Math.Log(sigma * Math.Sqrt(2 * Math.PI));
        var logOneMinusQ = q < 1 ? Math.Log(1 - q) : double.NegativeInfinity;
        var logQ = Math.Log(q);
        var values = new double[n + 1];
        var max = double.NegativeInfinity;
        for (var k = 0; k <= n; k++)
        {
            var z = lower + (k * h);
            var logMixture = LogSumExp(logOneMinusQ, logQ + (((2 * z) - 1) / (2 * s2)));
            var v = (-(z * z) / (2 * s2)) + logNormaliser + (alpha * logMixture);
            values[k] = v;
            max = Math.Max(max, v);
        }
        double sum = 0;
        for (var k = 0; k <= n; k++)
        {
            var w = k == 0 || k == n ? 0.5 : 1.0;
            sum += w * Math.Exp(values[k] - max);
        }
        var logA = max + Math.Log(sum * h);
        if (logA > 1e-2)
        {
            return logA;
        }
        // A_α ≈ 1 (small q or large σ): the rounding of a sum near 1 would swamp A_α − 1, so integrate that difference
        // directly, A_α − 1 = ∫ φ(z)·(M(z)^α − 1) dz (φ integrates to exactly 1), with M − 1 = q(e^u − 1) and
        // M^α − 1 = expm1(α·log1p(M − 1)) evaluated without cancellation, and a compensated sum.
        double difference = 0;
        double compensation = 0;
        for (var k = 0; k <= n; k++)
        {
            var z = lower + (k * h);
            var logPhi = (-(z * z) / (2 * s2)) + logNormaliser;
            var u = ((2 * z) - 1) / (2 * s2);
            var alphaLogM = alpha * Log1P(q * ExpM1(u));
            var term = alphaLogM > 1
                ? Math.Exp(logPhi + alphaLogM) - Math.Exp(logPhi)
                : Math.Exp(logPhi) * ExpM1(alphaLogM);
            term *= k == 0 || k == n ? 0.5 * h : h;
            var t = difference + term;
            compensation += Math.Abs(difference) >= Math.Abs(term) ? difference - t + term : term - t + difference;
            difference = t;
        }
        return Log1P(difference + compensation);
    }

    /// <summary>e^x − 1 by its Taylor series near 0.</summary>
    private static double ExpM1(double x)
    {
        if (Math.Abs(x) > 0.5)
        {
            return Math.Exp(x) - 1;
        }
        double sum = 0;
        var term = 1.0;
        for (var k = 1; k < 40; k++)
        {
            term *= x / k;
            sum += term;
        }
        return sum;
    }

    /// <summary>log(1 + x) = 2·atanh(x/(2 + x)) by its series near 0.</summary>
    private static double Log1P(double x)
    {
        if (Math.Abs(x) > 0.5)
        {
            return Math.Log(1 + x);
        }
        var t = x / (2 + x);
        var t2 = t * t;
        double sum = 0;
        var power = t;
        for (var k = 0; k < 60; k++)
        {
            sum += power / ((2 * k) + 1);
            power *= t2;
        }
        return 2 * sum;
    }

    public static double Rdp(double q, double sigma, double alpha) => LogA(q, sigma, alpha) / (alpha - 1);

    /// <summary>ε at δ after <paramref name="steps"/> rounds with per-round RDP <paramref name="rdpPerRound"/> at
    /// <paramref name="orders"/>: the minimum over orders of the Canonne–Kamath–Steinke / Balle et al. bound
    /// <c>T·rdp(α) + log(1 − 1/α) − (log δ + log α)/(α − 1)</c>, or of the classic <c>T·rdp(α) + log(1/δ)/(α−1)</c>.</summary>
    public static (double Epsilon, double Order) Epsilon(IReadOnlyList<double> rdpPerRound, int steps, double delta, IReadOnlyList<double> orders, bool classic = false)
    {
        var best = (Epsilon: double.PositiveInfinity, Order: double.NaN);
        for (var k = 0; k < orders.Count; k++)
        {
            var alpha = orders[k];
            var total = steps * rdpPerRound[k];
            var eps = classic
                ? total + (Math.Log(1 / delta) / (alpha - 1))
                : total + Math.Log(1 - (1 / alpha)) - ((Math.Log(delta) + Math.Log(alpha)) / (alpha - 1));
            if (eps < best.Epsilon)
            {
                best = (eps, alpha);
            }
        }
        return best;
    }

    private static double LogSumExp(double a, double b)
    {
        var m = Math.Max(a, b);
        return double.IsNegativeInfinity(m) ? m : m + Math.Log(Math.Exp(a - m) + Math.Exp(b - m));
    }
}
