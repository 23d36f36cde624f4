using EdgeProfile.Core.Events;

namespace EdgeProfile.Core.Features;

/// <summary>
/// What the feature engine reads of one event: a flat, transport-free copy. <see cref="Source"/> names the producer
/// whose watermark the event advances (the edge uses the channel).
/// </summary>
public sealed record FeatureInput
{
    /// <summary>Idempotency key of the event, for lineage and tie-breaks.</summary>
    public required string EventId { get; init; }

    /// <summary>Event time, Unix milliseconds (UTC).</summary>
    public required long TimestampMs { get; init; }

    /// <summary>The event type.</summary>
    public required EventType Type { get; init; }

    /// <summary>The producer this event's watermark belongs to.</summary>
    public string Source { get; init; } = "";

    /// <summary>Channel name.</summary>
    public string? Channel { get; init; }

    /// <summary>Store id.</summary>
    public string? Store { get; init; }

    /// <summary>Money, see <see cref="FeatureField.Amount"/>.</summary>
    public double? Amount { get; init; }

    /// <summary>Units.</summary>
    public double? Quantity { get; init; }

    /// <summary>Unit price.</summary>
    public double? Price { get; init; }

    /// <summary>Product SKU.</summary>
    public string? Sku { get; init; }

    /// <summary>Full category path, <c>&gt;</c>-separated.</summary>
    public string? Category { get; init; }

    /// <summary>Builds the input of a validated event.</summary>
    public static FeatureInput From(CustomerEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var amount = e.Amount ?? (e.Product?.Price is { } p ? p * (e.Quantity ?? 1) : null);
        return new FeatureInput
        {
            EventId = e.EventId,
            TimestampMs = e.OccurredAt.ToUnixTimeMilliseconds(),
            Type = e.Type,
            Source = e.Channel.Name(),
            Channel = e.Channel.Name(),
            Store = e.StoreId,
            Amount = amount,
            Quantity = e.Quantity,
            Price = e.Product?.Price,
            Sku = e.Product?.Sku,
            Category = e.Product?.Category,
        };
    }

    /// <summary>The value of a numeric field, or null when the event lacks it.</summary>
    public double? Number(FeatureField field) => field switch
    {
        FeatureField.Amount => Amount,
        FeatureField.Quantity => Quantity,
        FeatureField.Price => Price,
        FeatureField.Hour => (double)(TimestampMs / 3_600_000 % 24 + 24) % 24,
        FeatureField.Day => Math.Floor(TimestampMs / 86_400_000.0),
        _ => null,
    };

    /// <summary>The value of a field as text (numbers in invariant culture), or null when the event lacks it.</summary>
    public string? Text(FeatureField field) => field switch
    {
        FeatureField.Sku => Sku,
        FeatureField.Category => Category is null ? null : CategoryMatcher.Normalize(Category),
        FeatureField.CategoryTop => CategoryMatcher.TopLevel(Category),
        FeatureField.Channel => Channel,
        FeatureField.Type => Type.Name(),
        FeatureField.Store => Store,
        FeatureField.None => null,
        _ => Number(field) is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
    };
}
