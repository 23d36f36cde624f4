using System.Collections.ObjectModel;

namespace EdgeProfile.Federated.Privacy;

/// <summary>
/// Rényi-DP accountant for the Sampled Gaussian Mechanism (Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy of
/// the Sampled Gaussian Mechanism", arXiv:1908.10530): each round samples every client independently with probability
/// q (Poisson sampling; q = clients per round / total clients), sums their updates clipped to L2 norm C and adds
/// N(0, (σC)²) per coordinate. The RDP of one round at order α is <c>log(A_α)/(α−1)</c> with
/// <c>A_α = E_{z~N(0,σ²)}[((1−q) + q·exp((2z−1)/(2σ²)))^α]</c>; rounds compose by adding RDP order by order, and
/// <see cref="GetPrivacySpent"/> converts the sum to (ε, δ) at the best order.
/// </summary>
/// <remarks>
/// <para>A_α is computed as in TF-Privacy / Opacus: for integer α the binomial expansion
/// <c>Σ_i C(α,i) q^i (1−q)^(α−i) exp((i²−i)/(2σ²))</c> in log space; for fractional α the two series split at
/// <c>z₀ = σ² log(1/q − 1) + 1/2</c> (§3.3 of the paper; <c>_compute_log_a_frac</c>); q = 1 is the plain Gaussian,
/// <c>α/(2σ²)</c>.</para>
/// <para>Adjacency is add-or-remove one client (the unit of privacy is a store or partner, not a customer row).
/// Hubs that pick a fixed number of clients per round instead of Poisson sampling use this analysis as the usual
/// approximation, as TF-Privacy and Opacus do for shuffled batches.</para>
/// <para>Not thread-safe; one accountant per job.</para>
/// </remarks>
public sealed class RdpAccountant
{
    private const int MaxFractionalTerms = 1_000_000;
    private static readonly double RelativeTailLog = Math.Log(1e-10);
    private static readonly double MachineTailLog = Math.Log(1e-16);

    private readonly double[] _orders;
    private readonly double[] _rdp;
    private (double Q, double Sigma, double[] Rdp)? _lastRound;

    /// <summary>
    /// The orders tracked by default, those of dp_accounting's <c>DEFAULT_RDP_ORDERS</c> (the successor of
    /// TF-Privacy's accountant): 1.1, 1.2, …, 10.9, then 11, 12, …, 63, then 128, 256, 512, 1024. The fractional
    /// orders near 1 matter for large ε or many rounds, the large ones for small q and few rounds.
    /// </summary>
    public static IReadOnlyList<double> DefaultOrders { get; } = BuildDefaultOrders();

    /// <summary>An accountant with nothing spent over <see cref="DefaultOrders"/>.</summary>
    public RdpAccountant()
        : this(DefaultOrders)
    {
    }

    /// <summary>An accountant with nothing spent over <paramref name="orders"/> (each &gt; 1).</summary>
    public RdpAccountant(IEnumerable<double> orders)
    {
        ArgumentNullException.ThrowIfNull(orders);
        _orders = orders.ToArray();
        if (_orders.Length == 0)
        {
            throw new ArgumentException("at least one Rényi order is needed", nameof(orders));
        }
        foreach (var order in _orders)
        {
            if (!(order > 1))
            {
                throw new ArgumentOutOfRangeException(nameof(orders), order, "Rényi orders must be greater than 1");
            }
        }
        _rdp = new double[_orders.Length];
        Orders = new ReadOnlyCollection<double>(_orders);
        Rdp = new ReadOnlyCollection<double>(_rdp);
    }

    /// <summary>
    /// Restores an accountant from a checkpoint: the <paramref name="orders"/>, the accumulated <paramref name="rdp"/>
    /// at each and the number of <paramref name="rounds"/> composed (see <see cref="Orders"/>, <see cref="Rdp"/>,
    /// <see cref="Rounds"/>).
    /// </summary>
    public static RdpAccountant Restore(IEnumerable<double> orders, IEnumerable<double> rdp, int rounds)
    {
        ArgumentNullException.ThrowIfNull(rdp);
        ArgumentOutOfRangeException.ThrowIfNegative(rounds);
        var accountant = new RdpAccountant(orders);
        var values = rdp.ToArray();
        if (values.Length != accountant._rdp.Length)
        {
            throw new ArgumentException($"{values.Length} RDP values for {accountant._rdp.Length} orders", nameof(rdp));
        }
        foreach (var v in values)
        {
            if (double.IsNaN(v) || v < 0)
            {
                throw new ArgumentException("RDP values must be non-negative", nameof(rdp));
            }
        }
        values.CopyTo(accountant._rdp, 0);
        accountant.Rounds = rounds;
        return accountant;
    }

