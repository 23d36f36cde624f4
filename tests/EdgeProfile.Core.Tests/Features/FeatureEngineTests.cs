using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using static EdgeProfile.Core.Tests.Features.StreamTestKit;

namespace EdgeProfile.Core.Tests.Features;

public sealed class FeatureEngineTests
{
    private static readonly FeatureDefinition Tumbling10m = new()
    {
        Name = "events_10m",
        Window = WindowSpec.Tumbling(TimeSpan.FromMinutes(10)),
        Aggregation = Agg(AggregationKind.Count),
    };

    private static readonly FeatureDefinition Session10m = new()
    {
        Name = "session_events",
        Window = WindowSpec.Session(TimeSpan.FromMinutes(10)),
        Aggregation = Agg(AggregationKind.Count),
    };

    private static readonly FeatureDefinition Sliding1h = new()
    {
        Name = "spend_1h",
        EventTypes = [EventType.Purchase],
        Window = WindowSpec.Sliding(TimeSpan.FromHours(1), TimeSpan.FromMinutes(15)),
        Aggregation = Agg(AggregationKind.Sum, FeatureField.Amount),
        Ttl = TimeSpan.FromMinutes(30),
    };

    private static readonly FeatureDefinition LifetimeLast = new()
    {
        Name = "last_category",
        Window = WindowSpec.Lifetime,
        Aggregation = Agg(AggregationKind.LastValue, FeatureField.Category),
    };

    private static FeatureSet SetOf(params FeatureDefinition[] defs) => new() { Definitions = defs };

    /// <summary>One source without out-of-orderness: the watermark is the latest event time.</summary>
    private static readonly StreamOptions Strict = new() { MaxOutOfOrderness = TimeSpan.Zero, AllowedLateness = TimeSpan.FromMinutes(5) };

    private static string Brief(WindowResult r) => $"{r.Kind} {(r.StartMs - Epoch) / Minute}-{(r.EndMs - Epoch) / Minute} {r.Value}";

    [Fact]
    public void Late_event_within_lateness_updates_an_emitted_window_and_one_beyond_is_late()
    {
        var engine = new FeatureEngine(SetOf(Tumbling10m), Strict);
        var state = new CustomerState("c");
        var sink = new RecordingSink(() => engine.Watermarks.Current);

        Assert.Equal(EventOutcome.Accepted, engine.Process(state, Event("a", Epoch + Minute), sink));
        Assert.Empty(sink.All);
        Assert.Equal(EventOutcome.Accepted, engine.Process(state, Event("b", Epoch + (12 * Minute)), sink));
        Assert.Equal(["Final 0-10 1"], sink.All.Select(Brief));

        // Watermark 12m, lateness 5m: 9m is accepted and corrects the window already emitted.
        Assert.Equal(EventOutcome.Accepted, engine.Process(state, Event("c", Epoch + (9 * Minute)), sink));
        Assert.Equal(["Final 0-10 1", "Update 0-10 2"], sink.All.Select(Brief));

        // 6m is older than 12m − 5m: late, nothing changes, the watermark stays.
        var before = state.Serialize();
        Assert.Equal(EventOutcome.Late, engine.Process(state, Event("d", Epoch + (6 * Minute)), sink));
        Assert.Equal(before, state.Serialize());
        Assert.Equal(Epoch + (12 * Minute), engine.Watermarks.Current);
        Assert.Equal(2, sink.All.Count);
        Assert.Equal(2.0, engine.Read(state, Tumbling10m, Epoch + (5 * Minute)).Value.Number);

        // The boundary: exactly the watermark minus the lateness is still accepted, a millisecond earlier is late.
        Assert.Equal(EventOutcome.Late, engine.Process(state, Event("e", Epoch + (7 * Minute) - 1), sink));
        Assert.Equal(EventOutcome.Accepted, engine.Process(state, Event("f", Epoch + (7 * Minute)), sink));
        Assert.Equal("Update 0-10 3", Brief(sink.All[^1]));
    }

    [Fact]
    public void Late_event_in_an_empty_closed_window_fires_it_final()
    {
        var engine = new FeatureEngine(SetOf(Tumbling10m), Strict with { AllowedLateness = TimeSpan.FromMinutes(30) });
        var state = new CustomerState("c");
        var sink = new RecordingSink(() => engine.Watermarks.Current);
        engine.Process(state, Event("a", Epoch + Minute), sink);
        engine.Process(state, Event("b", Epoch + (25 * Minute)), sink);
        engine.Process(state, Event("c", Epoch + (15 * Minute)), sink);
        Assert.Equal(["Final 0-10 1", "Final 10-20 1"], sink.All.Select(Brief));
    }

