using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Features;
using EdgeProfile.Explanations;
using EdgeProfile.Models;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Serving;

namespace EdgeProfile.Hub.Tests;

/// <summary>
/// Explanations at the hub: a store's explained decision travels with its scores, the global profile shows the
/// reasons beside each score, <c>/api/profiles/{key}/explanations</c> serves the store's explanation, and
/// <c>/api/models/{version}/importance</c> the registered version's global importance.
/// </summary>
public sealed class ExplanationHubTests
{
    private static readonly long At = Deltas.Day.ToUnixTimeMilliseconds();

    private static readonly string[] Features = ["purchases_30d", "spend_30d", "events_7d", "days_since_last_purchase"];

    [Fact]
    public async Task A_stores_explained_decision_shows_on_the_global_profile_and_over_the_explanations_api()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "loyalty:L-why", "loyalty:L-why", "app:u-why"));

        // What the edge does: explain the decision with the served file and send the explanation with the scores.
        var model = Model("xp-1", seed: 3);
        using var explainer = ModelExplainer.Create(model, "xp-1", DefaultFeatures.Set.Definitions);
        float[] row = [3, 120, 9, 2];
        var explanation = explainer.Explain(row);
        var scores = new CustomerScores
        {
            CustomerKey = "loyalty:L-why",
            ModelVersion = "xp-1",
            ScoredAtUnixMs = At + 1000,
            ScoresJson = JsonSerializer.Serialize(new { churn_90d = explanation.Outputs[0].Output }),
            ExplanationJson = explanation.ToJson(),
        };
        var ack = await store.Uplink.UploadAsync(new DeltaBatch { Scores = { scores } }, store.Headers);
        Assert.Equal(0, ack.ScoresRefused);

        var profile = await hub.ProfileAsync("app:u-why");
        var score = Assert.Single(profile.Scores);
        Assert.Equal(explanation.Outputs[0].ReasonsEn!.Select(r => r.Text), score.Reasons!);
        Assert.Equal(explanation.Outputs[0].ReasonsZh!.Select(r => r.Text), score.ReasonsZh!);

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/profiles/app:u-why/explanations?task=churn&lang=zh-CN"))
        using (var response = await hub.Http.SendAsync(request))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            using var doc = JsonDocument.Parse(body);
            var decision = Assert.Single(doc.RootElement.GetProperty("decisions").EnumerateArray());
            Assert.Equal(("store-001", "xp-1"), (decision.GetProperty("storeId").GetString(), decision.GetProperty("model").GetString()));
            var entry = Assert.Single(decision.GetProperty("explanations").EnumerateArray());
            Assert.Equal("churn_90d", entry.GetProperty("task").GetString());
            var phi = entry.GetProperty("attributions").EnumerateArray().Sum(a => a.GetProperty("phi").GetDouble());
            Assert.Equal(entry.GetProperty("output").GetDouble(), entry.GetProperty("base").GetDouble() + phi, 9);
            Assert.Equal(explanation.Outputs[0].ReasonsZh![0].Text, entry.GetProperty("reasons")[0].GetProperty("text").GetString());
        }

        using (var bad = await hub.Http.GetAsync("/api/profiles/app:u-why/explanations?lang=fr"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        using (var none = await hub.Http.GetAsync("/api/profiles/app:u-why/explanations?task=ltv"))
        {
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        }

        // An explanation that is not one, or explains another model than the scores', is refused with its scores.
        var broken = new DeltaBatch
        {
            Scores =
            {
                new CustomerScores { CustomerKey = "loyalty:L-why", ModelVersion = "xp-1", ScoredAtUnixMs = At + 2000, ScoresJson = """{"churn_90d":0.5}""", ExplanationJson = "{\"model\":" },
                new CustomerScores { CustomerKey = "loyalty:L-why", ModelVersion = "xp-2", ScoredAtUnixMs = At + 3000, ScoresJson = """{"churn_90d":0.5}""", ExplanationJson = explanation.ToJson() },
            },
        };
        Assert.Equal(2, (await store.Uplink.UploadAsync(broken, store.Headers)).ScoresRefused);
    }

    [Fact]
    public async Task A_registered_versions_global_importance_is_served_and_stored_when_it_is_deployed()
    {
        await using var hub = await TestHub.StartAsync();
        await hub.EnrollAsync("store-001");
        var model = Model("xp-imp", seed: 5);
        using (var content = new ByteArrayContent(model))
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var registered = await hub.Http.PostAsync("/api/models", content);
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        using (var deployed = await hub.Http.PostAsync("/api/models/xp-imp/deploy", null))
        {
            Assert.Equal(HttpStatusCode.OK, deployed.StatusCode);
        }

        using var explainer = ModelExplainer.Create(model, "xp-imp", DefaultFeatures.Set.Definitions);
        var expected = explainer.Importance();
        using var doc = JsonDocument.Parse(await hub.Http.GetStringAsync("/api/models/xp-imp/importance"));
        Assert.Equal("exact_shapley", doc.RootElement.GetProperty("method").GetString());
        var groups = doc.RootElement.GetProperty("outputs")[0].GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(explainer.Groups.Count, groups.Count);
        foreach (var g in groups)
        {
            var index = explainer.Groups.Names.ToList().IndexOf(g.GetProperty("group").GetString()!);
            Assert.Equal(expected[0][index], g.GetProperty("meanAbsPhi").GetDouble(), 12);
        }

        // Sorted, and the largest is the recency group this model leans on hardest.
        var values = groups.Select(g => g.GetProperty("meanAbsPhi").GetDouble()).ToList();
        Assert.Equal(values.OrderByDescending(v => v), values);
        Assert.Equal("recency", groups[0].GetProperty("group").GetString());

        // Stored by the deployment (or by the first request): the row is there either way.
        using (var connection = TestHub.OpenDatabase(hub.DataDir))
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT COUNT(*) FROM model_importance WHERE version = 'xp-imp'";
            Assert.Equal(1L, Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
        }

        using var unknown = await hub.Http.GetAsync("/api/models/no-such/importance");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    /// <summary>A churn model that leans hardest on days since the last purchase (weights 3 there, ±0.3 elsewhere),
    /// shipping a seeded background of a few rows.</summary>
    private static byte[] Model(string version, int seed)
    {
        var random = new Random(seed);
        var spec = new ModelSpec(Features, 1, [], [], [new TaskSpec("churn_90d", TaskKind.Binary)]);
        float[] w = [.. Features.Select(f => f == "days_since_last_purchase" ? 3f : (float)((random.NextDouble() - 0.5) * 0.6))];
        var weights = new ModelWeights(spec, [2, 100, 8, 20], [2, 80, 6, 25], [[]], [], [[new DenseWeights(Features.Length, 1, w, [0.1f])]]);
        var rows = Enumerable.Range(0, 8).Select(_ => new[] { (float)random.Next(0, 6), (float)random.Next(0, 300), (float)random.Next(0, 20), (float)random.Next(0, 90) }).ToList();
        return OnnxExporter.Export(weights, new ExportOptions
        {
            Metadata = new Dictionary<string, string>
            {
                [ModelArtifact.VersionMetadataKey] = version,
                [EdgeProfile.Models.Explaining.ExplanationBackground.MetadataKey] = EdgeProfile.Models.Explaining.ExplanationBackground.Sample(Features, rows, 8, seed, "test"),
            },
        });
    }
}
