using EdgeProfile.Federated;
using EdgeProfile.Federated.Aggregation;

namespace EdgeProfile.Federated.Tests;

public class AggregationTests
{
    private static ClientUpdate[] Updates(params float[][] deltas) =>
        deltas.Select((d, i) => new ClientUpdate($"c{i}", d, i + 1)).ToArray();

    /// <summary>n updates of d values, N(0,1), with ties and one constant coordinate so selection edge cases occur.</summary>
    private static ClientUpdate[] RandomUpdates(int n, int d, int seed)
    {
        var random = new Random(seed);
        var updates = new ClientUpdate[n];
        for (var k = 0; k < n; k++)
        {
            var delta = new float[d];
            for (var i = 0; i < d; i++)
            {
                delta[i] = i % 97 == 0 ? 0.5f : (i % 13 == 0 ? MathF.Round((float)random.NextDouble() * 4) : (float)Gaussian(random));
            }
            updates[k] = new ClientUpdate($"c{k}", delta, random.Next(1, 500));
        }
        return updates;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static double[] Column(ClientUpdate[] updates, int i) => updates.Select(u => (double)u.Delta[i]).Order().ToArray();

    [Fact]
    public void Median_of_a_hand_checked_example()
    {
        // Coordinates: {1,5,3} → 3; {−2,−8,100} → −2; {0,0,7} → 0.
        var odd = new CoordinateMedianCombiner().Combine(Updates([1f, -2f, 0f], [5f, -8f, 0f], [3f, 100f, 7f]));
        Assert.Equal([3f, -2f, 0f], odd.Delta);
        Assert.Empty(odd.Rejected);
        Assert.Equal(["c0", "c1", "c2"], odd.Selected);
        // Even count: mean of the two middle values. {1,5,3,4} → 3.5; {10,−10,0,2} → 1.
        var even = new CoordinateMedianCombiner().Combine(Updates([1f, 10f], [5f, -10f], [3f, 0f], [4f, 2f]));
        Assert.Equal([3.5f, 1f], even.Delta);
    }

    [Theory]
    [InlineData(1, 3000)]
    [InlineData(2, 301)]
    [InlineData(3, 333)]
    [InlineData(7, 5000)]
    [InlineData(10, 2100)]
    [InlineData(31, 4097)]
    [InlineData(64, 515)]
    [InlineData(65, 515)]
    [InlineData(100, 1001)]
    [InlineData(129, 257)]
    public void Median_equals_sorting_each_coordinate(int n, int d)
    {
        var updates = RandomUpdates(n, d, seed: n * 31);
        var delta = new CoordinateMedianCombiner().Combine(updates).Delta;
        for (var i = 0; i < d; i++)
        {
            var sorted = Column(updates, i);
            var expected = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
            Assert.Equal(expected, delta[i], 1e-6);
        }
    }

    [Fact]
    public void Trimmed_mean_of_a_hand_checked_example()
    {
        // 5 clients, β = 0.2 → drop 1 from each end. {1,2,3,4,100} → (2+3+4)/3 = 3; {−50,0,0,3,3} → (0+0+3)/3 = 1.
        var combined = new TrimmedMeanCombiner(0.2).Combine(
            Updates([1f, -50f], [2f, 0f], [3f, 0f], [4f, 3f], [100f, 3f]));
        Assert.Equal([3f, 1f], combined.Delta);
        // β below 1/n trims nothing: the plain (unweighted) mean.
        var plain = new TrimmedMeanCombiner(0.1).Combine(Updates([1f], [2f], [6f]));
        Assert.Equal([3f], plain.Delta);
    }

    [Theory]
    [InlineData(10, 0.1, 3000)]
    [InlineData(10, 0.2, 3000)]
    [InlineData(25, 0.3, 2500)]
    [InlineData(7, 0.45, 1100)]
    [InlineData(100, 0.1, 1003)]
    [InlineData(33, 0.25, 77)]
    public void Trimmed_mean_equals_sorting_each_coordinate(int n, double beta, int d)
    {
        var updates = RandomUpdates(n, d, seed: n + 5);
        var delta = new TrimmedMeanCombiner(beta).Combine(updates).Delta;
        var t = (int)Math.Floor(beta * n);
        for (var i = 0; i < d; i++)
        {
            var expected = Column(updates, i)[t..(n - t)].Average();
            Assert.Equal(expected, delta[i], 1e-5);
        }
    }

    [Fact]
    public void Trimmed_mean_refuses_a_trim_that_leaves_nothing()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrimmedMeanCombiner(0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrimmedMeanCombiner(-0.1));
    }

