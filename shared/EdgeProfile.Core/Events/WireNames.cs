using System.Collections.Frozen;

namespace EdgeProfile.Core.Events;

/// <summary>The wire spellings of <see cref="EventType"/> and <see cref="Channel"/> (snake_case, lower case).</summary>
public static class WireNames
{
    private static readonly FrozenDictionary<string, EventType> Types = new Dictionary<string, EventType>(StringComparer.Ordinal)
    {
        ["view"] = EventType.View,
        ["search"] = EventType.Search,
        ["add_to_cart"] = EventType.AddToCart,
        ["remove_from_cart"] = EventType.RemoveFromCart,
        ["purchase"] = EventType.Purchase,
        ["return"] = EventType.Return,
        ["review"] = EventType.Review,
        ["like"] = EventType.Like,
        ["video_watch"] = EventType.VideoWatch,
        ["visit"] = EventType.Visit,
        ["loyalty_scan"] = EventType.LoyaltyScan,
        ["app_open"] = EventType.AppOpen,
        ["coupon_redeem"] = EventType.CouponRedeem,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, Channel> Channels = new Dictionary<string, Channel>(StringComparer.Ordinal)
    {
        ["pos"] = Channel.Pos,
        ["app"] = Channel.App,
        ["web"] = Channel.Web,
        ["cdn"] = Channel.Cdn,
        ["crm"] = Channel.Crm,
        ["kiosk"] = Channel.Kiosk,
        ["partner"] = Channel.Partner,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<EventType, string> TypeNames = Types.ToFrozenDictionary(kv => kv.Value, kv => kv.Key);
    private static readonly FrozenDictionary<Channel, string> ChannelNames = Channels.ToFrozenDictionary(kv => kv.Value, kv => kv.Key);

    /// <summary>All accepted type names, for error messages.</summary>
    public static string TypeList { get; } = string.Join(", ", Types.Keys.Order(StringComparer.Ordinal));

    /// <summary>All accepted channel names, for error messages.</summary>
    public static string ChannelList { get; } = string.Join(", ", Channels.Keys.Order(StringComparer.Ordinal));

    /// <summary>Parses a wire type name.</summary>
    public static bool TryParseType(string value, out EventType type) => Types.TryGetValue(value, out type);

    /// <summary>Parses a wire channel name.</summary>
    public static bool TryParseChannel(string value, out Channel channel) => Channels.TryGetValue(value, out channel);

    /// <summary>The wire name of a type.</summary>
    public static string Name(this EventType type) => TypeNames[type];

    /// <summary>The wire name of a channel.</summary>
    public static string Name(this Channel channel) => ChannelNames[channel];

    /// <summary>Types that must carry a product.</summary>
    public static bool RequiresProduct(this EventType type) => type is EventType.View or EventType.AddToCart
        or EventType.RemoveFromCart or EventType.Purchase or EventType.Return or EventType.Review;
}
