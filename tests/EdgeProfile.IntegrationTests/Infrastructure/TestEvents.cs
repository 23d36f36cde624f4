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
