using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// The seed's backpack scenario through MQTT, gRPC and the hub's downlink: a customer searches in the app (CDN edge)
/// at noon, buys in store 2 in the afternoon where the clerk also scans her app member code; the hub holds one profile
/// across both channels, and store 2's own profile of her now shows the online search.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class OmnichannelTests(ITestOutputHelper output)
{
    private const string OperatorToken = "it-omni-token-0123456789";

    [Fact]
    public async Task App_search_reaches_the_store_where_she_buys_once_the_clerk_links_her_member_code()
    {
        using var dir = new TempDirectory("omni");
        await using var hub = await HubHost.StartAsync(dir.Sub("hub"), Ports.Free(), OperatorToken, output);
        var edges = new Dictionary<string, (InProcessEdge Edge, int Port)>();
        foreach (var store in new[] { "cdn-1", "store-2" })
        {
            var token = await hub.CreateEnrollmentTokenAsync(store, store.StartsWith("cdn", StringComparison.Ordinal) ? "cdn" : "store");
            var port = Ports.Free();
            edges[store] = (await InProcessEdge.StartAsync(store, dir.Sub(store), port, output,
                $"--Edge:HubUrl={hub.Address}", $"--Edge:EnrollmentToken={token}", "--Edge:Uplink:MaxBackoff=00:00:01"), port);
        }

        try
        {
            // "Noon" and "afternoon": two hours apart, within the last few hours.
            var noon = DateTimeOffset.UtcNow.AddHours(-3);
            await ScenarioEvents.PublishAsync(edges["cdn-1"].Port, "cdn-1", ScenarioEvents.Build("omni-1", "search", "cdn-1", "app", noon, new JsonObject { ["appUserId"] = "u-77" }, text: "business backpack"));
            await Poll.UntilAsync(() => hub.ProfileAsync("app:u-77"), p => p is not null, TimeSpan.FromSeconds(30), "the app search to reach the hub");

            await ScenarioEvents.PublishAsync(edges["store-2"].Port, "store-2", ScenarioEvents.Build("omni-2", "purchase", "store-2", "pos", noon.AddHours(2),
                new JsonObject { ["loyaltyId"] = "L-1002", ["appUserId"] = "u-77" }, product: new JsonObject { ["sku"] = "BP-1", ["category"] = "Bags > Backpacks", ["price"] = 499.0 }));

            // One global profile, both channels.
            var global = await Poll.UntilAsync(() => hub.ProfileAsync("loyalty:L-1002"),
                p => p is { } profile && profile.GetProperty("identifiers").GetArrayLength() == 2, TimeSpan.FromSeconds(30), "the hub to link L-1002 and u-77");
            Assert.Equal(global!.Value.GetProperty("profileId").GetString(), (await hub.ProfileAsync("app:u-77"))!.Value.GetProperty("profileId").GetString());
            Assert.Equal(["app", "pos"], global.Value.GetProperty("global").GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal("business backpack", global.Value.GetProperty("searches")[0].GetProperty("text").GetString());

            // Store 2's own profile of her carries the online interest, pushed down by the hub.
            var local = await Poll.UntilAsync(() => edges["store-2"].Edge.Api.ProfileAsync("loyalty:L-1002"),
                p => p is { } profile && profile.TryGetProperty("global", out var g) && g.ValueKind == JsonValueKind.Object && g.GetProperty("searches").GetArrayLength() > 0,
                TimeSpan.FromSeconds(30), "store-2 to receive the global view");
            var pushed = local!.Value.GetProperty("global");
            output.WriteLine(pushed.ToString());
            Assert.Equal(global.Value.GetProperty("profileId").GetString(), pushed.GetProperty("profileId").GetString());
            var search = pushed.GetProperty("searches")[0];
            Assert.Equal(("business backpack", "cdn-1", "app"), (search.GetProperty("text").GetString(), search.GetProperty("storeId").GetString(), search.GetProperty("channel").GetString()));
            Assert.Equal(["app", "pos"], pushed.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
            Assert.Contains(local.Value.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.Contains("online interest: searched \"business backpack\"", StringComparison.Ordinal));
            Assert.Contains(pushed.GetProperty("reasonsZh").EnumerateArray(), r => r.GetString()!.Contains("business backpack", StringComparison.Ordinal));

            // The CDN edge learns of the store purchase too.
            var cdn = await Poll.UntilAsync(() => edges["cdn-1"].Edge.Api.ProfileAsync("app:u-77"),
                p => p is { } profile && profile.TryGetProperty("global", out var g) && g.ValueKind == JsonValueKind.Object && g.GetProperty("stores").GetArrayLength() == 2,
                TimeSpan.FromSeconds(30), "cdn-1 to receive the global view");
            Assert.Contains("loyalty:L-1002", cdn!.Value.GetProperty("global").GetProperty("identifiers").EnumerateArray().Select(i => i.GetString()));
        }
        finally
        {
            foreach (var (edge, _) in edges.Values)
            {
                await edge.DisposeAsync();
            }
        }
    }
}
