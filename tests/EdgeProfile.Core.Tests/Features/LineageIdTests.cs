using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using static EdgeProfile.Core.Tests.Features.StreamTestKit;

namespace EdgeProfile.Core.Tests.Features;

/// <summary>
/// Panes keep their latest event's id in a per-customer table that is compacted as it fills: over thousands of
/// events (many compactions), out of order and with ties on time, every lineage still names the right event, and a
/// checkpoint taken at any point restores the same lineage.
/// </summary>
public sealed class LineageIdTests
{
    private static readonly FeatureDefinition Purchases1h = new()
    {
        Name = "purchases_1h",
        EventTypes = [EventType.Purchase],
        Window = WindowSpec.Sliding(TimeSpan.FromHours(1), TimeSpan.FromMinutes(15)),
        Aggregation = new AggregationSpec { Kind = AggregationKind.Count },
    };

    private static readonly FeatureDefinition ViewsEver = new()
    {
        Name = "views_total",
        EventTypes = [EventType.View],
        Window = WindowSpec.Lifetime,
        Aggregation = new AggregationSpec { Kind = AggregationKind.Count },
    };

    private static readonly FeatureDefinition Session = new()
    {
        Name = "session_events",
        Window = WindowSpec.Session(TimeSpan.FromMinutes(10)),
        Aggregation = new AggregationSpec { Kind = AggregationKind.Count },
    };

    private static (long Ms, string Id)? Latest(IEnumerable<FeatureInput> events) =>
        events.Select(e => ((long Ms, string Id)?)(e.TimestampMs, e.EventId))
            .DefaultIfEmpty(null)
            .Aggregate((a, b) => a is null ? b : b is null ? a
                : b.Value.Ms > a.Value.Ms || (b.Value.Ms == a.Value.Ms && string.CompareOrdinal(b.Value.Id, a.Value.Id) > 0) ? b : a);

    [Fact]
    public void Lineage_names_the_latest_event_through_thousands_of_events_and_checkpoints()
    {
        var options = new StreamOptions { MaxOutOfOrderness = TimeSpan.FromMinutes(20), AllowedLateness = TimeSpan.FromMinutes(30) };
        var set = new FeatureSet { Definitions = [Purchases1h, ViewsEver, Session] };
        var engine = new FeatureEngine(set, options);
        var state = new CustomerState("c");
        var rng = new Random(11);
        var accepted = new List<FeatureInput>();
        var checks = 0;
        for (var i = 0; i < 4_000; i++)
        {
            // Time moves forward about a minute per event, with jitter of up to 15 minutes back and frequent ties;
            // ids are random, so their order is not the time order.
            var ms = Epoch + (i * Minute) - (rng.Next(0, 16) * Minute) + (rng.Next(3) * 1_000);
            var e = Event($"{rng.Next(100_000):x5}-{i}", ms, rng.Next(3) == 0 ? EventType.Purchase : EventType.View);
            if (engine.Process(state, e) == EventOutcome.Accepted)
            {
                accepted.Add(e);
            }

            if (i % 97 == 0)
            {
                // A checkpoint and restore in the middle of the stream.
                state = CustomerState.Deserialize(state.Serialize());
            }

            if (i % 50 != 49)
            {
                continue;
            }

            var asOf = accepted.Max(a => a.TimestampMs);
            var views = engine.Read(state, ViewsEver, asOf).Lineage;
            Assert.Equal(Latest(accepted.Where(a => a.Type == EventType.View))?.Id, views.LastEventId);
            Assert.Equal(accepted.Count(a => a.Type == EventType.View), views.Events);

            var window = engine.Read(state, Purchases1h, asOf).Lineage;
            var inWindow = accepted.Where(a => a.Type == EventType.Purchase && a.TimestampMs >= window.WindowStartMs && a.TimestampMs < window.WindowEndMs).ToList();
            Assert.Equal(inWindow.Count, window.Events);
            Assert.Equal(Latest(inWindow)?.Id, window.LastEventId);
            Assert.Equal(Latest(inWindow)?.Ms, window.LastEventMs);
            checks++;
        }

        Assert.Equal(80, checks);
        // The ids are not kept beyond need: the serialised state holds only what its panes refer to.
        Assert.InRange(state.Serialize().Length, 1, 8_000);
    }
}
