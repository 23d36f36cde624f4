using System.Text;
using System.Text.Json.Nodes;

namespace EdgeProfile.Core.Tests;

/// <summary>The example event of contracts.md §1, as a mutable JSON tree.</summary>
internal static class EventJson
{
    public const string StoreId = "store-001";

    /// <summary>The clock the example's occurredAt is 5 minutes behind.</summary>
    public static readonly DateTimeOffset Now = new(2026, 11, 29, 10, 20, 0, TimeSpan.Zero);

    public static JsonObject Example() => (JsonObject)JsonNode.Parse("""
        {
          "eventId": "b3f1c2e0-5d1a-4c55-9a57-0c6f0b7a9e11",
          "type": "purchase",
          "occurredAt": "2026-11-29T10:15:00.123Z",
          "storeId": "store-001",
          "channel": "pos",
          "customer": { "loyaltyId": "L-1002", "appUserId": "u-77", "email": "a@b.cn", "phone": "+8613800000000", "cardToken": "tok_9" },
          "product": { "sku": "SKU-123", "name": "Stroller X", "category": "Baby & Toddler > Strollers", "price": 1299.0 },
          "quantity": 1,
          "amount": 1299.0,
          "currency": "CNY",
          "text": "battery does not last",
          "attributes": { "campaign": "double11" }
        }
        """)!;

    public static byte[] Bytes(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());
}
