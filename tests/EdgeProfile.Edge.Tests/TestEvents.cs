using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Tests;

/// <summary>Builds v1 events (JSON and protobuf) for tests.</summary>
public static class TestEvents
{
    public static JsonObject Json(string eventId, string loyaltyId = "L-1", string type = "purchase", double amount = 10,
        string? storeId = EdgeHost.StoreId, DateTimeOffset? at = null, string channel = "pos")
    {
        var e = new JsonObject
        {
            ["eventId"] = eventId,
            ["type"] = type,
            ["occurredAt"] = (at ?? DateTimeOffset.UtcNow.AddMinutes(-1)).ToString("O"),
            ["channel"] = channel,
            ["customer"] = new JsonObject { ["loyaltyId"] = loyaltyId },
            ["product"] = new JsonObject { ["sku"] = "SKU-1", ["name"] = "Stroller X", ["category"] = "Baby & Toddler > Strollers", ["price"] = amount },
            ["quantity"] = 1,
            ["amount"] = amount,
            ["currency"] = "CNY",
        };
        if (storeId is not null)
        {
            e["storeId"] = storeId;
        }

        return e;
    }

    public static byte[] Bytes(this JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    public static byte[] JsonBytes(string eventId, string loyaltyId = "L-1", double amount = 10) => Json(eventId, loyaltyId, amount: amount).Bytes();

    public static V1.Event Proto(string eventId, string loyaltyId = "L-1", double amount = 10, string storeId = EdgeHost.StoreId) => new()
    {
        EventId = eventId,
        Type = "purchase",
        OccurredAt = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O"),
        StoreId = storeId,
        Channel = "app",
        Customer = new V1.Customer { LoyaltyId = loyaltyId },
        Product = new V1.Product { Sku = "SKU-PB", Category = "Toys > Blocks", Price = amount },
        Quantity = 1,
        Amount = amount,
    };

    public static byte[] ProtoBytes(string eventId, string loyaltyId = "L-1", double amount = 10) => Proto(eventId, loyaltyId, amount).ToByteArray();

    public static string JsonTopic(string storeId = EdgeHost.StoreId) => $"ep/v1/{storeId}/events";

    public static string ProtoTopic(string storeId = EdgeHost.StoreId) => $"ep/v1/{storeId}/events.pb";
}