    /// <summary>The Rényi orders tracked.</summary>
    public IReadOnlyList<double> Orders { get; }

    /// <summary>The accumulated RDP at each of <see cref="Orders"/> (a live read-only view).</summary>
    public IReadOnlyList<double> Rdp { get; }

    /// <summary>Rounds composed so far.</summary>
    public int Rounds { get; private set; }

    /// <summary>Adds <paramref name="rounds"/> rounds of the Sampled Gaussian Mechanism with sampling rate
    /// <paramref name="samplingRate"/> (q) and noise multiplier <paramref name="noiseMultiplier"/> (σ).</summary>
    public void Compose(double samplingRate, double noiseMultiplier, int rounds = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rounds);
        var perRound = RoundRdp(samplingRate, noiseMultiplier);
        for (var k = 0; k < _rdp.Length; k++)
        {
            _rdp[k] += rounds * perRound[k];
        }
        Rounds += rounds;
    }

    /// <summary>The (ε, δ) spent so far, at the order that minimises ε.</summary>
    public PrivacySpent GetPrivacySpent(double delta, RdpConversion conversion = RdpConversion.Improved)
    {
        var (epsilon, order) = ToEpsilon(_orders, _rdp, delta, conversion);
        return new PrivacySpent(epsilon, delta, order, Rounds);
    }

    /// <summary>
    /// The (ε, δ) that would be spent after <paramref name="rounds"/> more rounds at (q, σ), without composing them.
    /// </summary>
    public PrivacySpent PreviewPrivacySpent(double delta, double samplingRate, double noiseMultiplier, int rounds = 1, RdpConversion conversion = RdpConversion.Improved)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rounds);
        var perRound = RoundRdp(samplingRate, noiseMultiplier);
        var total = new double[_rdp.Length];
        for (var k = 0; k < total.Length; k++)
        {
            total[k] = _rdp[k] + (rounds * perRound[k]);
        }
        var (epsilon, order) = ToEpsilon(_orders, total, delta, conversion);
        return new PrivacySpent(epsilon, delta, order, Rounds + rounds);
    }

    /// <summary>RDP of one round of the Sampled Gaussian Mechanism at each of <paramref name="orders"/>.</summary>
    public static double[] ComputeRdp(double samplingRate, double noiseMultiplier, IReadOnlyList<double> orders)
    {
        ArgumentNullException.ThrowIfNull(orders);
        var rdp = new double[orders.Count];
        for (var k = 0; k < rdp.Length; k++)
        {
            rdp[k] = ComputeRdp(samplingRate, noiseMultiplier, orders[k]);
        }
        return rdp;
    }

    /// <summary>
    /// RDP of one round of the Sampled Gaussian Mechanism at order <paramref name="order"/>: 0 when q = 0,
    /// +∞ when σ = 0 or α = ∞, <c>α/(2σ²)</c> when q = 1, else <c>log(A_α)/(α−1)</c>.
    /// </summary>
    public static double ComputeRdp(double samplingRate, double noiseMultiplier, double order)
    {
        CheckMechanism(samplingRate, noiseMultiplier);
        if (!(order > 1))
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, "Rényi orders must be greater than 1");
        }
        if (samplingRate == 0)
        {
            return 0;
        }
        if (noiseMultiplier == 0 || double.IsPositiveInfinity(order))
        {
            return double.PositiveInfinity;
        }
        if (samplingRate == 1)
        {
            return order / (2 * noiseMultiplier * noiseMultiplier);
        }
        // A_α ≥ 1 (a Rényi divergence is non-negative); rounding can leave log(A_α) a hair below 0.
        return Math.Max(0, ComputeLogA(samplingRate, noiseMultiplier, order)) / (order - 1);
    }

    /// <summary>
    /// <c>log(A_α)</c> of the Sampled Gaussian Mechanism for 0 &lt; q &lt; 1, σ &gt; 0, finite α &gt; 1 (+∞ if the
    /// fractional series does not converge, which removes the order from the minimisation).
    /// </summary>
    public static double ComputeLogA(double samplingRate, double noiseMultiplier, double order)
    {
        if (!(samplingRate > 0 && samplingRate < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingRate), samplingRate, "must be in (0, 1)");
        }
        if (!(noiseMultiplier > 0 && double.IsFinite(noiseMultiplier)))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "must be positive and finite");
        }
        if (!(order > 1 && double.IsFinite(order)))
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, "must be finite and greater than 1");
        }
        return Math.Floor(order) == order && order <= int.MaxValue - 1
            ? LogAForIntegerOrder(samplingRate, noiseMultiplier, (int)order)
            : LogAForFractionalOrder(samplingRate, noiseMultiplier, order);
    }

    /// <summary>
    /// Converts an RDP curve to the smallest ε at <paramref name="delta"/> over the orders, and the order that gives it
    /// (see <see cref="RdpConversion"/>). ε is +∞ when no order gives a finite bound.
    /// </summary>
    public static (double Epsilon, double OptimalOrder) ToEpsilon(IReadOnlyList<double> orders, IReadOnlyList<double> rdp, double delta, RdpConversion conversion = RdpConversion.Improved)
    {
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(rdp);
        if (orders.Count != rdp.Count || orders.Count == 0)
        {
            throw new ArgumentException($"{rdp.Count} RDP values for {orders.Count} orders", nameof(rdp));
        }
        if (!(delta > 0 && delta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "must be in (0, 1)");
        }
        var logDelta = Math.Log(delta);
        var best = double.PositiveInfinity;
        var bestOrder = double.NaN;
        for (var k = 0; k < orders.Count; k++)
        {
            var alpha = orders[k];
            var r = rdp[k];
            double epsilon;
            if (double.IsNaN(r) || double.IsPositiveInfinity(r))
            {
                epsilon = double.PositiveInfinity;
            }
            else if (r <= 0)
            {
                // A zero divergence means identical output distributions (nothing spent yet, or q = 0): (0, 0)-DP.
                epsilon = 0;
            }
            else if (conversion == RdpConversion.Classic)
            {
                epsilon = r - (logDelta / (alpha - 1));
            }
            else if ((delta * delta) + LogMath.ExpM1(-r) > 0)
            {
                // δ ≥ √(1 − e^(−KL)) and KL ≤ rdp(α): the divergence is already small enough for (0, δ).
                epsilon = 0;
            }
            else if (alpha > 1.01)
            {
                epsilon = r + LogMath.Log1P(-1 / alpha) - ((logDelta + Math.Log(alpha)) / (alpha - 1));
            }
            else
            {
                epsilon = double.PositiveInfinity;
            }
            if (epsilon < best)
            {
                best = epsilon;
                bestOrder = alpha;
            }
        }
        return (Math.Max(0, best), bestOrder);
    }

    private double[] RoundRdp(double samplingRate, double noiseMultiplier)
    {
        CheckMechanism(samplingRate, noiseMultiplier);
        // Jobs run many rounds at the same (q, σ); budgets ask before every round.
        if (_lastRound is { } last && last.Q.Equals(samplingRate) && last.Sigma.Equals(noiseMultiplier))
        {
            return last.Rdp;
        }
        var rdp = ComputeRdp(samplingRate, noiseMultiplier, _orders);
        _lastRound = (samplingRate, noiseMultiplier, rdp);
        return rdp;
    }

    private static void CheckMechanism(double samplingRate, double noiseMultiplier)
    {
        if (!(samplingRate >= 0 && samplingRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingRate), samplingRate, "must be in [0, 1]");
        }
        if (!(noiseMultiplier >= 0) || double.IsPositiveInfinity(noiseMultiplier))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "must be non-negative and finite");
        }
    }

    private static double LogAForIntegerOrder(double q, double sigma, int alpha)
    {
        var logQ = Math.Log(q);
        var log1MinusQ = LogMath.Log1P(-q);
        var twoSigmaSquared = 2 * sigma * sigma;
        var logA = double.NegativeInfinity;
        var logBinomial = 0.0; // log C(α, i), updated term by term
        for (var i = 0; i <= alpha; i++)
        {
            var s = logBinomial + (i * logQ) + ((alpha - i) * log1MinusQ) + (((double)i * i - i) / twoSigmaSquared);
            logA = LogMath.LogAdd(logA, s);
            logBinomial += Math.Log(alpha - i) - Math.Log(i + 1);
        }
        return logA;
    }

    private static double LogAForFractionalOrder(double q, double sigma, double alpha)
    {
        // A_α = ∫_{−∞}^{z₀} + ∫_{z₀}^{∞}; on each side the generalised binomial series converges, with terms
        // C(α,i) q^i (1−q)^(α−i) e^((i²−i)/(2σ²)) · ½erfc(·) and the mirror terms with i ↔ j = α − i.
        var logQ = Math.Log(q);
        var log1MinusQ = LogMath.Log1P(-q);
        var twoSigmaSquared = 2 * sigma * sigma;
        var sqrt2Sigma = Math.Sqrt(2) * sigma;
        var z0 = (sigma * sigma * (log1MinusQ - logQ)) + 0.5;
        var logHalf = Math.Log(0.5);

        var logA0 = double.NegativeInfinity;
        var logA1 = double.NegativeInfinity;
        var logAbsCoefficient = 0.0; // log |C(α, i)|
        var positive = true;         // sign of C(α, i)
        var lastS0 = double.NegativeInfinity;
        var lastS1 = double.NegativeInfinity;
        for (var i = 0; i < MaxFractionalTerms; i++)
        {
            var j = alpha - i;
            var logT0 = logAbsCoefficient + (i * logQ) + (j * log1MinusQ);
            var logT1 = logAbsCoefficient + (j * logQ) + (i * log1MinusQ);
            var logE0 = logHalf + LogMath.LogErfc((i - z0) / sqrt2Sigma);
            var logE1 = logHalf + LogMath.LogErfc((z0 - j) / sqrt2Sigma);
            var logS0 = logT0 + (((double)i * i - i) / twoSigmaSquared) + logE0;
            var logS1 = logT1 + (((j * j) - j) / twoSigmaSquared) + logE1;
            if (positive)
            {
                logA0 = LogMath.LogAdd(logA0, logS0);
                logA1 = LogMath.LogAdd(logA1, logS1);
            }
            else
            {
                logA0 = LogMath.LogSub(logA0, logS0);
                logA1 = LogMath.LogSub(logA1, logS1);
                if (double.IsNaN(logA0) || double.IsNaN(logA1))
                {
                    return double.PositiveInfinity;
                }
            }
            var total = LogMath.LogAdd(logA0, logA1);
            // Past i > α + 1 the terms alternate in sign and, once they shrink, the omitted tail is smaller than the
            // last term. They shrink only polynomially (like i^−(α+2): the exponential factors cancel), so stop as soon
            // as the tail is below 1e-10 of A_α − 1, which sets the RDP's relative precision, or below double
            // precision of A_α itself.
            if (i > alpha + 1 && logS0 < lastS0 && logS1 < lastS1)
            {
                var negligible = Math.Max(RelativeTailLog + Math.Log(LogMath.ExpM1(total)), total + MachineTailLog);
                if (Math.Max(logS0, logS1) < negligible)
                {
                    return total;
                }
            }
            lastS0 = logS0;
            lastS1 = logS1;
            // C(α, i+1) = C(α, i) · (α − i)/(i + 1); the factor turns negative once i > α.
            var factor = (alpha - i) / (i + 1);
            logAbsCoefficient += Math.Log(Math.Abs(factor));
            if (factor < 0)
            {
                positive = !positive;
            }
        }
        return double.PositiveInfinity;
    }

    private static double[] BuildDefaultOrders()
    {
        var orders = new List<double>();
        for (var x = 1; x < 100; x++)
        {
            orders.Add(1 + (x / 10.0));
        }
        for (var a = 11; a < 64; a++)
        {
            orders.Add(a);
        }
        orders.AddRange([128, 256, 512, 1024]);
        return [.. orders];
    }
}
