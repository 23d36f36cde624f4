using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;

namespace EdgeProfile.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class BadInputTests
{
    private sealed record Bad(string Name, string Topic, byte[] Payload, string Field);

    private static JsonObject Valid(string id) => TestEvents.Json(id, "L-bad");

    private static byte[] Mutated(string id, Action<JsonObject> change)
    {
        var e = Valid(id);
        change(e);
        return e.Bytes();
    }

    private static List<Bad> Corpus()
    {
        var json = TestEvents.JsonTopic();
        var pb = TestEvents.ProtoTopic();
        var invalidUtf8 = Valid("bad-utf8").Bytes();
        var at = Encoding.UTF8.GetString(invalidUtf8).IndexOf("Stroller X", StringComparison.Ordinal) + "Stroller".Length;
        invalidUtf8[at] = 0xC3; // a lead byte followed by 'X': not UTF-8
        var bigEvent = Valid("bad-big");
        bigEvent["text"] = new string('x', 70 * 1024);
        var protoWrongChannel = TestEvents.Proto("bad-pb-channel");
        protoWrongChannel.Channel = "telepathy";
        var protoOtherStore = TestEvents.Proto("bad-pb-store");
        protoOtherStore.StoreId = "store-x";
        var protoLongDevice = TestEvents.Proto("bad-pb-device");
        protoLongDevice.Customer.DeviceId = new string('d', 257);
        return
        [
            new("broken JSON", json, Encoding.UTF8.GetBytes("{\"eventId\":\"bad-broken\",\"type\":"), "message"),
            new("not JSON at all", json, Encoding.UTF8.GetBytes("hello, edge"), "message"),
            new("JSON array root", json, Encoding.UTF8.GetBytes("[{\"eventId\":\"bad-array\"}]"), "message"),
            new("amount as string", json, Mutated("bad-amount", e => e["amount"] = "1299.00"), "amount"),
            new("customer as array", json, Mutated("bad-customer-array", e => e["customer"] = new JsonArray("L-1")), "customer"),
            new("loyaltyId as number", json, Mutated("bad-loyalty", e => e["customer"]!["loyaltyId"] = 1002), "customer.loyaltyId"),
            new("deviceId as number", json, Mutated("bad-device", e => e["customer"]!["deviceId"] = 9), "customer.deviceId"),
            new("deviceId over 256 chars", json, Mutated("bad-device-long", e => e["customer"] = new JsonObject { ["deviceId"] = new string('d', 257) }), "customer.deviceId"),
            new("missing eventId", json, Mutated("unused", e => e.Remove("eventId")), "eventId"),
            new("missing occurredAt", json, Mutated("bad-no-time", e => e.Remove("occurredAt")), "occurredAt"),
            new("missing customer", json, Mutated("bad-no-customer", e => e.Remove("customer")), "customer"),
            new("missing product on purchase", json, Mutated("bad-no-product", e => e.Remove("product")), "product"),
            new("unknown type", json, Mutated("bad-type", e => e["type"] = "teleport"), "type"),
            new("unknown channel", json, Mutated("bad-channel", e => e["channel"] = "fax"), "channel"),
            new("negative quantity", json, Mutated("bad-qty", e => e["quantity"] = -2), "quantity"),
            new("storeId not the topic's", json, Mutated("bad-store", e => e["storeId"] = "store-x"), "storeId"),
            new("occurredAt a day ahead", json, Mutated("bad-future", e => e["occurredAt"] = DateTimeOffset.UtcNow.AddDays(1).ToString("O")), "occurredAt"),
            new("occurredAt without zone", json, Mutated("bad-zone", e => e["occurredAt"] = "2026-11-29T10:15:00"), "occurredAt"),
            new("over 64 KiB", json, bigEvent.Bytes(), "message"),
            new("invalid UTF-8", json, invalidUtf8, "message"),
            new("empty payload", json, [], "message"),
            new("protobuf garbage", pb, [0x0A, 0x40, 0x41, 0x42], "message"),
            new("JSON on the protobuf topic", pb, TestEvents.JsonBytes("bad-json-on-pb"), "message"),
            new("protobuf with unknown channel", pb, protoWrongChannel.ToByteArray(), "channel"),
            new("protobuf for another store", pb, protoOtherStore.ToByteArray(), "storeId"),
            new("protobuf deviceId over 256 chars", pb, protoLongDevice.ToByteArray(), "customer.deviceId"),
            new("empty protobuf", pb, [], "message"),
        ];
    }

