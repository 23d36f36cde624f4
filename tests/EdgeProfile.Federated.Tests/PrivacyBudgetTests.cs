using EdgeProfile.Federated.Aggregation;
using EdgeProfile.Federated.Privacy;
using Xunit.Abstractions;

namespace EdgeProfile.Federated.Tests;

public class PrivacyBudgetTests(ITestOutputHelper output)
{
    [Fact]
    public void Job_with_a_small_budget_stops_on_the_last_round_that_fits()
    {
        const double targetEpsilon = 1.0;
        const double delta = 1e-5;
        const int totalClients = 100;
        const int perRound = 10;
        const double q = perRound / (double)totalClients;
        const double sigma = 2.0;

        // Which round is the last that fits, computed independently: first with the accountant round by round, then
        // with the numerically integrated RDP of the test's reference.
        var stepwise = new RdpAccountant();
        var lastFitting = 0;
        while (true)
        {
            stepwise.Compose(q, sigma);
            if (stepwise.GetPrivacySpent(delta).Epsilon > targetEpsilon)
            {
                break;
            }
            lastFitting++;
        }
        var orders = RdpAccountant.DefaultOrders;
        var referenceRdp = orders.Select(a => ReferenceSgmRdp.Rdp(q, sigma, a)).ToArray();
        Assert.True(ReferenceSgmRdp.Epsilon(referenceRdp, lastFitting, delta, orders).Epsilon <= targetEpsilon);
        Assert.True(ReferenceSgmRdp.Epsilon(referenceRdp, lastFitting + 1, delta, orders).Epsilon > targetEpsilon);
        Assert.InRange(lastFitting, 3, 100); // the budget is small but not degenerate

        // The simulated job: a real DP-FedAvg round (clip, noise, fixed denominator, server step) per budget check.
        var budget = new PrivacyBudget(targetEpsilon, delta);
        var mechanism = new GaussianMechanism(clipNorm: 1.0, sigma, expectedClients: perRound, GaussianNoise.Seeded(9));
        var server = new ServerSgd();
        var sampler = new Random(4);
        var model = new float[16];
        var reported = new List<PrivacySpent>();
        for (var round = 0; round < 10_000; round++)
        {
            if (!budget.CanRun(q, sigma))
            {
                break;
            }
            var updates = Enumerable.Range(0, totalClients)
                .Where(_ => sampler.NextDouble() < q) // Poisson sampling, as the accountant assumes
                .Select(c => new ClientUpdate($"store-{c}", Enumerable.Range(0, model.Length).Select(_ => (float)(sampler.NextDouble() - 0.5)).ToArray(), 100))
                .ToArray();
            var spent = budget.Spend(q, sigma);
            if (updates.Length > 0)
            {
                model = server.Apply(model, mechanism.Combine(updates).Delta);
            }
            reported.Add(spent);
        }
        output.WriteLine($"stopped after {reported.Count} rounds, ε={budget.Spent.Epsilon:R} (α={budget.Spent.OptimalOrder}); next round would reach {budget.Preview(q, sigma).Epsilon:R}");

        Assert.Equal(lastFitting, reported.Count);
        Assert.All(reported, r => Assert.True(r.Epsilon <= targetEpsilon));
        for (var k = 1; k < reported.Count; k++)
        {
            Assert.True(reported[k].Epsilon > reported[k - 1].Epsilon);
            Assert.Equal(k + 1, reported[k].Rounds);
        }
        Assert.True(budget.Preview(q, sigma).Epsilon > targetEpsilon);
        Assert.False(budget.TrySpend(q, sigma, out var unchanged));
        Assert.Equal(lastFitting, unchanged.Rounds);
        Assert.Throws<InvalidOperationException>(() => budget.Spend(q, sigma));
        Assert.Equal(lastFitting, budget.Accountant.Rounds);
        // A cheaper round (more noise) may still fit after the expensive ones no longer do.
        Assert.True(budget.CanRun(q, 50.0));

        Assert.Equal(lastFitting, new PrivacyBudget(targetEpsilon, delta).AffordableRounds(q, sigma));
        Assert.Equal(5, new PrivacyBudget(targetEpsilon, delta).AffordableRounds(q, sigma, limit: 5));
    }

    [Theory]
    [InlineData(3.0, 1e-5, 0.05, 200)]
    [InlineData(1.0, 1e-6, 0.2, 30)]
    public void Noise_multiplier_for_a_target_is_the_smallest_that_fits(double targetEpsilon, double delta, double q, int rounds)
    {
        const double tolerance = 1e-4;
        var sigma = PrivacyBudget.NoiseMultiplierFor(targetEpsilon, delta, q, rounds, tolerance: tolerance);
        var orders = RdpAccountant.DefaultOrders;
        var atSigma = new RdpAccountant().PreviewPrivacySpent(delta, q, sigma, rounds).Epsilon;
        var justBelow = new RdpAccountant().PreviewPrivacySpent(delta, q, sigma * (1 - (2 * tolerance)), rounds).Epsilon;
        output.WriteLine($"σ={sigma:R}: ε {atSigma:R}, at σ(1−2·tol) {justBelow:R}");
        Assert.True(atSigma <= targetEpsilon);
        Assert.True(justBelow > targetEpsilon);
        var reference = ReferenceSgmRdp.Epsilon(orders.Select(a => ReferenceSgmRdp.Rdp(q, sigma, a)).ToArray(), rounds, delta, orders);
        Assert.True(Math.Abs(reference.Epsilon - targetEpsilon) < 0.01 * targetEpsilon, $"reference ε {reference.Epsilon}");
    }

    [Fact]
    public void Budget_rejects_bad_settings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrivacyBudget(0, 1e-5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrivacyBudget(1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrivacyBudget(1, 1));
        Assert.Equal(0, new PrivacyBudget(1, 1e-5).Spent.Epsilon);
        Assert.Equal(0, new PrivacyBudget(0.01, 1e-5).AffordableRounds(1.0, 0.1));
        // One round at q = 0.1, σ = 1 already costs ε ≈ 2.1 at δ = 1e-5: a budget of 2 allows no round at all.
        var tooSmall = new PrivacyBudget(2.0, 1e-5);
        Assert.False(tooSmall.CanRun(0.1, 1.0));
        Assert.False(tooSmall.TrySpend(0.1, 1.0, out var nothing));
        Assert.Equal(0, nothing.Rounds);
    }
}
