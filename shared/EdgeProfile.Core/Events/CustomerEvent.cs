namespace EdgeProfile.Core.Events;

/// <summary>A validated v1 event (contracts.md §1). Only <see cref="EventValidator"/> makes these.</summary>
public sealed record CustomerEvent
{
    /// <summary>The idempotency key, unique per store.</summary>
    public required string EventId { get; init; }

    /// <summary>What happened.</summary>
    public required EventType Type { get; init; }

    /// <summary>When it happened (event time), with the producer's offset.</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The store that owns the event.</summary>
    public required string StoreId { get; init; }

    /// <summary>Where it happened.</summary>
    public required Channel Channel { get; init; }

    /// <summary>Who it happened to; at least one identifier.</summary>
    public required CustomerIds Customer { get; init; }

    /// <summary>The product, required for product-bound types.</summary>
    public ProductInfo? Product { get; init; }

    /// <summary>Units, never negative.</summary>
    public double? Quantity { get; init; }

    /// <summary>Money, never negative (returns use type <c>return</c>).</summary>
    public double? Amount { get; init; }

    /// <summary>ISO currency code, optional.</summary>
    public string? Currency { get; init; }

    /// <summary>Search query, review text or video title, at most 4 KiB.</summary>
    public string? Text { get; init; }

    /// <summary>Free string attributes, at most 32.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = EmptyAttributes;

    /// <summary>The attributes of every event that has none: one shared, read-only empty map.</summary>
    internal static readonly IReadOnlyDictionary<string, string> EmptyAttributes = System.Collections.ObjectModel.ReadOnlyDictionary<string, string>.Empty;
}
