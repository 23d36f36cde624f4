using System.Text.Json;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// Store scores on the hub's global profile: stores serving the models the hub assigns (<c>edgeprofile models
/// register/deploy</c>) send their customers' scores up with the uplink, and the hub shows each store's latest, with
/// the model version that produced them.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class StoreScoresTests(ITestOutputHelper output)
{
    private const string OperatorToken = "it-scores-token-0123456789";

    [Fact]
    public async Task The_hub_shows_each_stores_scores_of_a_customer_and_follows_a_new_model()
    {
        using var dir = new TempDirectory("store-scores");
        await using var fleet = await ModelFleet.StartAsync(dir, OperatorToken, output, "store-1", "store-2");
        var (hub, edges) = (fleet.Hub, fleet.Edges);
        foreach (var (version, seed) in new[] { ("s-1", 1), ("s-2", 2) })
        {
            await fleet.CliAsync(dir.Path, "models", "register", ModelFleet.WriteModel(dir.Sub(version + ".onnx"), version, seed));
        }

        await fleet.CliAsync(dir.Path, "models", "deploy", "s-1");
        foreach (var store in edges.Keys)
        {
            await fleet.ServingAsync(store, "s-1");
        }

        // The same member buys at both stores: the hub's profile carries both stores' scores, by s-1.
        await fleet.PurchaseAsync("store-1", "ss-1", "L-ss", 120);
        await fleet.PurchaseAsync("store-2", "ss-2", "L-ss", 80);
        var first = await Poll.UntilAsync(() => hub.ProfileAsync("loyalty:L-ss"),
            p => ModelOf(p, "store-1") == "s-1" && ModelOf(p, "store-2") == "s-1", ModelFleet.Wait, "the hub to show both stores' s-1 scores");
        output.WriteLine(first!.Value.GetProperty("scores").ToString());
        var scores = first.Value.GetProperty("scores").EnumerateArray().ToList();
        Assert.Equal(4, scores.Count); // two tasks at each of two stores
        Assert.Equal(["repurchase_30d", "ltv_90d"], scores.Where(s => s.GetProperty("storeId").GetString() == "store-1").Select(s => s.GetProperty("task").GetString()));
        Assert.All(scores, s => Assert.True(double.IsFinite(s.GetProperty("value").GetDouble())));

        // Matches what the store itself shows for the customer.
        var atStore = await edges["store-1"].Api.ProfileAsync("loyalty:L-ss");
        var local = atStore!.Value.GetProperty("scores").EnumerateArray().Single(s => s.GetProperty("task").GetString() == "repurchase_30d");
        var global = scores.Single(s => s.GetProperty("storeId").GetString() == "store-1" && s.GetProperty("task").GetString() == "repurchase_30d");
        Assert.Equal(local.GetProperty("value").GetDouble(), global.GetProperty("value").GetDouble(), 6);
        Assert.Equal(local.GetProperty("scoredAt").GetDateTimeOffset(), global.GetProperty("scoredAt").GetDateTimeOffset());

        // Why: the stores explained their decisions (the int8 model read back into its weights) and sent the
        // explanations up; the hub shows the reasons beside each score, and `edgeprofile explain` reads them at the
        // hub (every store's decision) and at a store (its stored decision, reproduced from the archived model).
        var explained = await Poll.UntilAsync(() => hub.ProfileAsync("loyalty:L-ss"),
            p => p!.Value.GetProperty("scores").EnumerateArray().All(x => x.TryGetProperty("reasons", out _) && x.TryGetProperty("reasonsZh", out _)),
            ModelFleet.Wait, "the hub to show the stores' reasons");
        Assert.All(explained!.Value.GetProperty("scores").EnumerateArray(), x => Assert.NotEmpty(x.GetProperty("reasons").EnumerateArray()));
        var atHub = await fleet.CliAsync(dir.Path, "explain", "loyalty:L-ss", "--task", "repurchase", "--lang", "zh-CN", "--json");
        using (var doc = JsonDocument.Parse(atHub))
        {
            var decisions = doc.RootElement.GetProperty("decisions").EnumerateArray().ToList();
            Assert.Equal(["store-1", "store-2"], decisions.Select(d => d.GetProperty("storeId").GetString()).Order());
            var reason = decisions[0].GetProperty("explanations")[0].GetProperty("reasons")[0].GetProperty("text").GetString()!;
            Assert.Contains(reason, c => c >= '\u4e00' && c <= '\u9fff');
        }

        var atEdge = await CliProcess.RunAsync(dir.Path, ModelFleet.Wait, "explain", "loyalty:L-ss", "--edge", edges["store-1"].Api.BaseAddress.ToString(), "--task", "repurchase");
        output.WriteLine(atEdge.Stdout);
        Assert.True(atEdge.ExitCode == 0, atEdge.Stderr);
        Assert.Contains("reproduced", atEdge.Stdout, StringComparison.Ordinal);
        Assert.Contains("repurchase_30d", atEdge.Stdout, StringComparison.Ordinal);
        var unknown = await CliProcess.RunAsync(dir.Path, ModelFleet.Wait, "explain", "loyalty:L-nobody", "--edge", edges["store-1"].Api.BaseAddress.ToString());
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("no customer loyalty:L-nobody", unknown.Stderr, StringComparison.Ordinal);
        var badLanguage = await CliProcess.RunAsync(dir.Path, ModelFleet.Wait, "explain", "loyalty:L-ss", "--lang", "fr");
        Assert.Equal(2, badLanguage.ExitCode);
        Assert.Contains("--lang 'fr'", badLanguage.Stderr, StringComparison.Ordinal);

        // A new model at store-1: it re-scores its customers and the hub follows; store-2's scores stay s-1.
        await fleet.CliAsync(dir.Path, "models", "deploy", "s-2", "--stores", "store-1");
        var second = await Poll.UntilAsync(() => hub.ProfileAsync("loyalty:L-ss"),
            p => ModelOf(p, "store-1") == "s-2", ModelFleet.Wait, "the hub to show store-1's s-2 scores");
        output.WriteLine(second!.Value.GetProperty("scores").ToString());
        Assert.Equal("s-1", ModelOf(second, "store-2"));
        Assert.All(second.Value.GetProperty("scores").EnumerateArray().Where(s => s.GetProperty("storeId").GetString() == "store-1"),
            s => Assert.Equal("s-2", s.GetProperty("model").GetString()));
    }

    /// <summary>The model version of <paramref name="storeId"/>'s scores on a hub profile, or null when it has none.</summary>
    private static string? ModelOf(JsonElement? profile, string storeId) =>
        profile?.GetProperty("scores").EnumerateArray()
            .Where(s => s.GetProperty("storeId").GetString() == storeId)
            .Select(s => s.GetProperty("model").GetString())
            .FirstOrDefault();
}