    [Fact]
    public void Krum_scores_a_hand_checked_example()
    {
        // Scalars 0, 1, 2, 10 with f = 1: n − f − 2 = 1 nearest. Squared distances:
        // 0: {1, 4, 100} → 1; 1: {1, 1, 81} → 1; 2: {4, 1, 64} → 1; 10: {100, 81, 64} → 64.
        var updates = Updates([0f], [1f], [2f], [10f]);
        Assert.Equal([1d, 1d, 1d, 64d], KrumCombiner.Scores(updates, 1));
        // f = 0: 2 nearest. 0: 1+4 = 5; 1: 1+1 = 2; 2: 1+4 = 5; 10: 64+81 = 145 → Krum picks 1.
        Assert.Equal([5d, 2d, 5d, 145d], KrumCombiner.Scores(updates, 0));
        var krum = new KrumCombiner(0).Combine(updates);
        Assert.Equal([1f], krum.Delta);
        Assert.Equal(["c1"], krum.Selected);
        Assert.Equal(["c0", "c2", "c3"], krum.Rejected);
        // Multi-Krum m = 3 (0, 1, 2), sample-weighted with samples 1, 2, 3: (0·1 + 1·2 + 2·3) / 6 = 4/3.
        var multi = new KrumCombiner(0, select: 3).Combine(updates);
        Assert.Equal(4f / 3f, multi.Delta[0], 1e-6f);
        Assert.Equal(["c3"], multi.Rejected);
        // Plain mean of the same three: 1.
        Assert.Equal([1f], new KrumCombiner(0, select: 3, weightBySamples: false).Combine(updates).Delta);
    }

    [Fact]
    public void Krum_distances_and_scores_equal_a_naive_computation()
    {
        var updates = RandomUpdates(12, 5003, seed: 3);
        var distances = KrumCombiner.SquaredDistances(updates);
        var naive = new double[12 * 12];
        for (var i = 0; i < 12; i++)
        {
            for (var j = 0; j < 12; j++)
            {
                double s = 0;
                for (var c = 0; c < 5003; c++)
                {
                    double d = updates[i].Delta[c] - updates[j].Delta[c];
                    s += d * d;
                }
                naive[(i * 12) + j] = s;
                Assert.Equal(s, distances[(i * 12) + j], s * 1e-5);
            }
        }
        var scores = KrumCombiner.Scores(updates, 3);
        for (var i = 0; i < 12; i++)
        {
            var nearest = Enumerable.Range(0, 12).Where(j => j != i).Select(j => naive[(i * 12) + j]).Order().Take(12 - 3 - 2).Sum();
            Assert.Equal(nearest, scores[i], nearest * 1e-5);
        }
    }

    [Fact]
    public void Krum_picks_the_honest_cluster_when_f_outliers_are_present()
    {
        var random = new Random(11);
        const int D = 2000;
        var center = Enumerable.Range(0, D).Select(_ => (float)Gaussian(random)).ToArray();
        var updates = new List<ClientUpdate>();
        for (var k = 0; k < 8; k++)
        {
            updates.Add(new ClientUpdate($"honest{k}", center.Select(c => c + (0.1f * (float)Gaussian(random))).ToArray(), 100));
        }
        // Three colluding attackers, identical to each other (so their mutual distances are 0) and far from the rest.
        var attack = center.Select(c => -10f * c).ToArray();
        for (var k = 0; k < 3; k++)
        {
            updates.Insert(k * 3, new ClientUpdate($"evil{k}", (float[])attack.Clone(), 1000));
        }
        var krum = new KrumCombiner(3).Combine(updates);
        Assert.StartsWith("honest", Assert.Single(krum.Selected));
        Assert.Equal(3, krum.Rejected.Count(id => id.StartsWith("evil")));
        var multi = new KrumCombiner(3, select: null).Combine(updates);
        Assert.Equal(8, multi.Selected.Count);
        Assert.All(multi.Selected, id => Assert.StartsWith("honest", id));
        Assert.Equal(["evil0", "evil1", "evil2"], multi.Rejected);
        // The Multi-Krum mean lies near the honest centre, FedAvg does not.
        Assert.True(Distance(multi.Delta, center) < 0.05 * Math.Sqrt(D));
        Assert.True(Distance(new FedAvgCombiner().Combine(updates).Delta, center) > 5 * Math.Sqrt(D));
    }

    [Fact]
    public void Krum_refuses_too_few_updates_for_f()
    {
        var e = Assert.Throws<ArgumentException>(() => new KrumCombiner(2).Combine(Updates([0f], [1f], [2f], [3f])));
        Assert.Contains("at least 5", e.Message);
    }

