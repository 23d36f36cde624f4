namespace EdgeProfile.Core.Events;

/// <summary>The outcome of decoding and validating one message: an event, or the field at fault and why.</summary>
public readonly record struct DecodeResult
{
    private DecodeResult(CustomerEvent? value, string? field, string? reason)
    {
        Event = value;
        Field = field;
        Reason = reason;
    }

    /// <summary>The valid event, when <see cref="IsValid"/>.</summary>
    public CustomerEvent? Event { get; }

    /// <summary>The offending field (JSON name, dotted for nested fields, or <c>message</c>).</summary>
    public string? Field { get; }

    /// <summary>A reason for a person, starting with the field name.</summary>
    public string? Reason { get; }

    /// <summary>True when the message holds a valid event.</summary>
    public bool IsValid => Event is not null;

    /// <summary>A valid event.</summary>
    public static DecodeResult Valid(CustomerEvent value) => new(value, null, null);

    /// <summary>An invalid message; the reason is prefixed with the field name.</summary>
    public static DecodeResult Invalid(string field, string reason) => new(null, field, $"{field}: {reason}");
}
