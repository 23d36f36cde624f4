using System.Net;
using System.Text;
using System.Text.Json;
using EdgeProfile.Contracts.V1;

namespace EdgeProfile.Hub.Tests;

/// <summary>Tag rules at a real hub: validation with errors at their lines, publish, history, rollback, and the stream stores watch.</summary>
public sealed class RuleApiTests
{
    private const string Rules = """
        @rule big_spender
        @version 2
        @en "Spent more than 5000 in the last 30 days"
        @zh "近30天消费超过5000"
        tag(C, big_spender) :- feature(C, spend_30d, S), S > 5000.
        """;

    [Fact]
    public async Task Rules_are_validated_published_streamed_to_stores_and_rolled_back()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var client = new RuleRegistry.RuleRegistryClient(hub.Channel);
        using var watch = client.WatchRules(new WatchRulesRequest { KnownVersion = 0 }, store.Headers);

        // Nothing published yet.
        using (var none = JsonDocument.Parse(await hub.Http.GetStringAsync("/api/rules")))
        {
            Assert.Equal(0, none.RootElement.GetProperty("version").GetInt64());
        }

        // Validation names each error with its line and column; nothing is published.
        using (var invalid = await PostAsync(hub, "validate", Rules.Replace("spend_30d", "spend_3d", StringComparison.Ordinal) + "\noops(.\n"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            using var doc = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync());
            var errors = doc.RootElement.GetProperty("errors").EnumerateArray().ToList();
            Assert.Contains(errors, e => e.GetProperty("line").GetInt32() == 5 && e.GetProperty("message").GetString()!.Contains("spend_3d", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.GetProperty("line").GetInt32() == 6 && e.GetProperty("column").GetInt32() == 6);
        }

        using (var valid = await PostAsync(hub, "validate", Rules))
        {
            Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
            using var doc = JsonDocument.Parse(await valid.Content.ReadAsStringAsync());
            var rule = Assert.Single(doc.RootElement.GetProperty("rules").EnumerateArray());
            Assert.Equal(("big_spender", 2), (rule.GetProperty("id").GetString(), rule.GetProperty("version").GetInt32()));
        }

        // Publish: version 1, and the store's stream carries it.
        using (var published = await PostAsync(hub, "publish", Rules))
        {
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        }

        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal((1L, Rules, "publish"), (watch.ResponseStream.Current.Version, watch.ResponseStream.Current.Text, watch.ResponseStream.Current.Action));

        // A broken publish changes nothing; a second good one is version 2.
        using (var refused = await PostAsync(hub, "publish", "tag(C, x) :- not feature(C, spend_30d, S)."))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        var second = Rules.Replace("5000", "8000", StringComparison.Ordinal);
        using (await PostAsync(hub, "publish", second))
        {
        }

        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal((2L, second), (watch.ResponseStream.Current.Version, watch.ResponseStream.Current.Text));

        // Rollback publishes the previous set again as version 3; the history lists all three.
        using (var rollback = await hub.Http.PostAsync("/api/rules/rollback", null))
        {
            Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
        }

        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal((3L, Rules, "rollback to 1"), (watch.ResponseStream.Current.Version, watch.ResponseStream.Current.Text, watch.ResponseStream.Current.Action));
        using (var list = JsonDocument.Parse(await hub.Http.GetStringAsync("/api/rules")))
        {
            Assert.Equal(3, list.RootElement.GetProperty("version").GetInt64());
            Assert.Equal([3L, 2L, 1L], list.RootElement.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("version").GetInt64()));
        }

        // A store that reconnects from the version it applies gets nothing until the next change; a new one gets v3.
        var late = new RuleRegistry.RuleRegistryClient(hub.Channel).WatchRules(new WatchRulesRequest { KnownVersion = 0 }, store.Headers);
        Assert.True(await late.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(3L, late.ResponseStream.Current.Version);
        late.Dispose();
    }

    [Fact]
    public async Task Knowledge_the_rules_read_but_do_not_define_is_published_with_them_from_the_graph_and_replaced_on_republish()
    {
        await using var hub = await TestHub.StartAsync();
        using (var knowledge = new StringContent("\"Baby & Toddler\" needs CarSeatSafetyInfo\n\"Baby & Toddler\" needs SleepSafetyGuide\nPhones complementedBy PhoneCases\n", Encoding.UTF8, "text/plain"))
        using (var imported = await hub.Http.PostAsync("/api/graph/import/knowledge", knowledge))
        {
            Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        }

        const string Safety = """
            @rule safety_info
            @en "Leads in a category that needs car-seat safety information"
            @zh "主要兴趣品类需要安全座椅安全信息"
            tag(C, safety_info) :- top(C, category_affinity_30d, K, S), S >= 0.5, needs(K, "CarSeatSafetyInfo").
            """;
        using (var published = await PostAsync(hub, "publish", Safety))
        {
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        }

        string text;
        using (var live = JsonDocument.Parse(await hub.Http.GetStringAsync("/api/rules")))
        {
            text = live.RootElement.GetProperty("text").GetString()!;
        }

        // Only the predicate the rules read (needs), every triple of it, after the operator's own text.
        Assert.StartsWith(Safety, text, StringComparison.Ordinal);
        Assert.Contains("needs(\"Baby & Toddler\", \"CarSeatSafetyInfo\").", text, StringComparison.Ordinal);
        Assert.Contains("needs(\"Baby & Toddler\", \"SleepSafetyGuide\").", text, StringComparison.Ordinal);
        Assert.DoesNotContain("complementedBy", text, StringComparison.Ordinal);

        // Republishing the live text (e.g. edited from `rules list`) replaces the generated block instead of doubling it.
        using (var again = await PostAsync(hub, "publish", text))
        {
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        }

        using (var live = JsonDocument.Parse(await hub.Http.GetStringAsync("/api/rules")))
        {
            Assert.Equal(2, live.RootElement.GetProperty("version").GetInt64());
            Assert.Equal(text, live.RootElement.GetProperty("text").GetString());
        }
    }

    private static async Task<HttpResponseMessage> PostAsync(TestHub hub, string action, string text)
    {
        using var content = new StringContent(text, Encoding.UTF8, "text/plain");
        return await hub.Http.PostAsync($"/api/rules/{action}", content);
    }
}
