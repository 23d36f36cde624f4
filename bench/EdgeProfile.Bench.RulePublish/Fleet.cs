using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeProfile.Bench.RulePublish;

/// <summary>One store of the fleet: its agent process, its local API and its embedded broker's port.</summary>
internal sealed record EdgeNode(string Store, Child Process, HttpClient Http, int Mqtt);

/// <summary>What the bench does to the fleet: features, customers, rule files, and reading profiles back.</summary>
internal static class Fleet
{
    public static JsonObject FeatureDefinitions() => new()
    {
        ["definitions"] = new JsonArray(
            Definition("baby_purchases_30d", "Baby & Toddler", "Baby purchases in the last 30 days"),
            Definition("purchases_30d", null, "Purchases in the last 30 days")),
    };

    /// <summary>The pseudonymous loyalty key of customer <paramref name="index"/> at <paramref name="store"/> (even: baby buyer).</summary>
    public static string Sentinel(string store, int index) => $"loyalty:C{index:D6}-{store}";

    /// <summary>A 20-rule file: the rule under test (baby buyers) and 19 rules that read the other feature.</summary>
    public static string RuleFile(string tag)
    {
        var text = new StringBuilder("# bench-rule-publish: one rule under test and nineteen others every store evaluates too\n");
        text.Append(CultureInfo.InvariantCulture, $"""
            @rule {tag}
            @version 1
            @en "Bought baby products in the last 30 days"
            @zh "近30天购买过母婴商品"
            tag(C, {tag}) :- feature(C, baby_purchases_30d, N), N >= 1.

            """);
        for (var k = 1; k <= 19; k++)
        {
            text.Append(CultureInfo.InvariantCulture, $"""
                @rule frequent_{k}
                @version 1
                @en "At least {k + 10} purchases in 30 days"
                @zh "近30天购买至少{k + 10}次"
                tag(C, frequent_{k}) :- feature(C, purchases_30d, N), N >= {k + 10}.

                """);
        }

        return text.ToString();
    }

    /// <summary>One purchase per customer at the store's embedded broker (QoS 1, acknowledged).</summary>
    public static async Task PublishCustomersAsync(EdgeNode edge, int customers)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", edge.Mqtt).WithClientId($"bench-{edge.Store}").WithTimeout(TimeSpan.FromSeconds(30)).Build());
        var now = DateTimeOffset.UtcNow;
        using var gate = new SemaphoreSlim(64);
        var pending = new List<Task>(customers);
        for (var i = 0; i < customers; i++)
        {
            var baby = i % 2 == 0;
            var json = new JsonObject
            {
                ["eventId"] = $"{edge.Store}-{i}",
                ["type"] = "purchase",
                ["occurredAt"] = now.AddMinutes(-30).AddMilliseconds(i).ToString("O", CultureInfo.InvariantCulture),
                ["storeId"] = edge.Store,
                ["channel"] = "pos",
                ["customer"] = new JsonObject { ["loyaltyId"] = $"C{i:D6}-{edge.Store}" },
                ["product"] = new JsonObject
                {
                    ["sku"] = baby ? "SKU-BB-1020" : "SKU-PH-2001",
                    ["category"] = baby ? "Baby & Toddler > Feeding > Formula" : "Electronics > Communications > Telephony > Mobile Phones",
                    ["price"] = baby ? 268.0 : 2999.0,
                },
                ["quantity"] = 1,
                ["amount"] = baby ? 268.0 : 2999.0,
            };
            await gate.WaitAsync();
            var message = new MqttApplicationMessageBuilder().WithTopic($"ep/v1/{edge.Store}/events").WithPayload(Encoding.UTF8.GetBytes(json.ToJsonString()))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            pending.Add(PublishAsync(client, message, gate));
        }

        await Task.WhenAll(pending);
        await client.DisconnectAsync();
    }

    public static async Task WaitHealthyAsync(HttpClient http, Child process)
    {
        await UntilAsync(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process.Name} exited before it was healthy:\n{process.Tail()}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/api/health", UriKind.Relative));
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(120), $"{process.Name} to be healthy");
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, int pollMs = 50)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting for {what}");
            }

            await Task.Delay(pollMs);
        }
    }

    public static async Task<JsonElement> StatsAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/stats", UriKind.Relative)));
        return doc.RootElement.Clone();
    }

    public static async Task<JsonElement?> ProfileAsync(HttpClient http, string key)
    {
        using var response = await http.GetAsync(new Uri("/api/profiles/" + Uri.EscapeDataString(key), UriKind.Relative));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.Clone();
    }

    public static double? Feature(JsonElement? profile, string name) =>
        profile?.GetProperty("features").EnumerateArray()
            .Where(f => f.GetProperty("name").GetString() == name && f.GetProperty("value").ValueKind == JsonValueKind.Number)
            .Select(f => (double?)f.GetProperty("value").GetDouble()).FirstOrDefault();

    public static bool HasTag(JsonElement? profile, string tag) =>
        profile?.GetProperty("tags").EnumerateArray().Any(t => t.GetProperty("name").GetString() == tag) == true;

    public static string? TagReason(JsonElement? profile, string tag) =>
        profile?.GetProperty("tags").EnumerateArray().Where(t => t.GetProperty("name").GetString() == tag).Select(t => t.GetProperty("reason").GetString()).FirstOrDefault();

    private static JsonObject Definition(string name, string? categoryPrefix, string description)
    {
        var definition = new JsonObject
        {
            ["name"] = name,
            ["eventTypes"] = new JsonArray("purchase"),
            ["window"] = new JsonObject { ["kind"] = "sliding", ["size"] = "30d", ["hop"] = "1d" },
            ["aggregation"] = new JsonObject { ["kind"] = "count" },
            ["description"] = description,
            ["owner"] = "bench",
        };
        if (categoryPrefix is not null)
        {
            definition["categoryPrefix"] = categoryPrefix;
        }

        return definition;
    }

    private static async Task PublishAsync(IMqttClient client, MqttApplicationMessage message, SemaphoreSlim gate)
    {
        try
        {
            var result = await client.PublishAsync(message);
            if (!result.IsSuccess)
            {
                throw new InvalidOperationException($"publish refused: {result.ReasonCode}");
            }
        }
        finally
        {
            gate.Release();
        }
    }
}