    [Fact]
    public void Sessions_split_at_the_gap_and_merge_when_an_event_bridges_them()
    {
        var engine = new FeatureEngine(SetOf(Session10m), Strict with { AllowedLateness = TimeSpan.FromHours(1) });
        var state = new CustomerState("c");
        var endOfStream = false;
        var sink = new RecordingSink(() => endOfStream ? long.MaxValue : engine.Watermarks.Current);
        void At(string id, double minutes) => Assert.Equal(EventOutcome.Accepted, engine.Process(state, Event(id, Epoch + (long)(minutes * Minute)), sink));

        At("a", 0);
        At("b", 25);
        Assert.Equal(["Final 0-10 1"], sink.All.Select(Brief));

        // 12 is 13 after 0 and 13 before 25: a session of its own, already closed.
        At("c", 12);
        Assert.Equal(["Final 0-10 1", "Final 12-22 1"], sink.All.Select(Brief));

        // 17 bridges [12,22) and [25,35): the emitted one is retracted; the merged one is not closed yet.
        At("d", 17);
        Assert.Equal(["Final 0-10 1", "Final 12-22 1", "Retract 12-22 1"], sink.All.Select(Brief));
        At("e", 40);
        Assert.Equal("Final 12-35 3", Brief(sink.All[^1]));

        // 1 extends [0,10) to [0,11) (it is 11 before 12, so that session stays apart): retract the old bounds, emit the new ones.
        At("f", 1);
        Assert.Equal(["Retract 0-10 1", "Final 0-11 2"], sink.All.TakeLast(2).Select(Brief));

        // 0.5 lies between the first and last event of [0,11): the same window, updated.
        At("g", 0.5);
        Assert.Equal("Update 0-11 3", Brief(sink.All[^1]));

        // 6 is closer than the gap to 1 and to 12: everything before 40 becomes one session.
        At("h", 6);
        Assert.Equal(["Retract 0-11 3", "Retract 12-35 3", "Final 0-35 7"], sink.All.TakeLast(3).Select(Brief));

        endOfStream = true;
        engine.Advance(state, long.MaxValue, sink);
        Assert.Equal("Final 40-50 1", Brief(sink.All[^1]));
        Assert.Equal(
            new Dictionary<long, double> { [0] = 7, [40] = 1 },
            sink.Windows.ToDictionary(kv => (kv.Key.Start - Epoch) / Minute, kv => kv.Value.Number!.Value));
    }

    [Fact]
    public void Events_exactly_one_gap_apart_are_two_sessions_and_closer_ones_are_one()
    {
        var engine = new FeatureEngine(SetOf(Session10m), new StreamOptions { MaxOutOfOrderness = TimeSpan.FromDays(1) });
        var apart = new CustomerState("apart");
        engine.Process(apart, Event("a", Epoch));
        engine.Process(apart, Event("b", Epoch + (10 * Minute)));
        var closer = new CustomerState("closer");
        engine.Process(closer, Event("c", Epoch));
        engine.Process(closer, Event("d", Epoch + (10 * Minute) - 1));

        var two = engine.Read(apart, Session10m, Epoch + Hour);
        Assert.Equal(1.0, two.Value.Number);
        Assert.Equal(Epoch + (10 * Minute), two.Lineage.WindowStartMs);
        var one = engine.Read(closer, Session10m, Epoch + Hour);
        Assert.Equal(2.0, one.Value.Number);
        Assert.Equal((Epoch, Epoch + (20 * Minute) - 1), (one.Lineage.WindowStartMs, one.Lineage.WindowEndMs));

        // Read as of a moment inside the first session sees that one.
        Assert.Equal(1.0, engine.Read(apart, Session10m, Epoch + Minute).Value.Number);
        Assert.Equal(FeatureStatus.Missing, engine.Read(new CustomerState("none"), Session10m, Epoch).Status);
    }

