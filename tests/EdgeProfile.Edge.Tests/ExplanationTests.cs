using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EdgeProfile.Edge.Tests;

/// <summary>
/// Every score the edge writes keeps why (attributions per feature group, reasons in English and Chinese), the API
/// shows it, and a past decision's explanation is reproduced exactly from the stored row and the archived model.
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class ExplanationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_score_keeps_its_explanation_and_the_api_shows_and_reproduces_it()
    {
        using var dir = new TempDir();
        var model = TestModels.Write(Path.Combine(dir.Path, "model.onnx"), version: "mmoe-explained-1", backgroundRows: 6);
        await using var edge = await EdgeHost.StartAsync(Path.Combine(dir.Path, "edge"), $"--Edge:Models:File={model}");
        using var client = await edge.ConnectAsync("till-1");
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("ex-1", "L-ex", amount: 40));
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("ex-2", "L-ex", amount: 25));

        // The profile's scores carry their reasons (English by default, Chinese when asked).
        var profile = await Poll.UntilAsync(() => edge.ProfileAsync("loyalty:L-ex"),
            p => p.GetProperty("scores").EnumerateArray().Any(s => s.TryGetProperty("reasons", out _)) && Purchases(p) == 2, "scores with reasons");
        var repurchase = profile.GetProperty("scores").EnumerateArray().Single(s => s.GetProperty("task").GetString() == "repurchase_30d");
        Assert.NotEmpty(repurchase.GetProperty("reasons").EnumerateArray());
        Assert.Equal("exact_shapley", profile.GetProperty("explanation").GetProperty("method").GetString());
        var zhProfile = await edge.GetJsonAsync("/api/profiles/loyalty:L-ex?lang=zh-CN");
        var zhReason = zhProfile.GetProperty("scores").EnumerateArray().First(s => s.TryGetProperty("reasons", out _)).GetProperty("reasons")[0].GetString()!;
        Assert.Contains(zhReason, c => c >= '\u4e00' && c <= '\u9fff');

        // The explanation: Shapley values per group that add up to the model's output, reproduced from the stored row.
        var explained = await edge.GetJsonAsync("/api/profiles/loyalty:L-ex/explanations?task=repurchase");
        output.WriteLine(explained.ToString());
        Assert.Equal("mmoe-explained-1", explained.GetProperty("decision").GetProperty("model").GetString());
        Assert.Contains("6 test rows", explained.GetProperty("background").GetString(), StringComparison.Ordinal);
        Assert.True(explained.GetProperty("stored").GetBoolean());
        Assert.True(explained.GetProperty("reproduced").GetProperty("equal").GetBoolean());
        Assert.Equal(0, explained.GetProperty("reproduced").GetProperty("maxDifference").GetDouble());
        var entry = Assert.Single(explained.GetProperty("explanations").EnumerateArray());
        Assert.Equal("repurchase_30d", entry.GetProperty("task").GetString());
        var phi = entry.GetProperty("attributions").EnumerateArray().Sum(a => a.GetProperty("phi").GetDouble());
        Assert.Equal(entry.GetProperty("output").GetDouble(), entry.GetProperty("base").GetDouble() + phi, 9);
        Assert.True(entry.GetProperty("additivityError").GetDouble() <= 1e-9);

        // An fp32 model: the explained function is the served one (float rounding apart).
        Assert.Equal(entry.GetProperty("score").GetDouble(), entry.GetProperty("output").GetDouble(), 5);
        var stored = repurchase.GetProperty("value").GetDouble();
        Assert.Equal(stored, entry.GetProperty("score").GetDouble(), 6);

        // Attributions are sorted by |φ|; the reasons cite the customer's own values.
        var magnitudes = entry.GetProperty("attributions").EnumerateArray().Select(a => Math.Abs(a.GetProperty("phi").GetDouble())).ToList();
        Assert.Equal(magnitudes.OrderByDescending(m => m), magnitudes);
        var reasons = entry.GetProperty("reasons").EnumerateArray().ToList();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, r => Assert.DoesNotContain("{", r.GetProperty("text").GetString(), StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.GetProperty("evidence").EnumerateArray().Any());

        // Chinese by parameter or by Accept-Language; an unknown language or task is refused clearly.
        var zh = await edge.GetJsonAsync("/api/profiles/loyalty:L-ex/explanations?task=repurchase_30d&lang=zh-CN");
        Assert.Equal("zh-CN", zh.GetProperty("lang").GetString());
        Assert.Contains(zh.GetProperty("explanations")[0].GetProperty("reasons")[0].GetProperty("text").GetString()!, c => c >= '\u4e00' && c <= '\u9fff');
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/profiles/loyalty:L-ex/explanations", UriKind.Relative)))
        {
            request.Headers.AcceptLanguage.ParseAdd("zh-CN,zh;q=0.9,en;q=0.5");
            using var response = await edge.Http.SendAsync(request);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("zh-CN", doc.RootElement.GetProperty("lang").GetString());
        }

        // LIME as a second, clearly labelled opinion on the same decision: a local surrogate with its fit.
        var lime = await edge.GetJsonAsync("/api/profiles/loyalty:L-ex/explanations?task=repurchase&method=lime");
        Assert.Equal("lime", lime.GetProperty("method").GetString());
        var surrogate = Assert.Single(lime.GetProperty("explanations").EnumerateArray());
        Assert.InRange(surrogate.GetProperty("surrogateFit").GetDouble(), 0, 1);
        Assert.Equal(entry.GetProperty("output").GetDouble(), surrogate.GetProperty("output").GetDouble(), 12);
        using (var badMethod = await edge.GetAsync("/api/profiles/loyalty:L-ex/explanations?method=magic"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badMethod.StatusCode);
        }

        using (var bad = await edge.GetAsync("/api/profiles/loyalty:L-ex/explanations?lang=fr"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("lang 'fr'", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var missing = await edge.GetAsync("/api/profiles/loyalty:L-ex/explanations?task=nope"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Contains("repurchase_30d", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var unknown = await edge.GetAsync("/api/profiles/loyalty:L-nobody/explanations"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        // The multi-label task explains its top label; global importance of the served version.
        var propensity = await edge.GetJsonAsync("/api/profiles/loyalty:L-ex/explanations?task=category_propensity");
        Assert.Equal(JsonValueKind.String, Assert.Single(propensity.GetProperty("explanations").EnumerateArray()).GetProperty("label").ValueKind);
        var importance = await edge.GetJsonAsync("/api/models/mmoe-explained-1/importance");
        Assert.Equal("exact_shapley", importance.GetProperty("method").GetString());
        var groups = importance.GetProperty("outputs")[0].GetProperty("groups").EnumerateArray().ToList();
        Assert.NotEmpty(groups);
        Assert.All(groups, g => Assert.True(g.GetProperty("meanAbsPhi").GetDouble() >= 0));
        using (var none = await edge.GetAsync("/api/models/no-such-version/importance"))
        {
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        }

        // The decision history holds the decision (numbers; the text is rewritten on request).
        Assert.True(edge.Count("SELECT COUNT(*) FROM decisions WHERE customer_key = 'loyalty:L-ex' AND explanation IS NOT NULL") >= 1);
        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM model_archive WHERE version = 'mmoe-explained-1'"));
    }

    [Fact]
    public async Task A_past_decision_is_explained_a_week_later_exactly_as_it_was_stored()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "edge");
        var v1 = TestModels.Write(Path.Combine(dir.Path, "v1.onnx"), seed: 11, version: "audit-v1", backgroundRows: 4);
        var clock = new ShiftedClock();
        JsonElement then;
        long scoredAtMs;
        await using (var edge = await EdgeHost.StartAsync(data, null, b => b.Services.AddSingleton<TimeProvider>(clock), $"--Edge:Models:File={v1}"))
        {
            using var client = await edge.ConnectAsync("till-1");
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("au-1", "L-au", amount: 30));
            await Poll.UntilAsync(() => edge.ProfileAsync("loyalty:L-au"), p => p.GetProperty("scores").GetArrayLength() > 0 && Purchases(p) == 1, "the first decision");
            then = await Poll.UntilAsync(() => edge.GetJsonAsync("/api/profiles/loyalty:L-au/explanations"),
                e => e.GetProperty("stored").GetBoolean(), "the decision's explanation to be stored");
            scoredAtMs = then.GetProperty("decision").GetProperty("scoredAt").GetDateTimeOffset().ToUnixTimeMilliseconds();
        }

        // A week later another model serves and the customer bought again: the latest decision is another one.
        clock.Offset = TimeSpan.FromDays(7);
        var v2 = TestModels.Write(Path.Combine(dir.Path, "v2.onnx"), seed: 12, version: "audit-v2", backgroundRows: 4);
        await using (var edge = await EdgeHost.StartAsync(data, null, b => b.Services.AddSingleton<TimeProvider>(clock), $"--Edge:Models:File={v2}"))
        {
            using var client = await edge.ConnectAsync("till-1");
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("au-2", "L-au", amount: 55));
            var latest = await Poll.UntilAsync(() => edge.GetJsonAsync("/api/profiles/loyalty:L-au/explanations"),
                e => e.TryGetProperty("decision", out var d) && d.GetProperty("model").GetString() == "audit-v2", "the decision of the second model");
            Assert.NotEqual(then.GetProperty("inputs").ToString(), latest.GetProperty("inputs").ToString());

            // The decision in force a week ago, recomputed from its stored row with the archived first model.
            var at = DateTimeOffset.FromUnixTimeMilliseconds(scoredAtMs + 1).ToString("O");
            var audit = await edge.GetJsonAsync($"/api/profiles/loyalty:L-au/explanations?at={Uri.EscapeDataString(at)}");
            Assert.Equal("audit-v1", audit.GetProperty("decision").GetProperty("model").GetString());
            Assert.True(audit.GetProperty("reproduced").GetProperty("equal").GetBoolean());
            Assert.Equal(then.GetProperty("inputs").ToString(), audit.GetProperty("inputs").ToString());
            Assert.Equal(Numbers(then), Numbers(audit));
            Assert.Equal(Texts(then), Texts(audit));

            using var before = await edge.GetAsync($"/api/profiles/loyalty:L-au/explanations?at={Uri.EscapeDataString(DateTimeOffset.FromUnixTimeMilliseconds(scoredAtMs - 60_000).ToString("O"))}");
            Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        }
    }

    private static int Purchases(JsonElement profile) =>
        profile.GetProperty("features").EnumerateArray()
            .Where(f => f.GetProperty("name").GetString() == "purchases_30d" && f.GetProperty("value").ValueKind == JsonValueKind.Number)
            .Select(f => f.GetProperty("value").GetInt32()).FirstOrDefault();

    /// <summary>Every number of every explanation: task, label, output, base, and each group's φ.</summary>
    private static List<string> Numbers(JsonElement explained) =>
        [.. explained.GetProperty("explanations").EnumerateArray().SelectMany(e =>
            new[] { e.GetProperty("task").ToString(), e.GetProperty("label").ToString(), e.GetProperty("output").GetRawText(), e.GetProperty("base").GetRawText() }
                .Concat(e.GetProperty("attributions").EnumerateArray().Select(a => a.GetProperty("group").GetString() + "=" + a.GetProperty("phi").GetRawText())))];

    private static List<string> Texts(JsonElement explained) =>
        [.. explained.GetProperty("explanations").EnumerateArray().SelectMany(e => e.GetProperty("reasons").EnumerateArray().Select(r => r.GetProperty("text").GetString()!))];

    /// <summary>The system clock moved by <see cref="Offset"/> (a week later, without waiting a week).</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
    }
}
