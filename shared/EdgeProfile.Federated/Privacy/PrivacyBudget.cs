namespace EdgeProfile.Federated.Privacy;

/// <summary>
/// An (ε, δ) budget for a federated job: before each round the hub asks <see cref="CanRun"/> (or calls
/// <see cref="TrySpend"/>) with the round's sampling rate q and noise multiplier σ; a round whose composition would take
/// ε past <see cref="TargetEpsilon"/> is not run, so the job stops at the last round that fits.
/// </summary>
/// <remarks>Spend before releasing a round's aggregate: a round charged and then abandoned stays charged, which is
/// conservative. Not thread-safe; one budget per job.</remarks>
public sealed class PrivacyBudget
{
    /// <summary>A budget of (<paramref name="targetEpsilon"/>, <paramref name="delta"/>), composing into
    /// <paramref name="accountant"/> (a fresh one over the default orders if null, or one restored from a checkpoint).</summary>
    public PrivacyBudget(double targetEpsilon, double delta, RdpAccountant? accountant = null, RdpConversion conversion = RdpConversion.Improved)
    {
        if (!(targetEpsilon > 0) || double.IsPositiveInfinity(targetEpsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon, "must be positive and finite");
        }
        if (!(delta > 0 && delta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "must be in (0, 1)");
        }
        TargetEpsilon = targetEpsilon;
        Delta = delta;
        Conversion = conversion;
        Accountant = accountant ?? new RdpAccountant();
    }

    /// <summary>The ε that composition must not exceed.</summary>
    public double TargetEpsilon { get; }

    /// <summary>The δ at which ε is reported.</summary>
    public double Delta { get; }

    /// <summary>RDP → (ε, δ) conversion used for the check.</summary>
    public RdpConversion Conversion { get; }

    /// <summary>The accountant holding the rounds spent so far.</summary>
    public RdpAccountant Accountant { get; }

    /// <summary>(ε, δ) spent so far.</summary>
    public PrivacySpent Spent => Accountant.GetPrivacySpent(Delta, Conversion);

    /// <summary>(ε, δ) after one more round at (q, σ), without spending it.</summary>
    public PrivacySpent Preview(double samplingRate, double noiseMultiplier) =>
        Accountant.PreviewPrivacySpent(Delta, samplingRate, noiseMultiplier, 1, Conversion);

    /// <summary>Whether one more round at (q, σ) keeps ε ≤ <see cref="TargetEpsilon"/>.</summary>
    public bool CanRun(double samplingRate, double noiseMultiplier) =>
        Preview(samplingRate, noiseMultiplier).Epsilon <= TargetEpsilon;

    /// <summary>Spends one round at (q, σ) if it fits; otherwise spends nothing and returns false.</summary>
    public bool TrySpend(double samplingRate, double noiseMultiplier, out PrivacySpent spent)
    {
        if (!CanRun(samplingRate, noiseMultiplier))
        {
            spent = Spent;
            return false;
        }
        Accountant.Compose(samplingRate, noiseMultiplier);
        spent = Spent;
        return true;
    }

    /// <summary>Spends one round at (q, σ); throws <see cref="InvalidOperationException"/> if it would exceed the budget.</summary>
    public PrivacySpent Spend(double samplingRate, double noiseMultiplier)
    {
        if (!TrySpend(samplingRate, noiseMultiplier, out var spent))
        {
            throw new InvalidOperationException(
                $"a round at q={samplingRate}, σ={noiseMultiplier} would take ε from {spent.Epsilon:G4} past the budget {TargetEpsilon:G4} (δ={Delta:G3})");
        }
        return spent;
    }

    /// <summary>How many more rounds at (q, σ) fit in the budget (at most <paramref name="limit"/>).</summary>
    public int AffordableRounds(double samplingRate, double noiseMultiplier, int limit = 1_000_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        bool Fits(int rounds) =>
            Accountant.PreviewPrivacySpent(Delta, samplingRate, noiseMultiplier, rounds, Conversion).Epsilon <= TargetEpsilon;
        if (limit == 0 || !Fits(1))
        {
            return 0;
        }
        // ε grows with the number of rounds: double, then bisect between the last fit and the first miss.
        var fit = 1;
        var miss = 2;
        while (miss <= limit && Fits(miss))
        {
            fit = miss;
            miss *= 2;
        }
        if (miss > limit)
        {
            if (Fits(limit))
            {
                return limit;
            }
            miss = limit;
        }
        while (miss - fit > 1)
        {
            var mid = fit + ((miss - fit) / 2);
            if (Fits(mid))
            {
                fit = mid;
            }
            else
            {
                miss = mid;
            }
        }
        return fit;
    }

    /// <summary>
    /// The smallest noise multiplier σ (to a relative <paramref name="tolerance"/>, rounded up) for which
    /// <paramref name="rounds"/> rounds at sampling rate q stay within (<paramref name="targetEpsilon"/>,
    /// <paramref name="delta"/>), by bisection (ε decreases as σ grows).
    /// </summary>
    public static double NoiseMultiplierFor(double targetEpsilon, double delta, double samplingRate, int rounds, IReadOnlyList<double>? orders = null, RdpConversion conversion = RdpConversion.Improved, double tolerance = 1e-4)
    {
        if (!(targetEpsilon > 0) || double.IsPositiveInfinity(targetEpsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon, "must be positive and finite");
        }
        if (!(samplingRate > 0 && samplingRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingRate), samplingRate, "must be in (0, 1]");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rounds);
        if (!(tolerance > 0 && tolerance < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "must be in (0, 1)");
        }
        orders ??= RdpAccountant.DefaultOrders;
        double Epsilon(double sigma)
        {
            var rdp = RdpAccountant.ComputeRdp(samplingRate, sigma, orders);
            for (var k = 0; k < rdp.Length; k++)
            {
                rdp[k] *= rounds;
            }
            return RdpAccountant.ToEpsilon(orders, rdp, delta, conversion).Epsilon;
        }
        var high = 1.0;
        while (Epsilon(high) > targetEpsilon)
        {
            high *= 2;
            if (high > 1e6)
            {
                throw new ArgumentException($"no noise multiplier up to 1e6 reaches ε={targetEpsilon} at δ={delta} over {rounds} rounds");
            }
        }
        var low = high / 2;
        while (low > 1e-6 && Epsilon(low) <= targetEpsilon)
        {
            high = low;
            low /= 2;
        }
        while (high - low > tolerance * high)
        {
            var mid = (low + high) / 2;
            if (Epsilon(mid) <= targetEpsilon)
            {
                high = mid;
            }
            else
            {
                low = mid;
            }
        }
        return high;
    }
}
