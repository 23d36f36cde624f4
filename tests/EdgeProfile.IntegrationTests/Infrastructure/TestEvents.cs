using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>One v1 JSON event ready to publish: its idempotency key and its bytes.</summary>
public sealed record TestEvent(string EventId, int Customer, byte[] Payload)
{
    /// <summary>The payload as one line of text (mosquitto_pub -l, paho scripts).</summary>
    public string Line => Encoding.UTF8.GetString(Payload);
}

/// <summary>Valid contract v1 purchase events (contracts.md §1) for a store.</summary>
public static class TestEvents
{
    /// <summary>The event topic of a store.</summary>
    public static string Topic(string storeId) => $"ep/v1/{storeId}/events";

    /// <summary>
    /// <paramref name="count"/> purchases with unique ids <c>{prefix}-000000</c>.. spread over <paramref name="customers"/>
    /// loyalty customers <c>L-0</c>.., occurred within the last hour.
    /// </summary>
    public static List<TestEvent> Purchases(string storeId, string prefix, int count, int customers = 100)
    {
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var list = new List<TestEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var customer = i % customers;
            var id = $"{prefix}-{i:D6}";
            var at = start.AddMilliseconds(i * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            var json = JsonSerializer.Serialize(new
            {
                eventId = id,
                type = "purchase",
                occurredAt = at,
                storeId,
                channel = "pos",
                customer = new { loyaltyId = $"L-{customer}" },
                product = new { sku = $"SKU-{i % 37}", name = "Stroller X", category = "Baby & Toddler > Strollers", price = 12.5 },
                quantity = 1,
                amount = 12.5,
                currency = "CNY",
            });
            list.Add(new TestEvent(id, customer, Encoding.UTF8.GetBytes(json)));
        }

        return list;
    }
}

/// <summary>One hand-written event, for scenario tests, and publishing it with its acknowledgement checked.</summary>
public static class ScenarioEvents
{
    /// <summary>
    /// A v1 JSON event: a purchase of <paramref name="product"/> (quantity 1, amount = price) when one is given, else
    /// an event of <paramref name="type"/> with an optional <paramref name="text"/> (a search query).
    /// </summary>
    public static TestEvent Build(string id, string type, string store, string channel, DateTimeOffset at, System.Text.Json.Nodes.JsonObject customer,
        string? text = null, System.Text.Json.Nodes.JsonObject? product = null)
    {
        ArgumentNullException.ThrowIfNull(customer);
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["eventId"] = id,
            ["type"] = type,
            ["occurredAt"] = at.ToString("O", CultureInfo.InvariantCulture),
            ["storeId"] = store,
            ["channel"] = channel,
            ["customer"] = customer,
        };
        if (text is not null)
        {
            json["text"] = text;
        }

        if (product is not null)
        {
            json["product"] = product;
            json["quantity"] = 1;
            json["amount"] = product["price"]!.GetValue<double>();
        }

        return new TestEvent(id, 0, Encoding.UTF8.GetBytes(json.ToJsonString()));
    }

    /// <summary>Publishes <paramref name="events"/> in order (one client, one in flight) and asserts every one was acknowledged.</summary>
    public static async Task PublishAsync(int port, string store, params TestEvent[] events)
    {
        var report = await MqttLoad.RunAsync(new LoadPlan("127.0.0.1", port, TestEvents.Topic(store), events) { Clients = 1, InflightPerClient = 1, ClientIdPrefix = "scenario-" + store });
        Assert.Equal(events.Length, report.Acked.Count);
    }
}
