using System.Text.Json;
using System.Text.Unicode;

namespace EdgeProfile.Core.Events;

/// <summary>
/// Reads a v1 JSON event into an <see cref="EventDraft"/>, naming the field when a value has the wrong JSON type.
/// Unknown fields are ignored so that newer producers can add them.
/// </summary>
/// <remarks>
/// This runs once per ingested message, so it reads with <see cref="Utf8JsonReader"/> straight into the draft
/// (no document tree): one pass checks that the whole message is well-formed JSON — so a broken message is reported as
/// such even when an earlier field has the wrong type — and a second pass picks the fields.
/// </remarks>
public static class JsonEventReader
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 8, CommentHandling = JsonCommentHandling.Disallow };

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
        var span = payload.Span;
        if (CheckEnvelope(span) is { } bad)
        {
            return bad;
        }

        if (!Utf8.IsValid(span))
        {
            return DecodeResult.Invalid("message", "payload is not valid UTF-8");
        }

        try
        {
            var check = new Utf8JsonReader(span, Options);
            while (check.Read())
            {
            }
        }
        catch (JsonException ex)
        {
            return DecodeResult.Invalid("message", $"not valid JSON ({ex.Message})");
        }

        var reader = new Utf8JsonReader(span, Options);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return DecodeResult.Invalid("message", $"expected a JSON object, got {Kind(reader.TokenType)}");
        }

        var draft = new EventDraft();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string? error;
            string field;
            if (reader.ValueTextEquals("eventId"u8))
            {
                field = "eventId";
                draft.EventId = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("type"u8))
            {
                field = "type";
                draft.Type = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("occurredAt"u8))
            {
                field = "occurredAt";
                draft.OccurredAt = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("storeId"u8))
            {
                field = "storeId";
                draft.StoreId = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("channel"u8))
            {
                field = "channel";
                draft.Channel = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("currency"u8))
            {
                field = "currency";
                draft.Currency = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("text"u8))
            {
                field = "text";
                draft.Text = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("quantity"u8))
            {
                field = "quantity";
                draft.Quantity = ReadNumber(ref reader, out error);
            }
            else if (reader.ValueTextEquals("amount"u8))
            {
                field = "amount";
                draft.Amount = ReadNumber(ref reader, out error);
            }
            else if (reader.ValueTextEquals("customer"u8))
            {
                error = ReadCustomer(ref reader, draft, out field);
            }
            else if (reader.ValueTextEquals("product"u8))
            {
                error = ReadProduct(ref reader, draft, out field);
            }
            else if (reader.ValueTextEquals("attributes"u8))
            {
                error = ReadAttributes(ref reader, draft, out field);
            }
            else
            {
                // Unknown field: skip its value, whatever it is.
                reader.Read();
                reader.Skip();
                continue;
            }

            if (error is not null)
            {
                return DecodeResult.Invalid(field, error);
            }
        }

        draft.StoreId ??= defaultStoreId;
        return validator.Validate(draft, topicStoreId);
    }

    private static string? ReadString(ref Utf8JsonReader reader, out string? error)
    {
        reader.Read();
        error = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Null:
                return null;
            default:
                error = $"expected a string, got {Kind(reader.TokenType)}";
                return null;
        }
    }

    // A catalogue value (product id, name, category): the shared instance from ValuePool, copied out of the JSON
    // without a string of its own when the pool already has it.
    private static string? ReadPooledString(ref Utf8JsonReader reader, out string? error)
    {
        reader.Read();
        error = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                var bytes = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
                if (bytes > ValuePool.MaxLength * 3)
                {
                    return reader.GetString();
                }

                Span<char> chars = stackalloc char[ValuePool.MaxLength * 3];
                return ValuePool.Shared.Intern(chars[..reader.CopyString(chars)]);
            case JsonTokenType.Null:
                return null;
            default:
                error = $"expected a string, got {Kind(reader.TokenType)}";
                return null;
        }
    }

    private static double? ReadNumber(ref Utf8JsonReader reader, out string? error)
    {
        reader.Read();
        error = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.Number when reader.TryGetDouble(out var d):
                return d;
            case JsonTokenType.Null:
                return null;
            default:
                error = $"expected a number, got {Kind(reader.TokenType)}";
                return null;
        }
    }

    private static string? ReadCustomer(ref Utf8JsonReader reader, EventDraft draft, out string field)
    {
        field = "customer";
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return $"expected an object, got {Kind(reader.TokenType)}";
        }

        string? loyalty = null, app = null, email = null, phone = null, card = null, device = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string? error;
            if (reader.ValueTextEquals("loyaltyId"u8))
            {
                field = "customer.loyaltyId";
                loyalty = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("appUserId"u8))
            {
                field = "customer.appUserId";
                app = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("email"u8))
            {
                field = "customer.email";
                email = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("phone"u8))
            {
                field = "customer.phone";
                phone = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("cardToken"u8))
            {
                field = "customer.cardToken";
                card = ReadString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("deviceId"u8))
            {
                field = "customer.deviceId";
                device = ReadString(ref reader, out error);
            }
            else
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            if (error is not null)
            {
                return error;
            }
        }

        field = "customer";
        draft.Customer = new CustomerIds(Blank(loyalty), Blank(app), Blank(email), Blank(phone), Blank(card), Blank(device));
        return null;
    }

    private static string? ReadProduct(ref Utf8JsonReader reader, EventDraft draft, out string field)
    {
        field = "product";
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return $"expected an object, got {Kind(reader.TokenType)}";
        }

        string? sku = null, name = null, category = null;
        double? price = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string? error;
            if (reader.ValueTextEquals("sku"u8))
            {
                field = "product.sku";
                sku = ReadPooledString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                field = "product.name";
                name = ReadPooledString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("category"u8))
            {
                field = "product.category";
                category = ReadPooledString(ref reader, out error);
            }
            else if (reader.ValueTextEquals("price"u8))
            {
                field = "product.price";
                price = ReadNumber(ref reader, out error);
            }
            else
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            if (error is not null)
            {
                return error;
            }
        }

        field = "product";
        draft.Product = new ProductInfo(Blank(sku), Blank(name), Blank(category), price);
        return null;
    }

    private static string? ReadAttributes(ref Utf8JsonReader reader, EventDraft draft, out string field)
    {
        field = "attributes";
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return $"expected an object of strings, got {Kind(reader.TokenType)}";
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                field = "attributes." + key;
                return $"expected a string, got {Kind(reader.TokenType)}";
            }

            map[key] = reader.GetString()!;
        }

        draft.Attributes = map;
        return null;
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static string Kind(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