    [Fact]
    public void Read_reports_status_by_ttl_and_lineage_of_the_read_window()
    {
        var engine = new FeatureEngine(SetOf(Sliding1h, LifetimeLast), new StreamOptions { MaxOutOfOrderness = TimeSpan.FromHours(2) });
        var state = new CustomerState("c");
        var missing = engine.Read(state, Sliding1h, Epoch);
        Assert.Equal(FeatureStatus.Missing, missing.Status);
        Assert.Equal(0.0, missing.Value.Number);
        Assert.Equal(new Lineage("spend_1h@v1", 0, null, null, null, Epoch - 45 * Minute, Epoch + 15 * Minute), missing.Lineage);

        // A view: the lifetime feature sees it, the purchase-only one does not.
        engine.Process(state, Event("v", Epoch + Minute, EventType.View, category: "Home > Kitchen"));
        Assert.Equal(FeatureStatus.Missing, engine.Read(state, Sliding1h, Epoch + Minute).Status);
        Assert.Equal(FeatureStatus.Fresh, engine.Read(state, LifetimeLast, Epoch + Minute).Status);

        engine.Process(state, Event("p2", Epoch + (20 * Minute), EventType.Purchase, amount: 10.5, category: "Baby > Toys"));
        engine.Process(state, Event("p1", Epoch + (20 * Minute), EventType.Purchase, amount: 4.25, category: "Baby>Food"));
        engine.Process(state, Event("p0", Epoch + (5 * Minute), EventType.Purchase, amount: 100));

        // As of 0:40 the window is [-0:15, 0:45): all three purchases.
        var r = engine.Read(state, Sliding1h, Epoch + (40 * Minute));
        Assert.Equal(FeatureStatus.Fresh, r.Status);
        Assert.Equal(114.75, r.Value.Number);
        Assert.Equal(new Lineage("spend_1h@v1", 3, Epoch + (5 * Minute), Epoch + (20 * Minute), "p2", Epoch - (15 * Minute), Epoch + (45 * Minute)), r.Lineage);

        // As of 1:10 the window is [0:15, 1:15): the 0:05 purchase left it; 50 minutes since the last purchase > TTL 30m.
        var later = engine.Read(state, Sliding1h, Epoch + (70 * Minute));
        Assert.Equal(14.75, later.Value.Number);
        Assert.Equal(FeatureStatus.Stale, later.Status);
        Assert.Equal(2, later.Lineage.Events);

        // Exactly TTL after the last purchase is still fresh.
        Assert.Equal(FeatureStatus.Fresh, engine.Read(state, Sliding1h, Epoch + (50 * Minute)).Status);

        // Last value ties on time break by event id: p2 > p1.
        var last = engine.Read(state, LifetimeLast, Epoch + Day);
        Assert.Equal("Baby > Toys", last.Value.Text);
        Assert.Equal(FeatureStatus.Fresh, last.Status);
        Assert.Equal(new Lineage("last_category@v1", 4, Epoch + Minute, Epoch + (20 * Minute), "p2", null, null), last.Lineage);
        Assert.Equal(2, engine.Read(state, Epoch).Count);
    }

    [Fact]
    public void Replay_applies_an_event_only_to_the_given_definitions_and_leaves_watermarks_alone()
    {
        var extra = Tumbling10m with { Name = "events_10m", Version = 2 };
        var engine = new FeatureEngine(SetOf(Tumbling10m, Session10m, LifetimeLast), Strict);
        var state = new CustomerState("c");
        engine.Process(state, Event("a", Epoch + Hour));
        var watermark = engine.Watermarks.Current;

        engine.Replay(state, Event("old", Epoch + Minute), [Session10m, extra]);
        Assert.Equal(watermark, engine.Watermarks.Current);
        Assert.True(state.Has(extra.Id));
        Assert.Equal(1.0, engine.Read(state, extra, Epoch + Minute).Value.Number);
        Assert.Equal(1.0, engine.Read(state, Session10m, Epoch + (2 * Minute)).Value.Number);

        // The others did not see it (their 0:00 window is empty; the last category is still a's).
        Assert.Equal(0.0, engine.Read(state, Tumbling10m, Epoch + Minute).Value.Number);
        var life = engine.Read(state, LifetimeLast, Epoch + Hour);
        Assert.Equal(1, life.Lineage.Events);
        Assert.Equal("a", life.Lineage.LastEventId);

        // A replayed definition outside the set is kept until pruned.
        Assert.Equal(1, engine.Prune(state));
        Assert.False(state.Has(extra.Id));
        Assert.True(state.Has(Session10m.Id));
    }

