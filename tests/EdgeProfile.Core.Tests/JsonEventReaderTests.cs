using System.Text;
using System.Text.Json.Nodes;
using EdgeProfile.Core.Events;
using Microsoft.Extensions.Time.Testing;

namespace EdgeProfile.Core.Tests;

public sealed class JsonEventReaderTests
{
    private readonly FakeTimeProvider _clock = new(EventJson.Now);

    private EventValidator Validator => new(_clock, TimeSpan.FromMinutes(10));

    private DecodeResult Decode(JsonNode node, string? topicStore = EventJson.StoreId) =>
        JsonEventReader.Decode(EventJson.Bytes(node), topicStore, Validator);

    private DecodeResult Decode(byte[] payload, string? topicStore = EventJson.StoreId) =>
        JsonEventReader.Decode(payload, topicStore, Validator);

    private static void AssertRejected(DecodeResult result, string field)
    {
        Assert.False(result.IsValid, $"expected a rejection naming '{field}'");
        Assert.Null(result.Event);
        Assert.Equal(field, result.Field);
        Assert.NotNull(result.Reason);
        Assert.StartsWith(field + ":", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Contract_example_decodes_with_every_field()
    {
        var result = Decode(EventJson.Example());

        Assert.True(result.IsValid, result.Reason);
        var e = result.Event!;
        Assert.Equal("b3f1c2e0-5d1a-4c55-9a57-0c6f0b7a9e11", e.EventId);
        Assert.Equal(EventType.Purchase, e.Type);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 10, 15, 0, 123, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal("store-001", e.StoreId);
        Assert.Equal(Channel.Pos, e.Channel);
        Assert.Equal(new CustomerIds("L-1002", "u-77", "a@b.cn", "+8613800000000", "tok_9"), e.Customer);
        Assert.NotNull(e.Product);
        Assert.Equal("SKU-123", e.Product.Sku);
        Assert.Equal("Stroller X", e.Product.Name);
        Assert.Equal("Baby & Toddler > Strollers", e.Product.Category);
        Assert.Equal(["Baby & Toddler", "Strollers"], e.Product.CategoryPath);
        Assert.Equal(1299.0, e.Product.Price);
        Assert.Equal(1.0, e.Quantity);
        Assert.Equal(1299.0, e.Amount);
        Assert.Equal("CNY", e.Currency);
        Assert.Equal("battery does not last", e.Text);
        Assert.Equal("double11", Assert.Single(e.Attributes, kv => kv.Key == "campaign").Value);
        Assert.Single(e.Attributes);
    }

    [Fact]
    public void Occurred_at_keeps_the_producers_offset()
    {
        var json = EventJson.Example();
        json["occurredAt"] = "2026-11-29T18:15:00+08:00";

        var result = Decode(json);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(TimeSpan.FromHours(8), result.Event!.OccurredAt.Offset);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 10, 15, 0, TimeSpan.Zero), result.Event.OccurredAt);
    }

    [Fact]
    public void Unknown_fields_are_ignored()
    {
        var json = EventJson.Example();
        json["futureField"] = new JsonObject { ["x"] = 1 };

        Assert.True(Decode(json).IsValid);
    }

    [Theory]
    [InlineData("eventId")]
    [InlineData("type")]
    [InlineData("occurredAt")]
    [InlineData("storeId")]
    [InlineData("channel")]
    [InlineData("customer")]
    public void Missing_required_field_is_rejected_naming_it(string field)
    {
        var json = EventJson.Example();
        json.Remove(field);

        AssertRejected(Decode(json), field);
    }

    [Theory]
    [InlineData("eventId")]
    [InlineData("type")]
    [InlineData("occurredAt")]
    [InlineData("storeId")]
    [InlineData("channel")]
    public void Null_or_empty_required_field_is_rejected_naming_it(string field)
    {
        var json = EventJson.Example();
        json[field] = "";
        AssertRejected(Decode(json), field);

        json[field] = null;
        AssertRejected(Decode(json), field);
    }

