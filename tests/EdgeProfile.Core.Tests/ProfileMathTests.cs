using EdgeProfile.Core.Events;
using EdgeProfile.Core.Profiles;

namespace EdgeProfile.Core.Tests;

public sealed class ProfileMathTests
{
    private static readonly DateTimeOffset AsOf = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static int _seq;

    private static CustomerEvent Event(EventType type, DateTimeOffset at, double? amount = null, Channel channel = Channel.Pos,
        ProductInfo? product = null, double? quantity = null) => new()
        {
            EventId = "e-" + Interlocked.Increment(ref _seq),
            Type = type,
            OccurredAt = at,
            StoreId = "store-001",
            Channel = channel,
            Customer = new CustomerIds("L-1", null, null, null, null),
            Product = product ?? (type.RequiresProduct() ? new ProductInfo("SKU-1", "Thing", "Home > Kitchen", null) : null),
            Amount = amount,
            Quantity = quantity,
        };

    private static StoreProfile Build(params CustomerEvent[] events)
    {
        var profile = ProfileMath.Create("loyalty:L-1", events[0]);
        foreach (var e in events)
        {
            ProfileMath.Apply(profile, e, ["loyalty:L-1"]);
        }

        return profile;
    }

    private static ProfileTag? Tag(ProfileView view, string name) => view.Tags.FirstOrDefault(t => t.Name == name);

    [Fact]
    public void Windows_of_7_and_30_days_count_in_event_time()
    {
        var profile = Build(
            Event(EventType.Purchase, AsOf.AddDays(-40), 400),
            Event(EventType.Purchase, AsOf.AddDays(-10), 200),
            Event(EventType.Purchase, AsOf.AddDays(-3), 100));

        var view = ProfileMath.View(profile, AsOf);

        Assert.Equal(1, view.Visits7d);
        Assert.Equal(2, view.Visits30d);
        Assert.Equal(100, view.Spend7d);
        Assert.Equal(300, view.Spend30d);
        Assert.Equal(3, view.EventsTotal);
        Assert.Equal(AsOf.AddDays(-40), view.FirstSeen);
        Assert.Equal(AsOf.AddDays(-3), view.LastSeen);
    }

    [Fact]
    public void Windows_move_with_the_as_of_time()
    {
        var profile = Build(
            Event(EventType.Purchase, AsOf.AddDays(-10), 200),
            Event(EventType.Purchase, AsOf.AddDays(-3), 100));

        var later = ProfileMath.View(profile, AsOf.AddDays(25));

        Assert.Equal(0, later.Visits7d);
        Assert.Equal(1, later.Visits30d);
        Assert.Equal(100, later.Spend30d);
    }

    [Fact]
    public void Out_of_order_events_give_the_same_profile_as_in_order()
    {
        var oldest = Event(EventType.Purchase, AsOf.AddDays(-40), 400, Channel.Web);
        var middle = Event(EventType.Purchase, AsOf.AddDays(-10), 200, Channel.App);
        var newest = Event(EventType.Purchase, AsOf.AddDays(-3), 100, Channel.Pos);

        var inOrder = ProfileMath.View(Build(oldest, middle, newest), AsOf);
        var reversed = ProfileMath.View(Build(newest, middle, oldest), AsOf);

        Assert.Equal(inOrder.Visits7d, reversed.Visits7d);
        Assert.Equal(inOrder.Visits30d, reversed.Visits30d);
        Assert.Equal(inOrder.Spend7d, reversed.Spend7d);
        Assert.Equal(inOrder.Spend30d, reversed.Spend30d);
        Assert.Equal(inOrder.EventsTotal, reversed.EventsTotal);
        Assert.Equal(inOrder.FirstSeen, reversed.FirstSeen);
        Assert.Equal(inOrder.LastSeen, reversed.LastSeen);
        Assert.Equal("pos", reversed.LastChannel);
        Assert.Equal(inOrder.Channels.Order(), reversed.Channels.Order());
    }

    [Fact]
    public void Late_event_inside_the_window_is_applied()
    {
        var profile = Build(Event(EventType.Purchase, AsOf.AddHours(-1), 100));

        ProfileMath.Apply(profile, Event(EventType.Purchase, AsOf.AddDays(-5), 50, Channel.App), ["loyalty:L-1"]);
        var view = ProfileMath.View(profile, AsOf);

        Assert.Equal(150, view.Spend7d);
        Assert.Equal(2, view.Visits7d);
        Assert.Equal(AsOf.AddHours(-1), view.LastSeen);
        Assert.Equal("pos", view.LastChannel); // the late event does not become the latest
    }

    [Fact]
    public void Spend_is_purchases_minus_returns()
    {
        var profile = Build(
            Event(EventType.Purchase, AsOf.AddDays(-2), 1500),
            Event(EventType.Return, AsOf.AddDays(-1), 600));

        var view = ProfileMath.View(profile, AsOf);

        Assert.Equal(900, view.Spend7d);
        Assert.Equal(900, view.Spend30d);
        Assert.Null(Tag(view, "high_spender"));
    }