    [Fact]
    public void Replay_of_a_definition_without_state_builds_it_like_live_processing()
    {
        var engine = new FeatureEngine(WindowSet, new StreamOptions { MaxOutOfOrderness = TimeSpan.FromDays(1) });
        var rng = new Random(5);
        var events = Enumerable.Range(0, 50).Select(i => RandomEvent(rng, $"x{i:D2}", Epoch + (rng.Next(0, 100) * Minute), "pos")).OrderBy(e => e.TimestampMs).ToList();
        var live = new CustomerState("c");
        var replayed = new CustomerState("c");
        foreach (var e in events)
        {
            engine.Process(live, e);
            engine.Replay(replayed, e, WindowSet.Definitions.ToList());
        }

        var t = Epoch + (100 * Minute);
        Assert.Equal(engine.Read(live, t).Select(Show), engine.Read(replayed, t).Select(Show));
    }

    [Fact]
    public void Lineage_names_the_latest_event_through_many_id_table_compactions_and_a_restore()
    {
        // Event ids live in a per-customer table that compacts whenever it fills (16, 32, ... ids); ties on time go
        // to the ordinal-larger id. 300 events in groups of three with the same time, ids in shuffled order, each
        // read compared with a model kept in strings; then the state round-trips and must say the same.
        var engine = new FeatureEngine(SetOf(Sliding1h, Session10m, LifetimeLast), Strict);
        var state = new CustomerState("c");
        var random = new Random(5);
        string? best = null, bestCategory = null;
        var bestMs = long.MinValue;
        for (var i = 0; i < 300; i++)
        {
            var ms = Epoch + ((i / 3) * Minute);
            var id = $"e{random.Next(1_000_000):D7}";
            var category = $"Home > Aisle {i}";
            engine.Process(state, Event(id, ms, EventType.Purchase, amount: 1, category: category));
            if (ms > bestMs || (ms == bestMs && string.CompareOrdinal(id, best) > 0))
            {
                (bestMs, best, bestCategory) = (ms, id, category);
            }

            // The last value is the category of the same winner (its own tie-break on the event id).
            var life = engine.Read(state, LifetimeLast, ms);
            Assert.Equal(i + 1, life.Lineage.Events);
            Assert.Equal(best, life.Lineage.LastEventId);
            Assert.Equal(bestMs, life.Lineage.LastEventMs);
            Assert.Equal(bestCategory, life.Value.Text);
        }

        var restored = CustomerState.Deserialize(state.Serialize());
        var at = Epoch + (100 * Minute);
        Assert.Equal(engine.Read(state, at).Select(Show), engine.Read(restored, at).Select(Show));
        Assert.Equal(best, engine.Read(restored, LifetimeLast, at).Lineage.LastEventId);
        Assert.Equal(bestCategory, engine.Read(restored, LifetimeLast, at).Value.Text);
        Assert.Equal(state.Serialize(), restored.Serialize());
    }

    [Fact]
    public void State_the_watermark_left_behind_is_purged_without_a_sink()
    {
        var engine = new FeatureEngine(SetOf(Sliding1h, Session10m, LifetimeLast), Strict);
        var state = new CustomerState("c");
        engine.Process(state, Event("p", Epoch, EventType.Purchase, amount: 5));
        Assert.Equal(5.0, engine.Read(state, Sliding1h, Epoch).Value.Number);
        var small = state.Serialize().Length;

        // Many hours of later events: the window state of the first purchase goes (its last window ended at 1:00,
        // plus 5 minutes of lateness), the lifetime value and the latest session stay; the state stays small.
        for (var i = 1; i <= 500; i++)
        {
            engine.Process(state, Event($"v{i}", Epoch + (i * 20 * Minute), EventType.Purchase, amount: 1));
        }

        var old = engine.Read(state, Sliding1h, Epoch);
        Assert.Equal(0, old.Lineage.Events);
        Assert.Equal(0.0, old.Value.Number);
        Assert.Equal(501, engine.Read(state, LifetimeLast, Epoch).Lineage.Events);
        Assert.Equal(1, engine.Read(state, Session10m, Epoch + (500 * 20 * Minute)).Lineage.Events);
        Assert.InRange(state.Serialize().Length, small, small + 600);
    }

