using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.IntegrationTests.Infrastructure;
using EdgeProfile.Models;
using EdgeProfile.Models.Onnx;

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
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly string[] Features = ["purchases_30d", "spend_30d", "events_7d"];

    [Fact]
    public async Task The_hub_shows_each_stores_scores_of_a_customer_and_follows_a_new_model()
    {
        using var dir = new TempDirectory("store-scores");
        var hub = await HubHost.StartAsync(dir.Sub("hub"), Ports.Free(), OperatorToken, output);
        var edges = new Dictionary<string, InProcessEdge>();
        try
        {
            foreach (var store in new[] { "store-1", "store-2" })
            {
                var token = await hub.CreateEnrollmentTokenAsync(store);
                edges[store] = await InProcessEdge.StartAsync(store, dir.Sub(store), Ports.Free(), output,
                    $"--Edge:HubUrl={hub.Address}", $"--Edge:EnrollmentToken={token}");
            }

            foreach (var (version, seed) in new[] { ("s-1", 1), ("s-2", 2) })
            {
                await Cli(dir.Path, "models", "register", WriteModel(dir.Sub(version + ".onnx"), version, seed));
            }

            await Cli(dir.Path, "models", "deploy", "s-1");
            foreach (var edge in edges.Values)
            {
                await Poll.UntilAsync(() => edge.Api.StatsAsync(), s => s.GetProperty("modelVersion").GetString() == "s-1", Wait, $"{edge.StoreId} to serve s-1");
            }

            // The same member buys at both stores: the hub's profile carries both stores' scores, by s-1.
            await PurchaseAsync(edges["store-1"], "ss-1", "L-ss", 120);
            await PurchaseAsync(edges["store-2"], "ss-2", "L-ss", 80);
            var first = await Poll.UntilAsync(() => hub.ProfileAsync("loyalty:L-ss"),
                p => ModelOf(p, "store-1") == "s-1" && ModelOf(p, "store-2") == "s-1", Wait, "the hub to show both stores' s-1 scores");
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

            // A new model at store-1: it re-scores its customers and the hub follows; store-2's scores stay s-1.
            await Cli(dir.Path, "models", "deploy", "s-2", "--stores", "store-1");
            var second = await Poll.UntilAsync(() => hub.ProfileAsync("loyalty:L-ss"),
                p => ModelOf(p, "store-1") == "s-2", Wait, "the hub to show store-1's s-2 scores");
            output.WriteLine(second!.Value.GetProperty("scores").ToString());
            Assert.Equal("s-1", ModelOf(second, "store-2"));
            Assert.All(second.Value.GetProperty("scores").EnumerateArray().Where(s => s.GetProperty("storeId").GetString() == "store-1"),
                s => Assert.Equal("s-2", s.GetProperty("model").GetString()));
        }
        finally
        {
            foreach (var edge in edges.Values)
            {
                await edge.DisposeAsync();
            }

            await hub.DisposeAsync();
        }

        async Task<string> Cli(string workingDirectory, params string[] args)
        {
            var result = await CliProcess.RunAsync(workingDirectory, Wait, [.. args, "--hub", hub.Address.ToString(), "--token", OperatorToken]);
            Assert.True(result.ExitCode == 0, $"edgeprofile {string.Join(' ', args)}: {result.Stderr}");
            return result.Stdout;
        }
    }

    /// <summary>The model version of <paramref name="storeId"/>'s scores on a hub profile, or null when it has none.</summary>
    private static string? ModelOf(JsonElement? profile, string storeId) =>
        profile?.GetProperty("scores").EnumerateArray()
            .Where(s => s.GetProperty("storeId").GetString() == storeId)
            .Select(s => s.GetProperty("model").GetString())
            .FirstOrDefault();

    private static async Task PurchaseAsync(InProcessEdge edge, string id, string loyalty, double price)
    {
        var ev = ScenarioEvents.Build(id, "purchase", edge.StoreId, "pos", DateTimeOffset.UtcNow.AddMinutes(-5), new JsonObject { ["loyaltyId"] = loyalty },
            product: new JsonObject { ["sku"] = "SKU-1", ["category"] = "Baby > Strollers", ["price"] = price });
        await ScenarioEvents.PublishAsync(edge.MqttPort, edge.StoreId, ev);
    }

    /// <summary>A small seeded MMoE over three built-in features, exported with its version in the metadata.</summary>
    private static string WriteModel(string path, string version, int seed)
    {
        var spec = new ModelSpec(Features, 2, [4], [], [new TaskSpec("repurchase_30d", TaskKind.Binary), new TaskSpec("ltv_90d", TaskKind.Regression)]);
        var random = new Random(seed);
        DenseWeights Dense(int inputs, int outputs) => new(inputs, outputs,
            [.. Enumerable.Range(0, inputs * outputs).Select(_ => (float)(random.NextDouble() - 0.5))],
            [.. Enumerable.Range(0, outputs).Select(_ => (float)(random.NextDouble() - 0.5))]);
        var weights = new ModelWeights(spec,
            [.. Features.Select(_ => 0f)], [.. Features.Select(_ => 1f)],
            [.. Enumerable.Range(0, spec.Experts).Select(_ => (IReadOnlyList<DenseWeights>)[Dense(Features.Length, 4)])],
            [.. spec.Tasks.Select(_ => Dense(Features.Length, spec.Experts))],
            [.. spec.Tasks.Select(t => (IReadOnlyList<DenseWeights>)[Dense(spec.ExpertOutputs, t.Outputs)])]);
        File.WriteAllBytes(path, OnnxExporter.Export(weights, new ExportOptions { Int8 = true, Metadata = new Dictionary<string, string> { ["model_version"] = version } }));
        return path;
    }
}
