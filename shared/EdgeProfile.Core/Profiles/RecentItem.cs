namespace EdgeProfile.Core.Profiles;

/// <summary>
/// A product the customer interacted with (viewed, carted, bought, reviewed, liked), kept in time order as the
/// behaviour sequence the next-item models read. Only the product's id and name travel: never the customer's text.
/// </summary>
/// <param name="Sku">The product id.</param>
/// <param name="Name">The product's name as the event gave it (at most <see cref="MaxNameLength"/> characters), if any.</param>
/// <param name="Type">The event type's wire name (<c>view</c>, <c>add_to_cart</c>, <c>purchase</c>, ...).</param>
/// <param name="At">Event time.</param>
public sealed record RecentItem(string Sku, string? Name, string Type, DateTimeOffset At)
{
    /// <summary>Items kept per customer (the newest).</summary>
    public const int MaxKept = 50;

    /// <summary>Longest product name kept.</summary>
    public const int MaxNameLength = 100;

    // Settable by the profile maths only: a profile that is full reuses its oldest entry for the newest, so that
    // applying an event gives long-lived state no new object (see ProfileMath.NoteItem).

    /// <summary>The product id.</summary>
    public string Sku { get; private set; } = Sku;

    /// <summary>The product's name as the event gave it, if any.</summary>
    public string? Name { get; private set; } = Name;

    /// <summary>The event type's wire name.</summary>
    public string Type { get; private set; } = Type;

    /// <summary>Event time.</summary>
    public DateTimeOffset At { get; private set; } = At;

    internal RecentItem Set(string sku, string? name, string type, DateTimeOffset at)
    {
        Sku = sku;
        Name = name;
        Type = type;
        At = at;
        return this;
    }
}
