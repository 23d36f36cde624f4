using EdgeProfile.Federated.Aggregation;
using Xunit.Abstractions;

namespace EdgeProfile.Federated.Tests;

/// <summary>
/// The issue's acceptance point on real data: 2 of 10 clients send boosted, backdoored model-replacement updates
/// (Bagdasaryan et al. 2020). Plain FedAvg must visibly suffer; median, trimmed mean and Krum, each behind update-norm
/// clipping, must keep clean accuracy within 2 points of the no-attacker FedAvg baseline and backdoor success ≤ 5 %.
/// Setup (<see cref="PoisoningFixture"/>): Fashion-MNIST, 10 IID clients × 600 rows, 2,000 clean test rows, softmax
/// regression on 14×14 pooled pixels, 20 rounds of one local epoch (SGD, batch 16, η = 0.5 / (1 + 0.2·round)),
/// target class 1 (Trouser), trigger a white 3×3 patch at rows/columns 24–26, attackers boost by 10 / 2 = 5.
/// </summary>
public class PoisoningTests(PoisoningFixture fixture, ITestOutputHelper output) : IClassFixture<PoisoningFixture>
{
    private const double MaxAccuracyDrop = 0.02;
    private const double MaxBackdoor = 0.05;

    private PoisoningOutcome Report(PoisoningOutcome outcome)
    {
        var baseline = fixture.Baseline.Value;
        output.WriteLine($"baseline fedavg, no attackers: accuracy {baseline.MainAccuracy:P1}, trigger → target {baseline.BackdoorSuccess:P1}");
        if (ReferenceEquals(outcome, baseline))
        {
            return outcome;
        }
        output.WriteLine($"{outcome.Rule} with 2 attackers: accuracy {outcome.MainAccuracy:P1} ({100 * (outcome.MainAccuracy - baseline.MainAccuracy):+0.0;-0.0} points), backdoor {outcome.BackdoorSuccess:P1}, attacker updates selected {outcome.AttackerSelections} of {2 * outcome.Rounds}");
        return outcome;
    }

    [Fact]
    public void Baseline_learns_and_the_trigger_alone_does_not_select_the_target()
    {
        var baseline = Report(fixture.Baseline.Value);
        Assert.InRange(baseline.MainAccuracy, 0.70, 1.0);
        Assert.InRange(baseline.BackdoorSuccess, 0, MaxBackdoor);
    }

    [Fact]
    public void Clip_norm_sits_above_honest_updates_after_the_first_round()
    {
        var norms = fixture.HonestNorms.Value;
        output.WriteLine($"honest update norms by round: {string.Join(" | ", norms.Chunk(PoisoningExperiment.Clients).Select(r => $"{r.Min():F2}–{r.Max():F2}"))}; C = {PoisoningFixture.ClipNorm}");
        Assert.All(norms.Skip(PoisoningExperiment.Clients), n => Assert.True(n < PoisoningFixture.ClipNorm, $"honest norm {n:F2} ≥ C"));
    }

    [Fact]
    public void Plain_fedavg_is_backdoored_by_two_boosted_attackers()
    {
        var attacked = Report(fixture.FedAvgAttacked.Value);
        var drop = fixture.Baseline.Value.MainAccuracy - attacked.MainAccuracy;
        Assert.True(drop > MaxAccuracyDrop || attacked.BackdoorSuccess > 0.20, $"the attack did not bite: drop {drop:P1}, backdoor {attacked.BackdoorSuccess:P1}");
        Assert.InRange(attacked.BackdoorSuccess, 0.20, 1.0);
    }

    [Fact]
    public void Median_with_clipping_keeps_accuracy_and_stops_the_backdoor() => AssertRobust(fixture.Median.Value);

    [Fact]
    public void Trimmed_mean_with_clipping_keeps_accuracy_and_stops_the_backdoor() => AssertRobust(fixture.TrimmedMean.Value);

    [Fact]
    public void Krum_with_clipping_keeps_accuracy_stops_the_backdoor_and_never_selects_an_attacker()
    {
        var krum = AssertRobust(fixture.Krum.Value);
        Assert.Equal(0, krum.AttackerSelections);
    }

    private PoisoningOutcome AssertRobust(PoisoningOutcome outcome)
    {
        Report(outcome);
        Assert.True(outcome.MainAccuracy >= fixture.Baseline.Value.MainAccuracy - MaxAccuracyDrop, $"{outcome.Rule}: accuracy {outcome.MainAccuracy:P1} is more than 2 points below the baseline {fixture.Baseline.Value.MainAccuracy:P1}");
        Assert.InRange(outcome.BackdoorSuccess, 0, MaxBackdoor);
        return outcome;
    }
}
