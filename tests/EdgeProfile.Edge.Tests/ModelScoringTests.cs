using System.Diagnostics;
using System.Text.Json;
using EdgeProfile.Edge.Log;
using EdgeProfile.Edge.Scoring;
using EdgeProfile.Hosting;
using EdgeProfile.Models.Scoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace EdgeProfile.Edge.Tests;

/// <summary>Scoring on the edge (<c>Edge:Models:File</c>): scores on the profile follow the online features.</summary>
[Collection(EdgeCollection.Name)]
public sealed class ModelScoringTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Scores_on_the_profile_are_the_models_output_for_the_online_features_and_follow_them()
    {
        using var dir = new TempDir();
        var model = TestModels.Write(Path.Combine(dir.Path, "model.onnx"), version: "mmoe-test-1");
        var data = Path.Combine(dir.Path, "edge");
        using var reference = OnnxScorer.Load(model);
        var watch = Stopwatch.StartNew();
        JsonElement second;
        await using (var edge = await EdgeHost.StartAsync(data, $"--Edge:Models:File={model}"))
        {
            Assert.Equal("mmoe-test-1", (await edge.StatsAsync()).GetProperty("modelVersion").GetString());
            using var client = await edge.ConnectAsync("till-1");
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("sc-1", "L-sc", amount: 12));
            var first = await Poll.UntilAsync(() => edge.ProfileAsync("loyalty:L-sc"), p => Scored(p, reference, purchases: 1), "scores of the first purchase");
            output.WriteLine($"first scores {watch.Elapsed.TotalMilliseconds:0} ms after start: {first.GetProperty("scores")}");
            Assert.All(first.GetProperty("scores").EnumerateArray(), e => Assert.Equal("mmoe-test-1", e.GetProperty("model").GetString()));
            var scores = ScoresOf(first);
            Assert.Equal("mmoe-test-1", scores.GetProperty("model").GetString());
            Assert.Equal(1, scores.GetProperty("missingFeatures").GetInt32()); // returns_30d: never fed
            Assert.Equal(3, scores.GetProperty("values").GetProperty("category_propensity").GetArrayLength());

            // A second purchase changes the features; the scores follow.
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("sc-2", "L-sc", amount: 30));
            // Explained in the scorer's idle turns: wait for the reasons too, so the restart below serves the same answer.
            second = await Poll.UntilAsync(() => edge.ProfileAsync("loyalty:L-sc"),
                p => Scored(p, reference, purchases: 2) && p.GetProperty("scores").EnumerateArray().All(e => e.TryGetProperty("reasons", out _)),
                "scores of the second purchase, explained");
            Assert.NotEqual(
                ScoresOf(first).GetProperty("values").GetProperty("repurchase_30d").GetSingle(),
                ScoresOf(second).GetProperty("values").GetProperty("repurchase_30d").GetSingle());
            Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM model_scores WHERE customer_key = 'loyalty:L-sc' AND model_version = 'mmoe-test-1'"));
        }

        // They survive a restart: the stored scores are served (not recomputed: nothing changed since).
        await using (var edge = await EdgeHost.StartAsync(data, $"--Edge:Models:File={model}"))
        {
            var restarted = await edge.ProfileAsync("loyalty:L-sc");
            Assert.Equal(second.GetProperty("scores").ToString(), restarted.GetProperty("scores").ToString());
        }

        output.WriteLine($"whole test {watch.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_new_model_version_rescores_customers_scored_by_the_old_one_at_start()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "edge");
        var v1 = TestModels.Write(Path.Combine(dir.Path, "v1.onnx"), seed: 1);
        await using (var edge = await EdgeHost.StartAsync(data, $"--Edge:Models:File={v1}"))
        {
            using var client = await edge.ConnectAsync("till-1");
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("nv-1", "L-nv"));
            await Poll.UntilAsync(() => edge.ProfileAsync("loyalty:L-nv"), p => p.GetProperty("scores").GetArrayLength() > 0, "scores of v1");
        }

        // A model without a stamped version is named by its content hash.
        var v2 = TestModels.Write(Path.Combine(dir.Path, "v2.onnx"), seed: 2);
        using var reference = OnnxScorer.Load(v2);
        await using (var edge = await EdgeHost.StartAsync(data, $"--Edge:Models:File={v2}"))
        {
            var version = (await edge.StatsAsync()).GetProperty("modelVersion").GetString()!;
            Assert.StartsWith("sha256:", version, StringComparison.Ordinal);
            var profile = await Poll.UntilAsync(() => edge.ProfileAsync("loyalty:L-nv"),
                p => p.GetProperty("scores").GetArrayLength() > 0 && ScoresOf(p).GetProperty("model").GetString() == version && Scored(p, reference, purchases: 1), "the customer re-scored by v2");
            Assert.Equal(version, ScoresOf(profile).GetProperty("model").GetString());
        }
    }

    [Fact]
    public async Task Without_a_model_profiles_have_no_scores_and_nothing_scores()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("till-1");
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("ns-1", "L-ns"));

        var profile = await edge.ProfileAsync("loyalty:L-ns");

        Assert.Equal(0, profile.GetProperty("scores").GetArrayLength()); // as before models existed: an empty array
        Assert.Equal(JsonValueKind.Null, (await edge.StatsAsync()).GetProperty("modelVersion").ValueKind);
        Assert.Null(edge.App.Services.GetService<ModelScoring>());
        Assert.DoesNotContain(edge.App.Services.GetServices<IHostedService>(), s => s is ScoringService);
        Assert.Equal(0, edge.Count("SELECT COUNT(*) FROM model_scores"));
    }

    [Fact]
    public async Task Erasure_removes_the_customers_scores()
    {
        using var dir = new TempDir();
        var model = TestModels.Write(Path.Combine(dir.Path, "model.onnx"), version: "v-erase");
        await using var edge = await EdgeHost.StartAsync(Path.Combine(dir.Path, "edge"), $"--Edge:Models:File={model}");
        using var client = await edge.ConnectAsync("till-1");
        foreach (var (id, customer) in new[] { ("er-1", "L-gone"), ("er-2", "L-stays") })
        {
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes(id, customer));
        }

        await Poll.UntilAsync(() => Task.FromResult(edge.Count("SELECT COUNT(*) FROM model_scores")), n => n == 2, "both customers scored");

        await edge.App.Services.GetRequiredService<LogWriter>().EraseAsync("req-scores", ["loyalty:L-gone"], CancellationToken.None);

        Assert.Equal(0, edge.Count("SELECT COUNT(*) FROM model_scores WHERE customer_key = 'loyalty:L-gone'"));
        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM model_scores WHERE customer_key = 'loyalty:L-stays'"));
        Assert.Null(edge.App.Services.GetRequiredService<ModelScoring>().Find("loyalty:L-gone"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await edge.GetAsync("/api/profiles/loyalty:L-gone")).StatusCode);
    }

    [Theory]
    [InlineData("missing", "does not exist")]
    [InlineData("corrupt", "is not a usable model")]
    [InlineData("unknown-feature", "'basket_vibes_30d' is not an online feature")]
    [InlineData("text-feature", "'last_category' is not numeric")]
    [InlineData("non-finite", "non-finite score for a customer without features")]
    public async Task Bad_model_file_fails_the_start_naming_the_key(string kind, string reason)
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "model.onnx");
        switch (kind)
        {
            case "corrupt":
                await File.WriteAllBytesAsync(path, [0x08, 0x07, 0xff, 0x13, 0x00, 0x42]);
                break;
            case "unknown-feature":
                TestModels.Write(path, ["purchases_30d", "basket_vibes_30d"]);
                break;
            case "text-feature":
                TestModels.Write(path, ["purchases_30d", "last_category"]);
                break;
            case "non-finite":
                TestModels.WriteOverflowing(path);
                break;
        }

        var args = EdgeHost.Args(Path.Combine(dir.Path, "edge"), EdgeHost.FreePort());
        args.Add("--Logging:LogLevel:Microsoft.Extensions.Hosting=None");
        args.Add($"--Edge:Models:File={path}");
        Exception? failure = null;
        try
        {
            await using var app = EdgeApp.Build([.. args]);
            await app.StartAsync();
            await app.StopAsync();
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        Assert.NotNull(failure);
        var message = ServiceRunner.Describe(failure);
        Assert.True(message is not null, $"not described as a configuration error: {failure}");
        Assert.StartsWith("Edge:Models:File", message, StringComparison.Ordinal);
        Assert.Contains(reason, message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
    }

    /// <summary>
    /// The profile's <c>scores</c> entries folded into one object, <c>{ model, missingFeatures, values: { task: value or
    /// [values] } }</c>, after checking that every entry names the same model and missing count.
    /// </summary>
    [Fact]
    public async Task Scores_are_redone_as_they_age_without_new_events()
    {
        using var dir = new TempDir();
        var model = TestModels.Write(Path.Combine(dir.Path, "model.onnx"), version: "aging-1");
        await using var edge = await EdgeHost.StartAsync(Path.Combine(dir.Path, "edge"), $"--Edge:Models:File={model}", "--Edge:Models:RescoreAfter=00:00:01");
        using var client = await edge.ConnectAsync("till-1");
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("ag-1", "L-ag"));
        await Poll.UntilAsync(() => edge.ProfileAsync("loyalty:L-ag"), p => p.GetProperty("scores").GetArrayLength() > 0, "the first scores");
        var first = edge.Count("SELECT scored_at_ms FROM model_scores WHERE customer_key = 'loyalty:L-ag'");

        // No event since: the sweep alone re-scores the customer once its scores are older than RescoreAfter.
        var later = await Poll.UntilAsync(
            () => Task.FromResult(edge.Count("SELECT scored_at_ms FROM model_scores WHERE customer_key = 'loyalty:L-ag'")),
            t => t >= first + 1000, "the scores redone by age");
        Assert.Equal(1, (await edge.StatsAsync()).GetProperty("eventsStored").GetInt64());
        output.WriteLine($"scored at {first}, again at {later}");
        var profile = await edge.ProfileAsync("loyalty:L-ag");
        Assert.True(profile.GetProperty("scores")[0].GetProperty("scoredAt").GetDateTimeOffset().ToUnixTimeMilliseconds() >= later, profile.ToString());
    }

    private static JsonElement ScoresOf(JsonElement profile)
    {
        var entries = profile.GetProperty("scores").EnumerateArray().ToList();
        Assert.NotEmpty(entries);
        var values = new System.Text.Json.Nodes.JsonObject();
        foreach (var e in entries)
        {
            Assert.Equal(entries[0].GetProperty("model").GetString(), e.GetProperty("model").GetString());
            Assert.Equal(entries[0].GetProperty("missingFeatures").GetInt32(), e.GetProperty("missingFeatures").GetInt32());
            values[e.GetProperty("task").GetString()!] = System.Text.Json.Nodes.JsonNode.Parse(
                (e.TryGetProperty("value", out var v) ? v : e.GetProperty("values")).GetRawText());
        }

        var folded = new System.Text.Json.Nodes.JsonObject
        {
            ["model"] = entries[0].GetProperty("model").GetString(),
            ["missingFeatures"] = entries[0].GetProperty("missingFeatures").GetInt32(),
            ["values"] = values,
        };
        return JsonDocument.Parse(folded.ToJsonString()).RootElement.Clone();
    }

    /// <summary>
    /// Whether the profile shows <paramref name="purchases"/> purchases and scores equal to the reference scorer's
    /// output for the feature vector the API shows (fresh values; missing or stale ones as 0).
    /// </summary>
    private static bool Scored(JsonElement profile, OnnxScorer reference, int purchases)
    {
        if (profile.GetProperty("scores").GetArrayLength() == 0 || EdgeHost.Feature(profile, "purchases_30d") != purchases)
        {
            return false;
        }

        var scores = ScoresOf(profile);
        var row = new float[reference.Inputs];
        var missing = 0;
        for (var i = 0; i < row.Length; i++)
        {
            var feature = profile.GetProperty("features").EnumerateArray().Single(f => f.GetProperty("name").GetString() == reference.Features![i]);
            if (feature.GetProperty("status").GetString() == "fresh" && feature.GetProperty("value").ValueKind == JsonValueKind.Number)
            {
                row[i] = (float)feature.GetProperty("value").GetDouble();
            }
            else
            {
                missing++;
            }
        }

        var expected = reference.Score(row);
        var values = scores.GetProperty("values");
        var offset = 0;
        foreach (var o in reference.Outputs)
        {
            var actual = o.Width == 1 ? [values.GetProperty(o.Name).GetSingle()] : values.GetProperty(o.Name).EnumerateArray().Select(v => v.GetSingle()).ToArray();
            for (var j = 0; j < o.Width; j++)
            {
                if (Math.Abs(actual[j] - expected[offset + j]) > 1e-6f)
                {
                    return false;
                }
            }

            offset += o.Width;
        }

        return scores.GetProperty("missingFeatures").GetInt32() == missing;
    }
}