    [Fact]
    public void Sums_are_exact_whatever_the_order()
    {
        var sum = new FeatureDefinition { Name = "spend", Window = WindowSpec.Lifetime, Aggregation = Agg(AggregationKind.Sum, FeatureField.Amount) };
        var mean = sum with { Name = "mean_spend", Aggregation = Agg(AggregationKind.Mean, FeatureField.Amount) };
        var amounts = new[] { 1e15, 0.1, -1e15, 0.2, 1e-30, -7.25 };
        var orders = new[] { new[] { 0, 1, 2, 3, 4, 5 }, [1, 0, 2, 3, 5, 4], [2, 3, 1, 0, 4, 5], [5, 4, 3, 2, 1, 0] };
        foreach (var order in orders)
        {
            var engine = new FeatureEngine(SetOf(sum, mean), new StreamOptions { MaxOutOfOrderness = TimeSpan.FromDays(1) });
            var state = new CustomerState("c");
            foreach (var i in order)
            {
                engine.Process(state, Event($"e{i}", Epoch + i, EventType.Purchase, amount: amounts[i]));
            }

            // In doubles, (1e15 + 0.1) − 1e15 is 0.125; exactly it is 0.1, and 0.1 + 0.2 − 7.25 rounds once.
            var exact = (double)(0.1m + 0.2m - 7.25m);
            Assert.Equal(exact, engine.Read(state, sum, Epoch).Value.Number);
            Assert.Equal(exact / 6, engine.Read(state, mean, Epoch).Value.Number);
        }
    }

    [Fact]
    public void Distinct_count_is_capped_at_ten_thousand_values()
    {
        var def = new FeatureDefinition { Name = "skus", Window = WindowSpec.Lifetime, Aggregation = Agg(AggregationKind.DistinctCount, FeatureField.Sku) };
        var engine = new FeatureEngine(SetOf(def), new StreamOptions { MaxOutOfOrderness = TimeSpan.FromDays(1) });
        var state = new CustomerState("c");
        for (var i = 0; i < 10_050; i++)
        {
            engine.Process(state, Event($"e{i}", Epoch + i, sku: $"SKU-{i}"));
        }

        Assert.Equal(10_000.0, engine.Read(state, def, Epoch + Day).Value.Number);
        Assert.Equal(10_050, engine.Read(state, def, Epoch + Day).Lineage.Events);
    }

    [Fact]
    public void Default_features_compute_from_a_small_history()
    {
        var engine = new FeatureEngine(DefaultFeatures.Set, new StreamOptions());
        var state = new CustomerState("loyalty:L-1");
        var t0 = Epoch + (10 * Hour);
        engine.Process(state, Event("1", t0, EventType.View, "app", sku: "S1", category: "Baby & Toddler > Strollers"));
        engine.Process(state, Event("2", t0 + Minute, EventType.AddToCart, "app", sku: "S1", category: "Baby & Toddler > Strollers"));
        engine.Process(state, Event("3", t0 + (2 * Minute), EventType.Purchase, "pos", amount: 1299, sku: "S1", category: "Baby & Toddler > Strollers"));
        engine.Process(state, Event("4", t0 + (3 * Minute), EventType.View, "app", sku: "S2", category: "Home > Kitchen"));

        var readings = engine.Read(state, t0 + (3 * Minute)).ToDictionary(r => r.Definition.Name);
        Assert.Equal(DefaultFeatures.Set.Definitions.Count, readings.Count);
        Assert.Equal(4.0, readings["events_1d"].Value.Number);
        Assert.Equal(1299.0, readings["spend_30d"].Value.Number);
        Assert.Equal(0.5, readings["conversion_7d"].Value.Number);
        Assert.Equal(2.0, readings["distinct_skus_1d"].Value.Number);
        Assert.Equal("Home > Kitchen", readings["last_category"].Value.Text);
        Assert.Equal(4.0, readings["session_events"].Value.Number);
        Assert.Equal(1.0 / 24 / 60, readings["days_since_last_purchase"].Value.Number!.Value, 12);
        var affinity = readings["category_affinity_30d"].Value.Ranking!;
        Assert.Equal(["Baby & Toddler", "Home"], affinity.Select(x => x.Value));
        Assert.Equal(9.0 / 10, affinity[0].Share, 12);
        Assert.Equal(FeatureStatus.Missing, readings["returns_1d"].Status);
        Assert.Equal(FeatureStatus.Fresh, readings["purchases_1d"].Status);
    }
}
