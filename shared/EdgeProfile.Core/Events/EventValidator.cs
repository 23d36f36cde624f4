using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace EdgeProfile.Core.Events;

/// <summary>
/// Applies the rules of contracts.md §1 to a decoded <see cref="EventDraft"/>. Every rejection names the field.
/// </summary>
public sealed partial class EventValidator(TimeProvider clock, TimeSpan maxClockSkew)
{
    /// <summary>How far in the future an occurredAt may be.</summary>
    public TimeSpan MaxClockSkew { get; } = maxClockSkew;

    /// <summary>Validates <paramref name="draft"/>; <paramref name="topicStoreId"/> is the store named by the topic, if any.</summary>
    public DecodeResult Validate(EventDraft draft, string? topicStoreId)
    {
        ArgumentNullException.ThrowIfNull(draft);

        if (string.IsNullOrEmpty(draft.EventId))
        {
            return DecodeResult.Invalid("eventId", "required");
        }

        if (draft.EventId.Length > EventLimits.MaxEventIdLength)
        {
            return DecodeResult.Invalid("eventId", $"{draft.EventId.Length} chars, at most {EventLimits.MaxEventIdLength} allowed");
        }

        if (string.IsNullOrEmpty(draft.Type))
        {
            return DecodeResult.Invalid("type", "required");
        }

        if (!WireNames.TryParseType(draft.Type, out var type))
        {
            return DecodeResult.Invalid("type", $"unknown event type '{Clip(draft.Type)}' (expected one of {WireNames.TypeList})");
        }

        if (string.IsNullOrEmpty(draft.OccurredAt))
        {
            return DecodeResult.Invalid("occurredAt", "required");
        }

        if (!TryParseRfc3339(draft.OccurredAt, out var occurredAt))
        {
            return DecodeResult.Invalid("occurredAt", $"'{Clip(draft.OccurredAt)}' is not an RFC 3339 timestamp with a zone");
        }

        var now = clock.GetUtcNow();
        if (occurredAt - now > MaxClockSkew)
        {
            return DecodeResult.Invalid("occurredAt", $"{occurredAt:O} is {(occurredAt - now).TotalMinutes:F0} min in the future (max clock skew {MaxClockSkew})");
        }

        if (string.IsNullOrEmpty(draft.StoreId))
        {
            return DecodeResult.Invalid("storeId", "required");
        }

        if (topicStoreId is not null && !string.Equals(draft.StoreId, topicStoreId, StringComparison.Ordinal))
        {
            return DecodeResult.Invalid("storeId", $"'{Clip(draft.StoreId)}' does not match the topic's store '{Clip(topicStoreId)}'");
        }

        if (string.IsNullOrEmpty(draft.Channel))
        {
            return DecodeResult.Invalid("channel", "required");
        }

        if (!WireNames.TryParseChannel(draft.Channel, out var channel))
        {
            return DecodeResult.Invalid("channel", $"unknown channel '{Clip(draft.Channel)}' (expected one of {WireNames.ChannelList})");
        }

        if (draft.Customer is null || !draft.Customer.Any)
        {
            return DecodeResult.Invalid("customer", "at least one identifier (loyaltyId, appUserId, email, phone, cardToken, deviceId) is required");
        }

        if (CheckIdentifier("customer.loyaltyId", draft.Customer.LoyaltyId) is { } e1) return e1;
        if (CheckIdentifier("customer.appUserId", draft.Customer.AppUserId) is { } e2) return e2;
        if (CheckIdentifier("customer.email", draft.Customer.Email) is { } e3) return e3;
        if (CheckIdentifier("customer.phone", draft.Customer.Phone) is { } e4) return e4;
        if (CheckIdentifier("customer.cardToken", draft.Customer.CardToken) is { } e5) return e5;
        if (CheckIdentifier("customer.deviceId", draft.Customer.DeviceId) is { } e12) return e12;

        if (draft.Product is null)
        {
            if (type.RequiresProduct())
            {
                return DecodeResult.Invalid("product", $"required for type '{type.Name()}'");
            }
        }
        else
        {
            var p = draft.Product;
            if (type.RequiresProduct() && string.IsNullOrEmpty(p.Sku) && string.IsNullOrEmpty(p.Name) && string.IsNullOrEmpty(p.Category))
            {
                return DecodeResult.Invalid("product", "needs at least one of sku, name, category");
            }

            if (CheckIdentifier("product.sku", p.Sku) is { } e6) return e6;
            if (CheckIdentifier("product.name", p.Name) is { } e7) return e7;
            if (CheckIdentifier("product.category", p.Category) is { } e8) return e8;
            if (CheckAmount("product.price", p.Price) is { } e9) return e9;
        }

        if (CheckAmount("quantity", draft.Quantity) is { } e10) return e10;
        if (CheckAmount("amount", draft.Amount) is { } e11) return e11;

        if (draft.Text is not null && Encoding.UTF8.GetByteCount(draft.Text) > EventLimits.MaxTextBytes)
        {
            return DecodeResult.Invalid("text", $"longer than {EventLimits.MaxTextBytes} bytes");
        }

        if (draft.Currency is { Length: > 8 })
        {
            return DecodeResult.Invalid("currency", "at most 8 chars (an ISO 4217 code)");
        }

        if (draft.Attributes is { Count: > EventLimits.MaxAttributes })
        {
            return DecodeResult.Invalid("attributes", $"{draft.Attributes.Count} entries, at most {EventLimits.MaxAttributes} allowed");
        }

        return DecodeResult.Valid(new CustomerEvent
        {
            EventId = draft.EventId,
            Type = type,
            OccurredAt = occurredAt,
            StoreId = draft.StoreId,
            Channel = channel,
            Customer = draft.Customer,
            Product = draft.Product,
            Quantity = draft.Quantity,
            Amount = draft.Amount,
            Currency = string.IsNullOrEmpty(draft.Currency) ? null : draft.Currency,
            Text = string.IsNullOrEmpty(draft.Text) ? null : draft.Text,
            Attributes = (IReadOnlyDictionary<string, string>?)draft.Attributes ?? CustomerEvent.EmptyAttributes,
        });
    }

    /// <summary>Parses RFC 3339 text that carries an explicit zone (Z or ±hh:mm).</summary>
    public static bool TryParseRfc3339(string text, out DateTimeOffset value)
    {
        value = default;
        return Rfc3339().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
    }

    private static DecodeResult? CheckIdentifier(string field, string? value) =>
        value is { Length: > EventLimits.MaxIdentifierLength }
            ? DecodeResult.Invalid(field, $"{value.Length} chars, at most {EventLimits.MaxIdentifierLength} allowed")
            : null;

    private static DecodeResult? CheckAmount(string field, double? value) => value switch
    {
        null => null,
        double v when double.IsNaN(v) || double.IsInfinity(v) => DecodeResult.Invalid(field, "must be a finite number"),
        < 0 => DecodeResult.Invalid(field, $"{value.Value.ToString(CultureInfo.InvariantCulture)} is negative (use type 'return' for returns)"),
        _ => null,
    };

    private static string Clip(string s) => s.Length <= 80 ? s : string.Concat(s.AsSpan(0, 77), "...");

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();
}