    [Fact]
    public void Event_id_of_64_chars_is_accepted_and_65_rejected()
    {
        var json = EventJson.Example();
        json["eventId"] = new string('e', 64);
        Assert.True(Decode(json).IsValid);

        json["eventId"] = new string('e', 65);
        var result = Decode(json);
        AssertRejected(result, "eventId");
        Assert.Contains("65", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_type_is_rejected_naming_type_and_value()
    {
        var json = EventJson.Example();
        json["type"] = "teleport";

        var result = Decode(json);

        AssertRejected(result, "type");
        Assert.Contains("teleport", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("view")]
    [InlineData("search")]
    [InlineData("add_to_cart")]
    [InlineData("remove_from_cart")]
    [InlineData("purchase")]
    [InlineData("return")]
    [InlineData("review")]
    [InlineData("like")]
    [InlineData("video_watch")]
    [InlineData("visit")]
    [InlineData("loyalty_scan")]
    [InlineData("app_open")]
    [InlineData("coupon_redeem")]
    public void Every_contract_type_is_accepted(string type)
    {
        var json = EventJson.Example();
        json["type"] = type;

        var result = Decode(json);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(type, result.Event!.Type.Name());
    }

    [Fact]
    public void Type_names_are_case_sensitive()
    {
        var json = EventJson.Example();
        json["type"] = "Purchase";

        AssertRejected(Decode(json), "type");
    }

    [Fact]
    public void Unknown_channel_is_rejected_naming_channel()
    {
        var json = EventJson.Example();
        json["channel"] = "fax";

        var result = Decode(json);

        AssertRejected(result, "channel");
        Assert.Contains("fax", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pos")]
    [InlineData("app")]
    [InlineData("web")]
    [InlineData("cdn")]
    [InlineData("crm")]
    [InlineData("kiosk")]
    [InlineData("partner")]
    public void Every_contract_channel_is_accepted(string channel)
    {
        var json = EventJson.Example();
        json["channel"] = channel;

        var result = Decode(json);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(channel, result.Event!.Channel.Name());
    }

    [Theory]
    [InlineData("2026-11-29T10:15:00")]
    [InlineData("2026-11-29T10:15:00.123")]
    [InlineData("2026-11-29")]
    [InlineData("yesterday")]
    [InlineData("2026-13-45T99:99:99Z")]
    [InlineData("1764411300")]
    [InlineData("29/11/2026 10:15:00 +00:00")]
    public void Occurred_at_without_zone_or_garbage_is_rejected(string occurredAt)
    {
        var json = EventJson.Example();
        json["occurredAt"] = occurredAt;

        AssertRejected(Decode(json), "occurredAt");
    }

    [Fact]
    public void Occurred_at_beyond_max_clock_skew_is_rejected_until_the_clock_catches_up()
    {
        var json = EventJson.Example();
        json["occurredAt"] = EventJson.Now.AddMinutes(11).ToString("O");

        var result = Decode(json);
        AssertRejected(result, "occurredAt");
        Assert.Contains("future", result.Reason, StringComparison.Ordinal);

        _clock.Advance(TimeSpan.FromMinutes(2));

        Assert.True(Decode(json).IsValid);
    }

    [Fact]
    public void Occurred_at_within_max_clock_skew_is_accepted()
    {
        var json = EventJson.Example();
        json["occurredAt"] = EventJson.Now.AddMinutes(9).ToString("O");

        Assert.True(Decode(json).IsValid);
    }

    [Fact]
    public void Old_events_are_accepted()
    {
        var json = EventJson.Example();
        json["occurredAt"] = "2020-01-01T00:00:00Z";

        Assert.True(Decode(json).IsValid);
    }

    [Fact]
    public void Store_id_other_than_the_topics_is_rejected_naming_store_id()
    {
        var result = Decode(EventJson.Example(), topicStore: "store-002");

        AssertRejected(result, "storeId");
        Assert.Contains("store-002", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_store_id_is_filled_from_the_default_store()
    {
        var json = EventJson.Example();
        json.Remove("storeId");

        var result = JsonEventReader.Decode(EventJson.Bytes(json), null, Validator, defaultStoreId: "store-dev");

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal("store-dev", result.Event!.StoreId);
    }

    [Fact]
    public void Customer_without_any_identifier_is_rejected()
    {
        var json = EventJson.Example();
        json["customer"] = new JsonObject { ["email"] = "  ", ["nickname"] = "bob" };

        AssertRejected(Decode(json), "customer");
    }

    [Fact]
    public void Customer_with_a_single_identifier_is_accepted()
    {
        var json = EventJson.Example();
        json["customer"] = new JsonObject { ["phone"] = "+8613800000000" };

        var result = Decode(json);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(new CustomerIds(null, null, null, "+8613800000000", null), result.Event!.Customer);
    }

    [Fact]
    public void Overlong_customer_identifier_is_rejected_naming_it()
    {
        var json = EventJson.Example();
        json["customer"]!["loyaltyId"] = new string('L', EventLimits.MaxIdentifierLength + 1);

        AssertRejected(Decode(json), "customer.loyaltyId");
    }

    [Fact]
    public void Device_id_is_read_next_to_the_other_identifiers()
    {
        var json = EventJson.Example();
        json["customer"]!["deviceId"] = "d-9";

        var result = Decode(json);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(new CustomerIds("L-1002", "u-77", "a@b.cn", "+8613800000000", "tok_9", "d-9"), result.Event!.Customer);
    }

    [Fact]
    public void Event_without_device_id_reads_as_before()
    {
        var result = Decode(EventJson.Example());

        Assert.True(result.IsValid, result.Reason);
        Assert.Null(result.Event!.Customer.DeviceId);
    }

    [Fact]
    public void Customer_with_only_a_device_id_is_accepted()
    {
        var json = EventJson.Example();
        json["customer"] = new JsonObject { ["deviceId"] = "d-9" };

        var result = Decode(json);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(new CustomerIds(null, null, null, null, null, "d-9"), result.Event!.Customer);
    }

    [Fact]
    public void Blank_device_id_is_no_identifier()
    {
        var json = EventJson.Example();
        json["customer"] = new JsonObject { ["deviceId"] = "  " };

        var result = Decode(json);

        AssertRejected(result, "customer");
        Assert.Contains("deviceId", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("appUserId")]
    [InlineData("deviceId")]
    public void App_user_and_device_id_of_256_chars_are_accepted_and_257_rejected_naming_them(string field)
    {
        var json = EventJson.Example();
        json["customer"]![field] = new string('d', EventLimits.MaxIdentifierLength);
        Assert.True(Decode(json).IsValid);

        json["customer"]![field] = new string('d', EventLimits.MaxIdentifierLength + 1);
        var result = Decode(json);

        AssertRejected(result, "customer." + field);
        Assert.Contains($"at most {EventLimits.MaxIdentifierLength}", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("view")]
    [InlineData("add_to_cart")]
    [InlineData("remove_from_cart")]
    [InlineData("purchase")]
    [InlineData("return")]
    [InlineData("review")]
    public void Product_is_required_for_product_types(string type)
    {
        var json = EventJson.Example();
        json["type"] = type;
        json.Remove("product");

        var result = Decode(json);

        AssertRejected(result, "product");
        Assert.Contains(type, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_product_object_is_rejected_for_a_purchase()
    {
        var json = EventJson.Example();
        json["product"] = new JsonObject { ["price"] = 5 };

        AssertRejected(Decode(json), "product");
    }

    [Theory]
    [InlineData("search")]
    [InlineData("visit")]
    [InlineData("app_open")]
    [InlineData("loyalty_scan")]
    public void Product_is_optional_for_other_types(string type)
    {
        var json = EventJson.Example();
        json["type"] = type;
        json.Remove("product");

        var result = Decode(json);

        Assert.True(result.IsValid, result.Reason);
        Assert.Null(result.Event!.Product);
    }

    [Theory]
    [InlineData("amount")]
    [InlineData("quantity")]
    public void Negative_number_is_rejected_naming_it(string field)
    {
        var json = EventJson.Example();
        json[field] = -1.5;

        var result = Decode(json);

        AssertRejected(result, field);
        Assert.Contains("negative", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_price_is_rejected_naming_product_price()
    {
        var json = EventJson.Example();
        json["product"]!["price"] = -1;

        AssertRejected(Decode(json), "product.price");
    }

    [Fact]
    public void Zero_amount_and_quantity_are_accepted()
    {
        var json = EventJson.Example();
        json["amount"] = 0;
        json["quantity"] = 0;

        Assert.True(Decode(json).IsValid);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Non_finite_numbers_are_rejected(double value)
    {
        var validator = Validator;
        var amount = validator.Validate(Draft(d => d.Amount = value), EventJson.StoreId);
        var quantity = validator.Validate(Draft(d => d.Quantity = value), EventJson.StoreId);
        var price = validator.Validate(Draft(d => d.Product = d.Product! with { Price = value }), EventJson.StoreId);

        AssertRejected(amount, "amount");
        AssertRejected(quantity, "quantity");
        AssertRejected(price, "product.price");
    }

    [Fact]
    public void Valid_draft_passes_the_validator()
    {
        var result = Validator.Validate(Draft(_ => { }), EventJson.StoreId);

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void Text_of_4_KiB_is_accepted_and_one_byte_more_rejected()
    {
        var json = EventJson.Example();
        json["text"] = new string('t', EventLimits.MaxTextBytes);
        Assert.True(Decode(json).IsValid);

        json["text"] = new string('t', EventLimits.MaxTextBytes + 1);
        AssertRejected(Decode(json), "text");
    }

    [Fact]
    public void Text_limit_counts_utf8_bytes_not_chars()
    {
        var json = EventJson.Example();
        json["text"] = new string('电', 1400); // 4200 bytes in UTF-8, 1400 chars

        AssertRejected(Decode(json), "text");
    }

    [Fact]
    public void Thirty_two_attributes_are_accepted_and_thirty_three_rejected()
    {
        var json = EventJson.Example();
        var attrs = new JsonObject();
        for (var i = 0; i < EventLimits.MaxAttributes; i++)
        {
            attrs["k" + i] = "v";
        }

        json["attributes"] = attrs;
        var ok = Decode(json);
        Assert.True(ok.IsValid, ok.Reason);
        Assert.Equal(32, ok.Event!.Attributes.Count);

        attrs["one-more"] = "v";
        var result = Decode(json);
        AssertRejected(result, "attributes");
        Assert.Contains("33", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Attribute_with_a_non_string_value_is_rejected_naming_it()
    {
        var json = EventJson.Example();
        json["attributes"] = new JsonObject { ["campaign"] = "x", ["count"] = 3 };

        AssertRejected(Decode(json), "attributes.count");
    }

    [Fact]
    public void Attributes_that_are_not_an_object_are_rejected()
    {
        var json = EventJson.Example();
        json["attributes"] = new JsonArray("a", "b");

        AssertRejected(Decode(json), "attributes");
    }

    [Theory]
    [InlineData("amount", "\"1299\"")]
    [InlineData("quantity", "true")]
    [InlineData("eventId", "42")]
    [InlineData("type", "{}")]
    [InlineData("occurredAt", "1764411300")]
    [InlineData("storeId", "[]")]
    [InlineData("channel", "false")]
    [InlineData("text", "{\"a\":1}")]
    [InlineData("currency", "978")]
    [InlineData("customer", "[\"L-1002\"]")]
    [InlineData("customer", "\"L-1002\"")]
    [InlineData("product", "\"SKU-123\"")]
    public void Wrong_json_type_is_rejected_naming_the_field(string field, string value)
    {
        var json = EventJson.Example();
        json[field] = JsonNode.Parse(value);

        var result = Decode(json);

        AssertRejected(result, field);
        Assert.Contains("expected", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("customer", "loyaltyId", "1002")]
    [InlineData("customer", "email", "[\"a@b.cn\"]")]
    [InlineData("customer", "appUserId", "77")]
    [InlineData("customer", "deviceId", "9")]
    [InlineData("customer", "deviceId", "{\"id\":\"d-9\"}")]
    [InlineData("product", "price", "\"1299\"")]
    [InlineData("product", "sku", "123")]
    public void Wrong_json_type_inside_an_object_is_rejected_with_a_dotted_name(string parent, string child, string value)
    {
        var json = EventJson.Example();
        json[parent]![child] = JsonNode.Parse(value);

        AssertRejected(Decode(json), $"{parent}.{child}");
    }

    [Fact]
    public void Empty_payload_is_rejected_naming_message()
    {
        AssertRejected(Decode([]), "message");
    }

    [Fact]
    public void Payload_over_64_KiB_is_rejected_naming_message()
    {
        var json = EventJson.Example();
        json["padding"] = new string('p', EventLimits.MaxMessageBytes);

        var result = Decode(json);

        AssertRejected(result, "message");
        Assert.Contains("bytes", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Payload_just_under_64_KiB_is_accepted()
    {
        var json = EventJson.Example();
        json["padding"] = "";
        var overhead = EventJson.Bytes(json).Length;
        json["padding"] = new string('p', EventLimits.MaxMessageBytes - overhead);

        Assert.Equal(EventLimits.MaxMessageBytes, EventJson.Bytes(json).Length);
        Assert.True(Decode(json).IsValid);
    }

    [Fact]
    public void Invalid_utf8_is_rejected_naming_message()
    {
        var bytes = EventJson.Bytes(EventJson.Example());
        var broken = new byte[bytes.Length + 2];
        bytes.CopyTo(broken, 0);
        // Put an overlong/invalid sequence inside the text value.
        var at = Encoding.UTF8.GetString(bytes).IndexOf("battery", StringComparison.Ordinal);
        broken[at] = 0xC3;
        broken[at + 1] = 0x28;

        var result = Decode(broken);

        AssertRejected(result, "message");
        Assert.Contains("UTF-8", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"eventId\": \"x\",")]
    [InlineData("not json at all")]
    [InlineData("{'eventId': 'x'}")]
    [InlineData("{\"eventId\":\"x\"} trailing")]
    [InlineData("{\"eventId\":\"x\" /* comment */}")]
    public void Text_that_is_not_json_is_rejected_naming_message(string text)
    {
        var result = Decode(Encoding.UTF8.GetBytes(text));

        AssertRejected(result, "message");
        Assert.Contains("JSON", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"eventId\":\"x\"}]")]
    [InlineData("\"event\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void Json_root_that_is_not_an_object_is_rejected_naming_message(string text)
    {
        var result = Decode(Encoding.UTF8.GetBytes(text));

        AssertRejected(result, "message");
        Assert.Contains("expected a JSON object", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Deeply_nested_json_is_rejected_not_thrown()
    {
        var json = EventJson.Example();
        JsonNode deep = new JsonObject();
        for (var i = 0; i < 20; i++)
        {
            deep = new JsonObject { ["d"] = deep };
        }

        json["extra"] = deep;

        AssertRejected(Decode(json), "message");
    }

    private static EventDraft Draft(Action<EventDraft> change)
    {
        var draft = new EventDraft
        {
            EventId = "e-1",
            Type = "purchase",
            OccurredAt = "2026-11-29T10:15:00Z",
            StoreId = EventJson.StoreId,
            Channel = "pos",
            Customer = new CustomerIds("L-1", null, null, null, null),
            Product = new ProductInfo("SKU-1", null, null, 10),
            Quantity = 1,
            Amount = 10,
        };
        change(draft);
        return draft;
    }
}
