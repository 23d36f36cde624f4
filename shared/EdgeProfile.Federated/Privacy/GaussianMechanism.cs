using EdgeProfile.Federated.Aggregation;

namespace EdgeProfile.Federated.Privacy;

/// <summary>
/// DP-FedAvg's Gaussian mechanism (McMahan, Ramage, Talwar, Zhang, ICLR 2018, "Learning Differentially Private
/// Recurrent Language Models"; Flower's <c>DifferentialPrivacyServerSideFixedClipping</c> /
/// <c>ClientSideFixedClipping</c>): every client's update is clipped to L2 norm C, so adding or removing one client
/// moves the sum of clipped updates by at most C, and Gaussian noise of standard deviation σ·C per coordinate on that
/// sum makes the round a Gaussian mechanism with noise multiplier σ, accounted by <see cref="RdpAccountant"/>.
/// </summary>
/// <remarks>
/// <para><b>Central</b> (<see cref="PrivatizeSum"/>, <see cref="Combine"/>): clients only clip; the hub adds
/// N(0, (σC)²) once to the sum, e.g. after secure aggregation unmasked only the sum.</para>
/// <para><b>Distributed</b> (<see cref="ClipWithNoiseShare"/>, <see cref="MeanOfNoisySum"/>): each of the n expected
/// clients adds N(0, σ²C²/n) to its clipped update before masking, so the unmasked sum carries σ²C² in total and the
/// hub never sees a less noisy value. If fewer than n clients report, the sum carries less noise: account the round
/// with <see cref="EffectiveNoiseMultiplier"/>.</para>
/// <para>The mean divides by the <b>expected</b> number of clients per round (q·N, <see cref="ExpectedClients"/>), not
/// the number that reported: McMahan et al.'s fixed-denominator estimator, whose sensitivity stays C/ExpectedClients
/// whatever the sample size (dividing by the realised count would leak it and change the sensitivity). Clients weigh
/// equally (sample counts are ignored): a sample-weighted mean would let a large client move the result by more than
/// its clipped share.</para>
/// <para>Noise comes from an injectable <see cref="GaussianNoise"/> (cryptographic by default). Caveat: like Opacus
/// and TF-Privacy, this samples floating-point Gaussians, which are not exactly the continuous distribution the
/// analysis assumes (Mironov, CCS 2012); the gap is accepted in practice.</para>
/// </remarks>
public sealed class GaussianMechanism : IUpdateCombiner
{
    private readonly GaussianNoise _noise;

    /// <summary>A mechanism with clipping norm C, noise multiplier σ and the expected clients per round.</summary>
    public GaussianMechanism(double clipNorm, double noiseMultiplier, int expectedClients, GaussianNoise? noise = null)
    {
        if (!(clipNorm > 0) || double.IsPositiveInfinity(clipNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(clipNorm), clipNorm, "must be positive and finite");
        }
        if (!(noiseMultiplier >= 0) || double.IsPositiveInfinity(noiseMultiplier))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "must be non-negative and finite");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expectedClients);
        ClipNorm = clipNorm;
        NoiseMultiplier = noiseMultiplier;
        ExpectedClients = expectedClients;
        _noise = noise ?? new GaussianNoise();
    }

    /// <inheritdoc/>
    public string Name => "dp-fedavg";

    /// <summary>L2 clipping norm C (the sensitivity of the sum).</summary>
    public double ClipNorm { get; }

    /// <summary>Noise multiplier σ: the noise on the sum has standard deviation σ·C.</summary>
    public double NoiseMultiplier { get; }

    /// <summary>Expected clients per round (q × total clients), the fixed denominator of the mean.</summary>
    public int ExpectedClients { get; }

    /// <summary>Standard deviation σ·C of the noise on the sum, per coordinate.</summary>
    public double SumNoiseStandardDeviation => NoiseMultiplier * ClipNorm;

    /// <summary>Client side: the update clipped to <see cref="ClipNorm"/>.</summary>
    public float[] Clip(ReadOnlySpan<float> delta) => L2Clipping.Clip(delta, ClipNorm);

    /// <summary>
    /// Hub side, central DP: <c>(sum + N(0, (σC)²)) / ExpectedClients</c> for the sum of clipped updates.
    /// </summary>
    public float[] PrivatizeSum(ReadOnlySpan<float> sumOfClipped)
    {
        var noisy = new double[sumOfClipped.Length];
        for (var i = 0; i < noisy.Length; i++)
        {
            noisy[i] = sumOfClipped[i];
        }
        _noise.AddTo(noisy, SumNoiseStandardDeviation);
        return Divide(noisy, ExpectedClients);
    }

    /// <summary>
    /// Client side, distributed DP: the clipped update plus N(0, σ²C²/ExpectedClients) per coordinate, to be masked
    /// and summed by secure aggregation.
    /// </summary>
    public float[] ClipWithNoiseShare(ReadOnlySpan<float> delta)
    {
        var clipped = Clip(delta);
        var withShare = new double[clipped.Length];
        for (var i = 0; i < withShare.Length; i++)
        {
            withShare[i] = clipped[i];
        }
        _noise.AddTo(withShare, SumNoiseStandardDeviation / Math.Sqrt(ExpectedClients));
        var result = new float[withShare.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = (float)withShare[i];
        }
        return result;
    }

    /// <summary>Hub side, distributed DP: the unmasked sum of noisy shares divided by ExpectedClients (no more noise).</summary>
    public float[] MeanOfNoisySum(ReadOnlySpan<float> sumOfShares)
    {
        var sum = new double[sumOfShares.Length];
        for (var i = 0; i < sum.Length; i++)
        {
            sum[i] = sumOfShares[i];
        }
        return Divide(sum, ExpectedClients);
    }

    /// <summary>
    /// The noise multiplier a distributed round actually achieved when <paramref name="reportingClients"/> of the
    /// <paramref name="plannedClients"/> noise shares reached the sum: <c>σ·√(reporting/planned)</c> (capped at σ).
    /// </summary>
    public static double EffectiveNoiseMultiplier(double noiseMultiplier, int plannedClients, int reportingClients)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(plannedClients);
        ArgumentOutOfRangeException.ThrowIfNegative(reportingClients);
        return noiseMultiplier * Math.Sqrt(Math.Min(reportingClients, plannedClients) / (double)plannedClients);
    }

    /// <summary>
    /// Central DP for a hub that sees the individual updates: clips each, sums, adds N(0, (σC)²) and divides by
    /// <see cref="ExpectedClients"/>. Sample counts are ignored (see remarks).
    /// </summary>
    public CombinedUpdate Combine(IReadOnlyList<ClientUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        if (updates.Count == 0)
        {
            throw new ArgumentException("no updates to combine", nameof(updates));
        }
        var length = updates[0].Delta.Length;
        var sum = new double[length];
        foreach (var update in updates)
        {
            var clipped = Clip(update.Delta);
            for (var i = 0; i < length; i++)
            {
                sum[i] += clipped[i];
            }
        }
        _noise.AddTo(sum, SumNoiseStandardDeviation);
        return new CombinedUpdate(Divide(sum, ExpectedClients), updates.Select(u => u.ClientId).ToArray(), []);
    }

    private static float[] Divide(double[] values, int denominator)
    {
        var result = new float[values.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = (float)(values[i] / denominator);
        }
        return result;
    }
}
