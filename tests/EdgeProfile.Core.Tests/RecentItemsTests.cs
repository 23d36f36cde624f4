using EdgeProfile.Core.Events;
using EdgeProfile.Core.Profiles;

namespace EdgeProfile.Core.Tests;

/// <summary>The behaviour sequence a profile keeps for the next-item models: event-time order, repeats merged, bounded.</summary>
public sealed class RecentItemsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static int _seq;

    private static CustomerEvent Event(EventType type, string? sku, int minute, string? name = null) => new()
    {
        EventId = "r-" + Interlocked.Increment(ref _seq),
        Type = type,
        OccurredAt = T0.AddMinutes(minute),
        StoreId = "store-001",
        Channel = Channel.App,
        Customer = new CustomerIds("L-1", null, null, null, null),
        Product = sku is null && !type.RequiresProduct() ? null : new ProductInfo(sku, name ?? sku + " name", "Baby > Strollers", 10),
        Text = type == EventType.Search ? "stroller" : null,
    };

    private static StoreProfile Apply(params CustomerEvent[] events)
    {
        var profile = ProfileMath.Create("loyalty:L-1", events[0]);
        foreach (var e in events)
        {
            ProfileMath.Apply(profile, e, ["loyalty:L-1"]);
        }

        return profile;
    }

    [Fact]
    public void Products_are_kept_in_event_time_order_whatever_the_arrival_order()
    {
        var profile = Apply(
            Event(EventType.View, "A", 0),
            Event(EventType.View, "C", 20),
            Event(EventType.AddToCart, "B", 10), // late: lands between A and C
            Event(EventType.Search, null, 30), // no product: not part of the sequence
            Event(EventType.Visit, null, 31));
        Assert.Equal(["A", "B", "C"], profile.Items.Select(i => i.Sku));
        Assert.Equal("add_to_cart", profile.Items[1].Type);
        Assert.Equal("B name", profile.Items[1].Name);
    }

    [Fact]
    public void A_repeat_of_the_product_before_only_moves_its_time_and_keeps_the_stronger_type()
    {
        var profile = Apply(
            Event(EventType.View, "A", 0),
            Event(EventType.View, "A", 1),
            Event(EventType.Purchase, "A", 2),
            Event(EventType.View, "A", 3),
            Event(EventType.View, "B", 4),
            Event(EventType.View, "A", 5));
        Assert.Equal(["A", "B", "A"], profile.Items.Select(i => i.Sku));
        Assert.Equal("purchase", profile.Items[0].Type);
        Assert.Equal(T0.AddMinutes(3), profile.Items[0].At);
    }

    [Fact]
    public void Only_the_newest_items_stay_and_long_names_are_cut()
    {
        var events = Enumerable.Range(0, RecentItem.MaxKept + 10).Select(i => Event(EventType.View, $"S{i}", i + 10)).ToList();
        events.Add(Event(EventType.View, "OLD", 0)); // older than everything kept: dropped
        events.Add(Event(EventType.Like, "LONG", 1000, new string('x', 300)));
        var profile = Apply([.. events]);
        Assert.Equal(RecentItem.MaxKept, profile.Items.Count);
        Assert.Equal("S11", profile.Items[0].Sku);
        Assert.DoesNotContain(profile.Items, i => i.Sku == "OLD");
        Assert.Equal(RecentItem.MaxNameLength, profile.Items[^1].Name!.Length);
        Assert.Equal("like", profile.Items[^1].Type);
    }

    [Fact]
    public void A_full_profile_that_reuses_its_entries_keeps_the_same_sequence_as_fresh_entries_would()
    {
        // A reference kept with new tuples per event: insert in event-time order, a repeat of the product before only
        // moves its time (stronger type wins), the newest MaxKept stay. The profile reuses its oldest entry instead.
        var rng = new Random(3);
        var reference = new List<(string Sku, string Type, DateTimeOffset At)>();
        var types = new[] { EventType.View, EventType.AddToCart, EventType.Purchase, EventType.Like };
        var events = new List<CustomerEvent>();
        for (var i = 0; i < 600; i++)
        {
            // Mostly in order, some late by up to an hour, a few repeats of the same product in a row.
            var minute = i - (rng.Next(6) == 0 ? rng.Next(60) : 0);
            var sku = rng.Next(5) == 0 && events.Count > 0 ? events[^1].Product!.Sku : $"S{rng.Next(40)}";
            events.Add(Event(types[rng.Next(types.Length)], sku, minute));
        }

        static int Strength(string t) => t switch { "purchase" => 4, "add_to_cart" => 3, "like" => 2, _ => 1 };
        foreach (var e in events)
        {
            var at = reference.Count;
            while (at > 0 && reference[at - 1].At > e.OccurredAt)
            {
                at--;
            }

            var type = e.Type.Name();
            if (at > 0 && reference[at - 1].Sku == e.Product!.Sku)
            {
                var p = reference[at - 1];
                reference[at - 1] = (p.Sku, Strength(type) > Strength(p.Type) ? type : p.Type, e.OccurredAt);
                continue;
            }

            if (at == 0 && reference.Count >= RecentItem.MaxKept)
            {
                continue;
            }

            reference.Insert(at, (e.Product!.Sku!, type, e.OccurredAt));
            if (reference.Count > RecentItem.MaxKept)
            {
                reference.RemoveAt(0);
            }
        }

        var profile = Apply([.. events]);
        Assert.Equal(RecentItem.MaxKept, profile.Items.Count);
        Assert.Equal(reference, profile.Items.Select(i => (i.Sku, i.Type, i.At)));
        // Every entry is its own object (reuse never leaves one entry in two places).
        Assert.Equal(profile.Items.Count, profile.Items.Distinct(ReferenceEqualityComparer.Instance).Count());
    }
}
