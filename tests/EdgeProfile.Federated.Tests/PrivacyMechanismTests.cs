using EdgeProfile.Federated.Privacy;

namespace EdgeProfile.Federated.Tests;

public class PrivacyMechanismTests
{
    private const int Dimension = 40_000;

    [Fact]
    public void Clipping_bounds_the_norm_and_keeps_the_direction()
    {
        var random = new Random(11);
        foreach (var length in new[] { 1, 3, 100, 5000 })
        {
            foreach (var scale in new[] { 1e-3, 0.5, 1.0, 7.0, 1e4 })
            {
                var delta = Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * scale)).ToArray();
                var norm = L2Clipping.Norm(delta);
                var clipped = L2Clipping.Clip(delta, 1.0);
                var clippedNorm = L2Clipping.Norm(clipped);
                Assert.True(clippedNorm <= 1.0, $"norm {clippedNorm:R} after clipping {norm:R}");
                if (norm <= 1.0)
                {
                    Assert.Equal(delta, clipped);
                    continue;
                }
                Assert.True(clippedNorm > 1.0 - 1e-5, $"clipped too far: {clippedNorm:R}");
                // Same direction: the clipped vector is the original times one positive factor.
                var factor = 1.0 / norm;
                for (var i = 0; i < length; i++)
                {
                    Assert.Equal(delta[i] * factor, clipped[i], 1e-6);
                }
            }
        }
        Assert.Throws<ArgumentException>(() => L2Clipping.Clip([1f, float.PositiveInfinity], 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => L2Clipping.Clip([1f], 0));
    }

    [Fact]
    public void Central_noise_on_the_sum_has_standard_deviation_sigma_times_clip()
    {
        const double clip = 0.5;
        const double sigma = 1.3;
        const int expected = 10;
        var mechanism = new GaussianMechanism(clip, sigma, expected, GaussianNoise.Seeded(5));
        var sum = Enumerable.Range(0, Dimension).Select(i => (float)Math.Sin(i)).ToArray();
        var released = mechanism.PrivatizeSum(sum);
        var noise = new double[Dimension];
        for (var i = 0; i < Dimension; i++)
        {
            noise[i] = ((double)released[i] * expected) - sum[i];
        }
        AssertGaussian(noise, sigma * clip);
    }

    [Fact]
    public void Distributed_noise_shares_add_up_to_the_central_noise()
    {
        const double clip = 2.0;
        const double sigma = 0.9;
        const int clients = 8;
        var random = new Random(3);
        var total = new double[Dimension];
        var clippedTotal = new double[Dimension];
        float[]? oneShareNoise = null;
        GaussianMechanism? hub = null;
        for (var k = 0; k < clients; k++)
        {
            // Each client has its own mechanism and noise source; updates are large so clipping is active.
            var mechanism = new GaussianMechanism(clip, sigma, clients, GaussianNoise.Seeded(100 + k));
            hub ??= mechanism;
            var delta = Enumerable.Range(0, Dimension).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            var clipped = mechanism.Clip(delta);
            Assert.True(L2Clipping.Norm(clipped) <= clip);
            var share = mechanism.ClipWithNoiseShare(delta);
            for (var i = 0; i < Dimension; i++)
            {
                total[i] += share[i];
                clippedTotal[i] += clipped[i];
            }
            if (k == 0)
            {
                oneShareNoise = share.Select((v, i) => v - clipped[i]).ToArray();
            }
        }
        // One client's share is N(0, σ²C²/n): a single client's contribution stays well hidden only in the sum.
        AssertGaussian(oneShareNoise!.Select(v => (double)v).ToArray(), sigma * clip / Math.Sqrt(clients));
        var summedNoise = total.Select((v, i) => v - clippedTotal[i]).ToArray();
        AssertGaussian(summedNoise, sigma * clip);

        var mean = hub!.MeanOfNoisySum(total.Select(v => (float)v).ToArray());
        Assert.Equal(total[17] / clients, mean[17], 1e-5);
        Assert.Equal(sigma * Math.Sqrt(6.0 / 8.0), GaussianMechanism.EffectiveNoiseMultiplier(sigma, 8, 6), 12);
        Assert.Equal(sigma, GaussianMechanism.EffectiveNoiseMultiplier(sigma, 8, 9), 12);
    }

    [Fact]
    public void Combine_clips_each_client_and_divides_by_the_expected_count()
    {
        // σ = 0 isolates clipping and the fixed denominator: [3,4] (norm 5) → [0.6,0.8]; [0.3,0.4] is inside the ball.
        var mechanism = new GaussianMechanism(1.0, 0.0, expectedClients: 4, GaussianNoise.Seeded(1));
        var combined = mechanism.Combine([new ClientUpdate("a", [3f, 4f], 1000), new ClientUpdate("b", [0.3f, 0.4f], 1)]);
        Assert.Equal(0.225, combined.Delta[0], 1e-6);
        Assert.Equal(0.3, combined.Delta[1], 1e-6);
        Assert.Equal(["a", "b"], combined.Selected);
        Assert.Equal("dp-fedavg", mechanism.Name);
    }

    [Fact]
    public void Seeded_noise_is_reproducible_and_secure_noise_is_not_repeated()
    {
        float[] zeros = new float[64];
        var a = new GaussianMechanism(1, 1, 1, GaussianNoise.Seeded(42)).PrivatizeSum(zeros);
        var b = new GaussianMechanism(1, 1, 1, GaussianNoise.Seeded(42)).PrivatizeSum(zeros);
        var c = new GaussianMechanism(1, 1, 1, GaussianNoise.Seeded(43)).PrivatizeSum(zeros);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        var s1 = new GaussianMechanism(1, 1, 1).PrivatizeSum(zeros);
        var s2 = new GaussianMechanism(1, 1, 1).PrivatizeSum(zeros);
        Assert.NotEqual(s1, s2);
        var secure = new SecureRandom();
        var u = Enumerable.Range(0, 10_000).Select(_ => secure.NextDouble()).ToArray();
        Assert.All(u, x => Assert.InRange(x, 0.0, 1.0 - 1e-17));
        Assert.InRange(u.Average(), 0.5 - (5 * Math.Sqrt(1.0 / 12 / u.Length)), 0.5 + (5 * Math.Sqrt(1.0 / 12 / u.Length)));
    }

    /// <summary>
    /// Mean ≈ 0, variance ≈ sd², share within one sd ≈ 68.27 %, kurtosis ≈ 3, each within five standard errors:
    /// (n−1)s²/sd² is χ²(n−1), so s²/sd² has standard deviation √(2/(n−1)); the kurtosis' is √(24/n).
    /// </summary>
    private static void AssertGaussian(double[] noise, double sd)
    {
        var n = noise.Length;
        var mean = noise.Average();
        Assert.True(Math.Abs(mean) < 5 * sd / Math.Sqrt(n), $"mean {mean}");
        var variance = noise.Sum(x => (x - mean) * (x - mean)) / (n - 1);
        var ratio = variance / (sd * sd);
        Assert.True(Math.Abs(ratio - 1) < 5 * Math.Sqrt(2.0 / (n - 1)), $"variance {variance} vs {sd * sd} (ratio {ratio})");
        var withinOne = noise.Count(x => Math.Abs(x - mean) < sd) / (double)n;
        const double p = 0.682689492137;
        Assert.True(Math.Abs(withinOne - p) < 5 * Math.Sqrt(p * (1 - p) / n), $"share within 1 sd {withinOne}");
        var kurtosis = noise.Sum(x => Math.Pow(x - mean, 4)) / n / (variance * variance);
        Assert.True(Math.Abs(kurtosis - 3) < 5 * Math.Sqrt(24.0 / n), $"kurtosis {kurtosis}");
    }
}