    [Fact]
    public void FedAvg_equals_a_double_precision_weighted_mean_on_random_data()
    {
        var updates = RandomUpdates(23, 20011, seed: 9);
        var delta = new FedAvgCombiner().Combine(updates).Delta;
        double total = updates.Sum(u => u.Samples);
        for (var i = 0; i < delta.Length; i++)
        {
            var expected = updates.Sum(u => u.Samples * (double)u.Delta[i]) / total;
            Assert.Equal(expected, delta[i], 1e-5);
        }
    }

    [Fact]
    public void Clip_to_norm_scales_only_long_vectors()
    {
        float[] v = [3f, 4f];
        Assert.Equal(5, UpdateClipping.ClipToNorm(v, 1), 1e-12);
        Assert.Equal(0.6f, v[0], 1e-6f);
        Assert.Equal(0.8f, v[1], 1e-6f);
        float[] w = [3f, 4f];
        Assert.Equal(5, UpdateClipping.ClipToNorm(w, 5.5), 1e-12);
        Assert.Equal([3f, 4f], w);
        Assert.Throws<ArgumentOutOfRangeException>(() => UpdateClipping.ClipToNorm(w, 0));
    }

    [Fact]
    public void Norm_clipping_bounds_each_update_before_the_inner_rule_and_leaves_inputs_alone()
    {
        // Norms 5 and 1 with C = 2: the first becomes (1.2, 1.6), the second stays (0, 1). Samples 1 and 2 → FedAvg
        // ((1.2, 1.6)·1 + (0, 1)·2) / 3 = (0.4, 1.2).
        float[] big = [3f, 4f];
        var updates = new[] { new ClientUpdate("a", big, 1), new ClientUpdate("b", [0f, 1f], 2) };
        var clipping = new NormClipping(new FedAvgCombiner(), 2);
        var combined = clipping.Combine(updates);
        Assert.Equal(0.4f, combined.Delta[0], 1e-6f);
        Assert.Equal(1.2f, combined.Delta[1], 1e-6f);
        Assert.Equal([3f, 4f], big);
        Assert.Equal("fedavg+clip", clipping.Name);
        // Rejections of the inner rule pass through.
        var krum = new NormClipping(new KrumCombiner(0), 100).Combine(Updates([0f], [1f], [2f], [10f]));
        Assert.Equal(["c0", "c2", "c3"], krum.Rejected);
    }

    [Fact]
    public void FedAdam_one_and_two_steps_equal_hand_computed_values()
    {
        // η = 0.1, β1 = 0.9, β2 = 0.99, τ = 0.01, v₀ = τ² = 1e-4, x = 1, Δ1 = 0.5, Δ2 = −0.2.
        // Step 1: m = 0.05; v = 0.99·1e-4 + 0.01·0.25 = 0.002599; x = 1 + 0.1·0.05/(√0.002599 + 0.01).
        var adam = new FedAdam(0.1, 0.9, 0.99, 0.01);
        var x1 = adam.Apply([1f], [0.5f]);
        var expected1 = 1 + (0.1 * 0.05 / (Math.Sqrt(0.002599) + 0.01));
        Assert.Equal(expected1, x1[0], 1e-6);
        // Step 2: m = 0.9·0.05 + 0.1·(−0.2) = 0.025; v = 0.99·0.002599 + 0.01·0.04 = 0.00297301.
        var x2 = adam.Apply(x1, [-0.2f]);
        var expected2 = expected1 + (0.1 * 0.025 / (Math.Sqrt(0.00297301) + 0.01));
        Assert.Equal(expected2, x2[0], 1e-6);
        Assert.Equal(0.025f, adam.FirstMoment[0], 1e-7f);
        Assert.Equal(0.00297301f, adam.SecondMoment[0], 1e-9f);
        Assert.Equal(2, adam.Steps);
    }

    [Fact]
    public void FedYogi_one_and_two_steps_equal_hand_computed_values()
    {
        // η = 0.01, β1 = 0.9, β2 = 0.99, τ = 0.001, v₀ = 1e-6. Coordinate 0: Δ = 0.5 then 0.01; coordinate 1: Δ = 0 twice.
        // Step 1, c0: Δ² = 0.25 > v → v = 1e-6 + 0.01·0.25 = 0.002501; m = 0.05.
        //         c1: Δ² = 0 < v → v = 1e-6 − 0 = 1e-6; m = 0; x unchanged.
        // Step 2, c0: Δ² = 1e-4 < v → v = 0.002501 − 0.01·1e-4 = 0.0025; m = 0.045 + 0.001 = 0.046.
        // (Adam would give v = 0.99·0.002501 + 1e-6 = 0.00247699: Yogi's v shrinks additively.)
        var yogi = new FedYogi(0.01, 0.9, 0.99, 0.001);
        var x1 = yogi.Apply([2f, -1f], [0.5f, 0f]);
        var e1 = 2 + (0.01 * 0.05 / (Math.Sqrt(0.002501) + 0.001));
        Assert.Equal(e1, x1[0], 1e-6);
        Assert.Equal(-1f, x1[1]);
        var x2 = yogi.Apply(x1, [0.01f, 0f]);
        var e2 = e1 + (0.01 * 0.046 / (Math.Sqrt(0.0025) + 0.001));
        Assert.Equal(e2, x2[0], 1e-6);
        Assert.Equal(0.0025f, yogi.SecondMoment[0], 1e-9f);
        Assert.Equal(1e-6f, yogi.SecondMoment[1], 1e-12f);
    }

