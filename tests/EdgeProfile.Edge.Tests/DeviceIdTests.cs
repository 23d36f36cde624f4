using System.Text.Json.Nodes;
using Google.Protobuf;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Tests;

/// <summary>The additive <c>customer.deviceId</c> identifier, end to end through the edge's broker, log and API.</summary>
[Collection(EdgeCollection.Name)]
public sealed class DeviceIdTests
{
    [Fact]
    public async Task Event_whose_only_identifier_is_a_device_id_is_keyed_device_in_json_and_protobuf()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("kiosk-dev");
        var json = TestEvents.Json("dev-only-json", amount: 11);
        json["customer"] = new JsonObject { ["deviceId"] = "d-json" };
        var pb = TestEvents.Proto("dev-only-pb", amount: 12);
        pb.Customer = new V1.Customer { DeviceId = "d-pb" };

        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), json.Bytes());
        await EdgeHost.AckedAsync(client, TestEvents.ProtoTopic(), pb.ToByteArray());

        Assert.Empty(await edge.DeadLettersAsync(10));
        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM events WHERE event_id='dev-only-json' AND customer_key='device:d-json'"));
        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM events WHERE event_id='dev-only-pb' AND customer_key='device:d-pb'"));
        foreach (var (key, spend) in new[] { ("device:d-json", 11.0), ("device:d-pb", 12.0) })
        {
            var profile = await edge.ProfileAsync(key);
            Assert.Equal(key, profile.GetProperty("customerKey").GetString());
            Assert.Equal([key], profile.GetProperty("identifiers").EnumerateArray().Select(i => i.GetString()));
            Assert.Equal(spend, EdgeHost.Feature(profile, "spend_30d"));
        }
    }

    [Fact]
    public async Task Event_with_loyalty_and_device_ids_is_keyed_loyalty_then_device_whatever_the_field_order()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("pos-dev");

        // deviceId written first on purpose: the key order comes from the identifiers' strength, not the JSON.
        var json = TestEvents.Json("dev-loyal-json", amount: 5);
        json["customer"] = new JsonObject { ["deviceId"] = "d-7", ["loyaltyId"] = "L-7" };
        var pb = TestEvents.Proto("dev-loyal-pb", amount: 6);
        pb.Customer = new V1.Customer { DeviceId = "d-7", LoyaltyId = "L-7" };

        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), json.Bytes());
        await EdgeHost.AckedAsync(client, TestEvents.ProtoTopic(), pb.ToByteArray());

        Assert.Empty(await edge.DeadLettersAsync(10));
        Assert.Equal(2, edge.Count("SELECT COUNT(*) FROM events WHERE customer_key='loyalty:L-7'"));
        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM customer_keys WHERE key='device:d-7' AND customer_key='loyalty:L-7'"));
        var profile = await edge.ProfileAsync("loyalty:L-7");
        Assert.Equal(["loyalty:L-7", "device:d-7"], profile.GetProperty("identifiers").EnumerateArray().Select(i => i.GetString()));
        Assert.Equal(2, EdgeHost.Feature(profile, "events_total"));

        // The device key finds the same customer.
        var byDevice = await edge.ProfileAsync("device:d-7");
        Assert.Equal("loyalty:L-7", byDevice.GetProperty("customerKey").GetString());
    }

    [Fact]
    public async Task A_blocked_store_tablet_does_not_tie_two_customers_together_at_the_edge()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path, "--Edge:Identity:BlockedKeys:0=device:store-tablet");
        using var client = await edge.ConnectAsync("pos-tablet");
        foreach (var (id, loyalty, device) in new[] { ("tab-1", "L-1", "store-tablet"), ("tab-2", "L-2", "store-tablet"), ("tab-3", "L-3", "000000"), ("tab-4", "L-4", "000000") })
        {
            var json = TestEvents.Json(id, amount: 1);
            json["customer"] = new JsonObject { ["loyaltyId"] = loyalty, ["deviceId"] = device };
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), json.Bytes());
        }

        // Each event stays with its own customer; the blocked devices map to nobody.
        foreach (var n in new[] { 1, 2, 3, 4 })
        {
            Assert.Equal(1, edge.Count($"SELECT COUNT(*) FROM events WHERE event_id='tab-{n}' AND customer_key='loyalty:L-{n}'"));
        }

        Assert.Equal(0, edge.Count("SELECT COUNT(*) FROM customer_keys WHERE key IN ('device:store-tablet', 'device:000000')"));
    }
}