    [Fact]
    public async Task Bad_input_is_dead_lettered_with_field_naming_reason_and_valid_neighbours_are_kept()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("fuzzy-pos");
        var corpus = Corpus();
        var validIds = new List<string>();

        for (var i = 0; i < corpus.Count; i++)
        {
            var bad = corpus[i];
            var validId = $"good-{i}";
            validIds.Add(validId);
            var (topic, payload) = i % 2 == 0
                ? (TestEvents.JsonTopic(), TestEvents.JsonBytes(validId, "L-good", 1))
                : (TestEvents.ProtoTopic(), TestEvents.ProtoBytes(validId, "L-good", 1));
            await EdgeHost.AckedAsync(client, topic, payload);

            var result = await EdgeHost.PublishAsync(client, bad.Topic, bad.Payload);
            Assert.True(result.IsSuccess, $"{bad.Name}: not acknowledged ({result.ReasonCode})");
            Assert.True(client.IsConnected, $"{bad.Name}: the edge dropped the connection");
        }

        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("good-last", "L-good", 1));
        validIds.Add("good-last");

        var letters = await edge.DeadLettersAsync(1000);
        Assert.Equal(corpus.Count, letters.Length);
        foreach (var bad in corpus)
        {
            var base64 = Convert.ToBase64String(bad.Payload);
            var letter = Assert.Single(letters, l => l.GetProperty("payloadBase64").GetString() == base64 && l.GetProperty("topic").GetString() == bad.Topic);
            Assert.True(bad.Field == letter.GetProperty("field").GetString(), $"{bad.Name}: expected field {bad.Field}, got {letter}");
            var reason = letter.GetProperty("reason").GetString()!;
            Assert.StartsWith(bad.Field + ":", reason, StringComparison.Ordinal);
            Assert.Equal(bad.Payload.Length, letter.GetProperty("size").GetInt32());
        }

        foreach (var id in validIds)
        {
            Assert.Equal(1, edge.Count($"SELECT COUNT(*) FROM events WHERE event_id='{id}'"));
        }

        Assert.Equal(validIds.Count, edge.Count("SELECT COUNT(*) FROM events"));
        var stats = await edge.StatsAsync();
        Assert.Equal(validIds.Count, stats.GetProperty("eventsStored").GetInt64());
        Assert.Equal(corpus.Count, stats.GetProperty("deadLettered").GetInt64());
        Assert.Equal(validIds.Count, EdgeHost.Feature(await edge.ProfileAsync("loyalty:L-good"), "events_total"));

        var health = await edge.GetJsonAsync("/api/health");
        Assert.Equal("ok", health.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Event_for_another_store_is_dead_lettered_naming_store_id()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("pos-other");
        var payload = TestEvents.Json("other-1", storeId: "other").Bytes();

        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic("other"), payload);

        var letter = Assert.Single(await edge.DeadLettersAsync(10));
        Assert.Equal("storeId", letter.GetProperty("field").GetString());
        Assert.Contains("other", letter.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("ep/v1/other/events", letter.GetProperty("topic").GetString());
        Assert.Equal(0, edge.Count("SELECT COUNT(*) FROM events"));
        Assert.Equal(1, (await edge.StatsAsync()).GetProperty("deadLettered").GetInt64());
    }

    [Fact]
    public async Task Messages_on_other_topics_are_neither_stored_nor_dead_lettered()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("store-app");

        await EdgeHost.AckedAsync(client, "store/screens/hello", Encoding.UTF8.GetBytes("not an event"));
        await EdgeHost.AckedAsync(client, "ep/v1/store-t/other", TestEvents.JsonBytes("side-1"));
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("main-1"));

        var stats = await edge.StatsAsync();
        Assert.Equal(1, stats.GetProperty("eventsStored").GetInt64());
        Assert.Equal(0, stats.GetProperty("deadLettered").GetInt64());
        Assert.Empty(await edge.DeadLettersAsync(10));
        Assert.Equal(JsonValueKind.Array, (await edge.GetJsonAsync("/api/deadletters?limit=5")).ValueKind);
    }
}
