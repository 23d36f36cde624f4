using System.Text.Json;
using System.Text.Unicode;

namespace EdgeProfile.Core.Events;

/// <summary>
/// Reads a v1 JSON event into an <see cref="EventDraft"/>, naming the field when a value has the wrong JSON type.
/// Unknown fields are ignored so that newer producers can add them.
/// </summary>
public static class JsonEventReader
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 8, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>Checks the whole-message rules that hold for every encoding: not empty, at most 64 KiB.</summary>
    public static DecodeResult? CheckEnvelope(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return DecodeResult.Invalid("message", "empty payload");
        }

        if (payload.Length > EventLimits.MaxMessageBytes)
        {
            return DecodeResult.Invalid("message", $"{payload.Length} bytes, at most {EventLimits.MaxMessageBytes} allowed");
        }

        return null;
    }

    /// <summary>
    /// Decodes and validates one JSON message. <paramref name="defaultStoreId"/> fills a missing storeId (devices on
    /// IoT-Hub-style topics take the store of their enrollment).
    /// </summary>
    public static DecodeResult Decode(ReadOnlyMemory<byte> payload, string? topicStoreId, EventValidator validator, string? defaultStoreId = null)
    {
        ArgumentNullException.ThrowIfNull(validator);
        if (CheckEnvelope(payload.Span) is { } bad)
        {
            return bad;
        }

        if (!Utf8.IsValid(payload.Span))
        {
            return DecodeResult.Invalid("message", "payload is not valid UTF-8");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(payload, Options);
        }
        catch (JsonException ex)
        {
            return DecodeResult.Invalid("message", $"not valid JSON ({ex.Message})");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return DecodeResult.Invalid("message", $"expected a JSON object, got {Kind(doc.RootElement.ValueKind)}");
            }

            var draft = new EventDraft();
            string? error = null;
            string? field = null;
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                field = prop.Name;
                error = prop.Name switch
                {
                    "eventId" => ReadString(prop.Value, v => draft.EventId = v),
                    "type" => ReadString(prop.Value, v => draft.Type = v),
                    "occurredAt" => ReadString(prop.Value, v => draft.OccurredAt = v),
                    "storeId" => ReadString(prop.Value, v => draft.StoreId = v),
                    "channel" => ReadString(prop.Value, v => draft.Channel = v),
                    "currency" => ReadString(prop.Value, v => draft.Currency = v),
                    "text" => ReadString(prop.Value, v => draft.Text = v),
                    "quantity" => ReadNumber(prop.Value, v => draft.Quantity = v),
                    "amount" => ReadNumber(prop.Value, v => draft.Amount = v),
                    "customer" => ReadCustomer(prop.Value, draft, out field),
                    "product" => ReadProduct(prop.Value, draft, out field),
                    "attributes" => ReadAttributes(prop.Value, draft, out field),
                    _ => null,
                };
                if (error is not null)
                {
                    return DecodeResult.Invalid(field ?? prop.Name, error);
                }
            }

            draft.StoreId ??= defaultStoreId;
            return validator.Validate(draft, topicStoreId);
        }
    }

    private static string? ReadString(JsonElement value, Action<string?> set)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                set(value.GetString());
                return null;
            case JsonValueKind.Null:
                set(null);
                return null;
            default:
                return $"expected a string, got {Kind(value.ValueKind)}";
        }
    }

    private static string? ReadNumber(JsonElement value, Action<double?> set)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when value.TryGetDouble(out var d):
                set(d);
                return null;
            case JsonValueKind.Null:
                set(null);
                return null;
            default:
                return $"expected a number, got {Kind(value.ValueKind)}";
        }
    }

    private static string? ReadCustomer(JsonElement value, EventDraft draft, out string field)
    {
        field = "customer";
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return $"expected an object, got {Kind(value.ValueKind)}";
        }

        string? loyalty = null, app = null, email = null, phone = null, card = null;
        foreach (var p in value.EnumerateObject())
        {
            field = "customer." + p.Name;
            var error = p.Name switch
            {
                "loyaltyId" => ReadString(p.Value, v => loyalty = v),
                "appUserId" => ReadString(p.Value, v => app = v),
                "email" => ReadString(p.Value, v => email = v),
                "phone" => ReadString(p.Value, v => phone = v),
                "cardToken" => ReadString(p.Value, v => card = v),
                _ => null,
            };
            if (error is not null)
            {
                return error;
            }
        }

        draft.Customer = new CustomerIds(Blank(loyalty), Blank(app), Blank(email), Blank(phone), Blank(card));
        return null;
    }

    private static string? ReadProduct(JsonElement value, EventDraft draft, out string field)
    {
        field = "product";
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return $"expected an object, got {Kind(value.ValueKind)}";
        }

        string? sku = null, name = null, category = null;
        double? price = null;
        foreach (var p in value.EnumerateObject())
        {
            field = "product." + p.Name;
            var error = p.Name switch
            {
                "sku" => ReadString(p.Value, v => sku = v),
                "name" => ReadString(p.Value, v => name = v),
                "category" => ReadString(p.Value, v => category = v),
                "price" => ReadNumber(p.Value, v => price = v),
                _ => null,
            };
            if (error is not null)
            {
                return error;
            }
        }

        draft.Product = new ProductInfo(Blank(sku), Blank(name), Blank(category), price);
        return null;
    }

    private static string? ReadAttributes(JsonElement value, EventDraft draft, out string field)
    {
        field = "attributes";
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return $"expected an object of strings, got {Kind(value.ValueKind)}";
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
            {
                field = "attributes." + p.Name;
                return $"expected a string, got {Kind(p.Value.ValueKind)}";
            }

            map[p.Name] = p.Value.GetString()!;
        }

        draft.Attributes = map;
        return null;
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
