using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using static EdgeProfile.Core.Tests.Features.StreamTestKit;

namespace EdgeProfile.Core.Tests.Features;

public sealed class PointInTimeTests
{
    private static readonly FeatureDefinition Spend30m = new()
    {
        Name = "spend_30m",
        EventTypes = [EventType.Purchase],
        Window = WindowSpec.Sliding(TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(10)),
        Aggregation = Agg(AggregationKind.Sum, FeatureField.Amount),
        Ttl = TimeSpan.FromMinutes(20),
    };

    private static List<FeatureInput> History()
    {
        var rng = new Random(3);
        return [.. Enumerable.Range(0, 80).Select(i => RandomEvent(rng, $"h{i:D2}", Epoch + (rng.Next(0, 120) * Minute) + rng.Next(0, 60_000), "pos"))];
    }

    private static List<string> Compute(IEnumerable<FeatureInput> events, long cutoff) =>
        [.. PointInTime.Compute(WindowSet, events, cutoff).Select(Show)];

    [Fact]
    public void A_label_event_after_the_cutoff_or_exactly_at_it_changes_no_feature()
    {
        var history = History();
        var cutoff = Epoch + (100 * Minute) + 1234;
        var without = Compute(history, cutoff);
        foreach (var type in new[] { EventType.Purchase, EventType.View, EventType.AddToCart })
        {
            Assert.Equal(without, Compute([.. history, Event("label", cutoff + 1, type, amount: 50, sku: "NEW", category: "Baby & Toddler")], cutoff));
            Assert.Equal(without, Compute([.. history, Event("label", cutoff, type, amount: 50, sku: "NEW", category: "Baby & Toddler")], cutoff));
        }

        // One millisecond earlier it does count.
        Assert.NotEqual(without, Compute([.. history, Event("label", cutoff - 1, EventType.Purchase, amount: 50)], cutoff));
    }

    [Fact]
    public void Sliding_window_is_cutoff_minus_size_inclusive_to_cutoff_exclusive()
    {
        var set = new FeatureSet { Definitions = [Spend30m] };
        var cutoff = Epoch + Hour + 777;
        double? Spend(params FeatureInput[] events) => PointInTime.Compute(set, events, cutoff)[0].Value.Number;

        Assert.Equal(7.0, Spend(Event("a", cutoff - (30 * Minute), EventType.Purchase, amount: 7)));
        Assert.Equal(0.0, Spend(Event("b", cutoff - (30 * Minute) - 1, EventType.Purchase, amount: 7)));
        Assert.Equal(7.0, Spend(Event("c", cutoff - 1, EventType.Purchase, amount: 7)));
        var r = PointInTime.Compute(set, [Event("a", cutoff - (30 * Minute), EventType.Purchase, amount: 7)], cutoff)[0];
        Assert.Equal(new Lineage("spend_30m@v1", 1, cutoff - (30 * Minute), cutoff - (30 * Minute), "a", cutoff - (30 * Minute), cutoff), r.Lineage);

        // Status relative to the cutoff: 30 minutes since the last purchase is older than the 20 minute TTL.
        Assert.Equal(FeatureStatus.Stale, r.Status);
        Assert.Equal(FeatureStatus.Fresh, PointInTime.Compute(set, [Event("c", cutoff - (20 * Minute), EventType.Purchase, amount: 1)], cutoff)[0].Status);
        Assert.Equal(FeatureStatus.Missing, PointInTime.Compute(set, [Event("v", cutoff - 1, EventType.View)], cutoff)[0].Status);
    }

    [Fact]
    public void Values_equal_brute_force_at_random_cutoffs_whatever_the_input_order()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            var rng = new Random(seed);
            var events = Enumerable.Range(0, rng.Next(1, 50))
                .Select(i => RandomEvent(rng, $"p{i:D2}", Epoch + (rng.Next(0, 180) * Minute) + rng.Next(0, 60_000), "pos"))
                .ToList();
            var cutoff = Epoch + (long)(rng.NextDouble() * 200 * Minute);
            if (rng.Next(4) == 0)
            {
                cutoff = events[rng.Next(events.Count)].TimestampMs;
            }

            var readings = PointInTime.Compute(WindowSet, events, cutoff);
            Assert.Equal(
                readings.Select(Show),
                PointInTime.Compute(WindowSet, events.OrderBy(_ => rng.Next()), cutoff).Select(Show));
            var before = events.Where(e => e.TimestampMs < cutoff).ToList();
            foreach (var reading in readings)
            {
                var d = reading.Definition;
                var mine = before.Where(e => d.Accepts(e.Type, e.Category)).ToList();
                List<FeatureInput> inWindow;
                switch (d.Window.Kind)
                {
                    case WindowKind.Sliding:
                        inWindow = mine.Where(e => e.TimestampMs >= cutoff - (long)d.Window.Size.TotalMilliseconds).ToList();
                        break;
                    case WindowKind.Tumbling:
                        var size = (long)d.Window.Size.TotalMilliseconds;
                        inWindow = mine.Where(e => e.TimestampMs >= BruteForce.Floor(cutoff, size)).ToList();
                        break;
                    case WindowKind.Session:
                        inWindow = BruteForce.Sessions(mine, (long)d.Window.Gap.TotalMilliseconds).LastOrDefault().Events ?? [];
                        break;
                    default:
                        inWindow = mine;
                        break;
                }

                AssertClose(BruteForce.Aggregate(d.Aggregation, inWindow, cutoff), reading.Value, () => $"seed {seed} {d.Id}");
                Assert.Equal(inWindow.Count, reading.Lineage.Events);
                var status = mine.Count == 0 ? FeatureStatus.Missing
                    : cutoff - mine.Max(e => e.TimestampMs) > d.Ttl!.Value.TotalMilliseconds ? FeatureStatus.Stale
                    : FeatureStatus.Fresh;
                Assert.Equal(status, reading.Status);
            }
        }
    }

    [Fact]
    public void At_a_hop_aligned_cutoff_sliding_values_match_the_online_read_just_before_it()
    {
        var history = History();
        var cutoff = Epoch + (90 * Minute);
        var engine = new FeatureEngine(WindowSet, new StreamOptions { MaxOutOfOrderness = TimeSpan.FromDays(1) });
        var state = new CustomerState("c");
        foreach (var e in history.Where(e => e.TimestampMs < cutoff))
        {
            engine.Process(state, e);
        }

        var online = engine.Read(state, cutoff - 1).Where(r => r.Definition.Window.Kind == WindowKind.Sliding && r.Definition.Aggregation.Kind != AggregationKind.TimeSinceLast);
        var offline = PointInTime.Compute(WindowSet, history, cutoff).ToDictionary(r => r.Definition.Id);
        foreach (var r in online)
        {
            Assert.Equal(Show(offline[r.Definition.Id].Value), Show(r.Value));
            Assert.Equal(offline[r.Definition.Id].Lineage, r.Lineage);
        }
    }
}
