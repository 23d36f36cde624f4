using EdgeProfile.Edge.Scoring;
using EdgeProfile.Models;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Serving;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EdgeProfile.Edge.Tests;

/// <summary>
/// The canary's local holdout: a candidate model is compared with the serving one on this store's own customers,
/// point-in-time from its log, and refused when its AUC drops by more than <c>Edge:Models:MaxAucDrop</c>.
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class ModelHoldoutTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_candidate_worse_on_the_stores_own_customers_is_refused_and_the_serving_model_keeps_serving()
    {
        using var dir = new TempDir();
        var good = Linear(Path.Combine(dir.Path, "good.onnx"), "good-1", weight: 1);
        await using var edge = await EdgeHost.StartAsync(Path.Combine(dir.Path, "edge"), $"--Edge:Models:File={good}", "--Edge:Models:HoldoutMinRows=50");
        var scoring = edge.App.Services.GetRequiredService<ModelScoring>();

        // An empty log cannot label anyone: the candidate deploys on the canary row alone, and says so.
        var early = scoring.Deploy(await File.ReadAllBytesAsync(Linear(Path.Combine(dir.Path, "good2.onnx"), "good-2", weight: 2)), "good-2");
        output.WriteLine(early.Message);
        Assert.True(early.Accepted, early.Message);
        Assert.Contains("no local holdout: the log covers 0 days", early.Message, StringComparison.Ordinal);

        // 120 days of history: 60 loyal customers buy every 5 days throughout; 60 lapsing ones every 15 days until
        // 45 days ago. As of 30 days before the last event, loyal customers have more purchases in 30 days and all buy
        // again within 30 days; lapsing ones have fewer and none buys again.
        var end = DateTimeOffset.UtcNow.AddHours(-2);
        var events = new List<(DateTimeOffset At, string Id, string Loyalty)>();
        for (var c = 0; c < 60; c++)
        {
            for (var day = 120; day >= 0; day -= 5)
            {
                events.Add((end.AddDays(-day).AddMinutes(c), $"loyal-{c}-{day}", $"L-loyal-{c}"));
            }

            for (var day = 120; day >= 45; day -= 15)
            {
                events.Add((end.AddDays(-day).AddMinutes(c), $"lapse-{c}-{day}", $"L-lapse-{c}"));
            }
        }

        using var client = await edge.ConnectAsync("history");
        var ordered = events.OrderBy(e => e.At).Select(e => TestEvents.Json(e.Id, e.Loyalty, amount: 20, at: e.At).Bytes()).ToList();
        var published = await EdgeHost.PublishManyAsync(client, TestEvents.JsonTopic(), ordered, inFlight: 64);
        Assert.All(published, p => Assert.True(p.IsSuccess, p.ReasonString));
        await edge.WaitForStatsAsync(s => s.GetProperty("eventsStored").GetInt64() == ordered.Count, "the history stored");
        Assert.Equal(0, (await edge.StatsAsync()).GetProperty("lateEvents").GetInt64());

        // Inverted: it ranks lapsing customers above loyal ones.
        var bad = scoring.Deploy(await File.ReadAllBytesAsync(Linear(Path.Combine(dir.Path, "bad.onnx"), "bad-1", weight: -1)), "bad-1");
        output.WriteLine(bad.Message);
        Assert.False(bad.Accepted);
        Assert.Equal(DeployFailure.AucDrop, bad.Failure);
        Assert.Contains("task repurchase_30d AUC 0.0000 on the holdout (120 rows) vs 1.0000 for serving model good-2", bad.Message, StringComparison.Ordinal);
        Assert.Contains("local holdout: 120 customers", bad.Message, StringComparison.Ordinal);
        Assert.Equal("good-2", scoring.Version);
        Assert.Equal("good-2", (await edge.StatsAsync()).GetProperty("modelVersion").GetString());

        // A candidate as good as the serving model passes, with its holdout AUC in the message.
        var better = scoring.Deploy(await File.ReadAllBytesAsync(Linear(Path.Combine(dir.Path, "good3.onnx"), "good-3", weight: 3)), "good-3");
        output.WriteLine(better.Message);
        Assert.True(better.Accepted, better.Message);
        Assert.Contains("repurchase_30d AUC 1.0000 (good-2: 1.0000)", better.Message, StringComparison.Ordinal);
        Assert.Equal("good-3", scoring.Version);

        // The edge's model API tells the story: serving, the rollback target, and every candidate's verdict.
        var models = await edge.GetJsonAsync("/api/models");
        Assert.Equal("good-3", models.GetProperty("serving").GetProperty("version").GetString());
        Assert.Equal("good-2", models.GetProperty("previous").GetProperty("version").GetString());
        Assert.Equal(["purchases_30d"], models.GetProperty("serving").GetProperty("features").EnumerateArray().Select(f => f.GetString()));
        var history = models.GetProperty("history").EnumerateArray().Select(h => (h.GetProperty("event").GetString(), h.GetProperty("version").GetString())).ToList();
        Assert.Equal([("deployed", "good-3"), ("refused", "bad-1"), ("deployed", "good-2"), ("deployed", "good-1")], history);
        Assert.Contains("AUC 0.0000 on the holdout", models.GetProperty("history")[1].GetProperty("message").GetString(), StringComparison.Ordinal);

        // A file that is not a model is refused before the host loads it, and recorded the same way.
        var junk = scoring.Deploy([1, 2, 3], "junk-1");
        Assert.False(junk.Accepted);
        Assert.Equal(DeployFailure.LoadError, junk.Failure);
        Assert.StartsWith("model junk-1 refused: the file: not a valid ONNX model (3 bytes)", junk.Message, StringComparison.Ordinal);
        Assert.Equal("refused", (await edge.GetJsonAsync("/api/models")).GetProperty("history")[0].GetProperty("event").GetString());
    }

    /// <summary>repurchase_30d = sigmoid(weight · (purchases_30d − 3)): one feature, no hidden layers.</summary>
    private static string Linear(string path, string version, float weight)
    {
        var spec = new ModelSpec(["purchases_30d"], 1, [], [], [new TaskSpec("repurchase_30d", TaskKind.Binary)]);
        var weights = new ModelWeights(spec, [3], [1], [[]], [], [[new DenseWeights(1, 1, [weight], [0])]]);
        File.WriteAllBytes(path, OnnxExporter.Export(weights, new ExportOptions { Metadata = new Dictionary<string, string> { ["model_version"] = version } }));
        return path;
    }
}
