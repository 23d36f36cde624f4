namespace EdgeProfile.Core.Events;

/// <summary>
/// An event as decoded from the wire, before validation. Decoders (JSON, protobuf) fill what they find;
/// <see cref="EventValidator"/> decides. Raw text is kept so that the validator can name the offending field.
/// </summary>
public sealed class EventDraft
{
    /// <summary>eventId as sent.</summary>
    public string? EventId { get; set; }

    /// <summary>type as sent.</summary>
    public string? Type { get; set; }

    /// <summary>occurredAt as sent (RFC 3339 text).</summary>
    public string? OccurredAt { get; set; }

    /// <summary>storeId as sent.</summary>
    public string? StoreId { get; set; }

    /// <summary>channel as sent.</summary>
    public string? Channel { get; set; }

    /// <summary>customer identifiers as sent (null when the object is absent).</summary>
    public CustomerIds? Customer { get; set; }

    /// <summary>product as sent (null when the object is absent).</summary>
    public ProductInfo? Product { get; set; }

    /// <summary>quantity as sent.</summary>
    public double? Quantity { get; set; }

    /// <summary>amount as sent.</summary>
    public double? Amount { get; set; }

    /// <summary>currency as sent.</summary>
    public string? Currency { get; set; }

    /// <summary>text as sent.</summary>
    public string? Text { get; set; }

    /// <summary>attributes as sent.</summary>
    public Dictionary<string, string>? Attributes { get; set; }
}