    [Fact]
    public void Spend_without_amount_is_price_times_quantity()
    {
        var profile = Build(Event(EventType.Purchase, AsOf.AddDays(-1), amount: null, product: new ProductInfo("SKU-9", null, null, 50), quantity: 3));

        Assert.Equal(150, ProfileMath.View(profile, AsOf).Spend30d);
    }

    [Fact]
    public void Non_purchase_events_add_visits_but_no_spend()
    {
        var profile = Build(
            Event(EventType.View, AsOf.AddDays(-1), 999),
            Event(EventType.Search, AsOf.AddDays(-2)));

        var view = ProfileMath.View(profile, AsOf);

        Assert.Equal(2, view.Visits7d);
        Assert.Equal(0, view.Spend30d);
    }

    [Fact]
    public void High_spender_tag_has_reasons_in_english_and_chinese()
    {
        var view = ProfileMath.View(Build(Event(EventType.Purchase, AsOf.AddDays(-5), 1200)), AsOf);

        var tag = Tag(view, "high_spender");
        Assert.NotNull(tag);
        Assert.Equal("spent 1200.00 in the last 30 days (threshold 1000.00)", tag.Reason);
        Assert.Equal("近30天消费 1200.00（阈值 1000.00）", tag.ReasonZh);
    }

    [Fact]
    public void Spend_below_threshold_is_not_a_high_spender()
    {
        var view = ProfileMath.View(Build(Event(EventType.Purchase, AsOf.AddDays(-5), 999.99)), AsOf);

        Assert.Null(Tag(view, "high_spender"));
    }

    [Fact]
    public void Frequent_visitor_tag_needs_three_active_days_in_seven()
    {
        var two = ProfileMath.View(Build(
            Event(EventType.Visit, AsOf.AddDays(-1)),
            Event(EventType.Visit, AsOf.AddDays(-1).AddHours(-1)),
            Event(EventType.Visit, AsOf.AddDays(-2))), AsOf);
        Assert.Null(Tag(two, "frequent_visitor"));

        var view = ProfileMath.View(Build(
            Event(EventType.Visit, AsOf.AddHours(-1)),
            Event(EventType.Visit, AsOf.AddDays(-1)),
            Event(EventType.Visit, AsOf.AddDays(-2))), AsOf);
        var tag = Tag(view, "frequent_visitor");
        Assert.NotNull(tag);
        Assert.Equal("active on 3 of the last 7 days (threshold 3)", tag.Reason);
        Assert.Equal("近7天有 3 天活跃（阈值 3）", tag.ReasonZh);
    }

    [Fact]
    public void Omnichannel_tag_names_the_channels()
    {
        var single = ProfileMath.View(Build(Event(EventType.Visit, AsOf.AddDays(-1), channel: Channel.Pos), Event(EventType.Visit, AsOf.AddDays(-2), channel: Channel.Pos)), AsOf);
        Assert.Null(Tag(single, "omnichannel"));

        var view = ProfileMath.View(Build(
            Event(EventType.Visit, AsOf.AddDays(-1), channel: Channel.Pos),
            Event(EventType.AppOpen, AsOf.AddDays(-2), channel: Channel.App)), AsOf);
        var tag = Tag(view, "omnichannel");
        Assert.NotNull(tag);
        Assert.Equal("seen on 2 channels: pos, app", tag.Reason);
        Assert.Equal("在 2 个渠道出现：pos、app", tag.ReasonZh);
        Assert.Equal(["pos", "app"], view.Channels);
    }

    [Fact]
    public void Open_cart_tag_holds_until_a_later_purchase()
    {
        var cart = Event(EventType.AddToCart, AsOf.AddDays(-2));
        var open = ProfileMath.View(Build(Event(EventType.Purchase, AsOf.AddDays(-4), 10), cart), AsOf);
        var tag = Tag(open, "open_cart");
        Assert.NotNull(tag);
        Assert.Equal("added to cart 2d ago with no purchase since", tag.Reason);
        Assert.Equal("2d 前加购，之后未购买", tag.ReasonZh);

        var closed = ProfileMath.View(Build(cart, Event(EventType.Purchase, AsOf.AddDays(-1), 10)), AsOf);
        Assert.Null(Tag(closed, "open_cart"));
    }

    [Fact]
    public void Identifiers_are_added_once()
    {
        var e = Event(EventType.Visit, AsOf);
        var profile = ProfileMath.Create("loyalty:L-1", e);
        ProfileMath.Apply(profile, e, ["loyalty:L-1", "app:u-1"]);
        ProfileMath.Apply(profile, Event(EventType.Visit, AsOf), ["loyalty:L-1", "email:abc"]);

        Assert.Equal(["loyalty:L-1", "app:u-1", "email:abc"], profile.Identifiers);
    }

    [Fact]
    public void Events_older_than_the_window_are_not_kept_in_day_buckets()
    {
        var profile = Build(
            Event(EventType.Purchase, AsOf.AddDays(-3), 100),
            Event(EventType.Purchase, AsOf.AddDays(-40), 400));

        Assert.DoesNotContain(profile.Days, b => b.Day == ProfileMath.DayOf(AsOf.AddDays(-40)));
        Assert.Single(profile.Days);
    }
}