    [Fact]
    public void Optimizer_state_round_trips_and_continues_identically()
    {
        var random = new Random(5);
        float[] Vector() => Enumerable.Range(0, 1000).Select(_ => (float)Gaussian(random)).ToArray();
        foreach (var make in new Func<AdaptiveServerOptimizer>[] { () => new FedAdam(), () => new FedYogi() })
        {
            var original = make();
            var x = original.Apply(Vector(), Vector());
            x = original.Apply(x, Vector());
            var state = original.SaveState();
            var restored = make();
            restored.LoadState(state);
            Assert.Equal(original.Steps, restored.Steps);
            Assert.Equal(original.FirstMoment.ToArray(), restored.FirstMoment.ToArray());
            Assert.Equal(original.SecondMoment.ToArray(), restored.SecondMoment.ToArray());
            var delta = Vector();
            Assert.Equal(original.Apply(x, delta), restored.Apply(x, delta));
            Assert.Equal(original.SaveState(), restored.SaveState());
        }
        // Empty state (before any step) round-trips too, and one optimiser does not take another's state.
        var fresh = new FedAdam();
        fresh.LoadState(new FedAdam().SaveState());
        Assert.Equal(0, fresh.Steps);
        var adamState = new FedAdam().SaveState();
        Assert.Throws<ArgumentException>(() => new FedYogi().LoadState(adamState));
        Assert.Throws<ArgumentException>(() => new FedAdam().LoadState(adamState.AsSpan(0, 10)));
    }

    [Fact]
    public void Strategies_build_each_named_rule_and_reject_unknown_names()
    {
        var options = new StrategyOptions { ByzantineClients = 1, TrimFraction = 0.2, ClipNorm = 3 };
        foreach (var name in Strategies.Names)
        {
            var (combiner, optimizer) = Strategies.Create(name, options);
            var inner = Assert.IsType<NormClipping>(combiner).Inner;
            var expectedCombiner = name switch
            {
                "fedprox" or "fedadam" or "fedyogi" => "fedavg",
                _ => name,
            };
            Assert.Equal(expectedCombiner, inner.Name);
            Assert.Equal(name switch { "fedadam" => "fedadam", "fedyogi" => "fedyogi", _ => "sgd" }, optimizer.Name);
        }
        var (plain, adam) = Strategies.Create("FedAdam", new StrategyOptions { ServerLearningRate = 0.5, Tau = 0.2 });
        Assert.IsType<FedAvgCombiner>(plain);
        Assert.Equal(0.5, Assert.IsType<FedAdam>(adam).LearningRate);
        Assert.Equal(0.2, ((FedAdam)adam).Tau);
        Assert.Equal(FedAdam.DefaultBeta2, ((FedAdam)adam).Beta2);
        Assert.Equal(0.01, Assert.IsType<FedYogi>(Strategies.Create("fedyogi", new StrategyOptions()).Optimizer).LearningRate);
        var trimmed = Assert.IsType<TrimmedMeanCombiner>(Strategies.Create("trimmed-mean", options with { ClipNorm = null }).Combiner);
        Assert.Equal(0.2, trimmed.TrimFraction);
        var multi = Assert.IsType<KrumCombiner>(Strategies.Create("multi-krum", new StrategyOptions { ByzantineClients = 2, MultiKrumSelect = 4 }).Combiner);
        Assert.Equal((2, 4), (multi.ByzantineClients, multi.Select!.Value));
        var e = Assert.Throws<ArgumentException>(() => Strategies.Create("fedsgd", new StrategyOptions()));
        Assert.Contains("trimmed-mean", e.Message);
        Assert.Contains("multi-krum", e.Message);
    }

    private static double Distance(float[] a, float[] b)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++)
        {
            double d = a[i] - b[i];
            s += d * d;
        }
        return Math.Sqrt(s);
    }
}
