using System.Text.Json;
using EdgeProfile.Edge.Rules;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeProfile.Edge.Tests;

/// <summary>
/// Tag rules at the edge: a published version applies to profiles at once (the rule as the reason), survives a restart
/// before the hub is reachable, and a version that does not compile against this edge's features is refused while the
/// previous one keeps serving.
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class TagRuleRuntimeTests
{
    private const string BigSpender = """
        @rule big_spender
        @version 4
        @en "Spent more than 50 in the last 30 days"
        @zh "近30天消费超过50"
        tag(C, big_spender) :- feature(C, spend_30d, S), S > 50.
        """;

    [Fact]
    public async Task A_rule_set_applies_at_once_survives_a_restart_and_a_set_that_does_not_compile_here_is_refused()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "edge");
        await using (var edge = await EdgeHost.StartAsync(data))
        {
            using var client = await edge.ConnectAsync("till-1");
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("tr-1", "L-big", amount: 80));
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("tr-2", "L-small", amount: 20));
            Assert.DoesNotContain("big_spender", Tags(await edge.ProfileAsync("loyalty:L-big")));

            var rules = edge.App.Services.GetRequiredService<RuleRuntime>();
            Assert.True(rules.Apply(7, BigSpender));
            var tag = (await edge.ProfileAsync("loyalty:L-big")).GetProperty("tags").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "big_spender");
            Assert.Contains("big_spender@v4 (rules version 7)", tag.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Contains("近30天消费超过50", tag.GetProperty("reasonZh").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain("big_spender", Tags(await edge.ProfileAsync("loyalty:L-small")));

            // Why: the rule and the facts it rested on.
            var why = Assert.Single((await edge.ProfileAsync("loyalty:L-big")).GetProperty("ruleTags").EnumerateArray());
            Assert.Equal(("big_spender", "big_spender", 4, 7L), (why.GetProperty("tag").GetString(), why.GetProperty("rule").GetString(),
                why.GetProperty("ruleVersion").GetInt32(), why.GetProperty("rulesVersion").GetInt64()));
            var premise = Assert.Single(why.GetProperty("premises").EnumerateArray()).GetString()!;
            Assert.Contains("spend_30d", premise, StringComparison.Ordinal);
            Assert.Contains("80", premise, StringComparison.Ordinal);

            // A set reading a feature this edge does not compute is refused; the live one keeps serving.
            Assert.False(rules.Apply(8, BigSpender.Replace("spend_30d", "spend_90d", StringComparison.Ordinal)));
            Assert.Contains("spend_90d", rules.Problem, StringComparison.Ordinal);
            Assert.Equal(7, rules.Version);
            var stats = await edge.StatsAsync();
            Assert.Equal(7, stats.GetProperty("rules").GetProperty("version").GetInt64());
            Assert.Contains("big_spender", Tags(await edge.ProfileAsync("loyalty:L-big")));
        }

        // Restarted (no hub): the saved set serves at once.
        await using (var edge = await EdgeHost.StartAsync(data))
        {
            Assert.Contains("big_spender", Tags(await edge.ProfileAsync("loyalty:L-big")));
            Assert.Equal(7, (await edge.StatsAsync()).GetProperty("rules").GetProperty("version").GetInt64());
        }
    }

    [Fact]
    public async Task Rules_read_the_customers_ranked_features_as_top_facts_joined_with_knowledge_published_with_the_rules()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(Path.Combine(dir.Path, "edge"));
        using var client = await edge.ConnectAsync("till-1");
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("tk-1", "L-stroller", amount: 300));

        // The hub appends the graph's facts of `needs` when it publishes (RuleApi); here they are in the file itself.
        var rules = edge.App.Services.GetRequiredService<RuleRuntime>();
        Assert.True(rules.Apply(3, """
            @rule safety_info
            @en "Leads in a category that needs car-seat safety information"
            @zh "主要兴趣品类需要安全座椅安全信息"
            tag(C, safety_info) :- top(C, category_affinity_30d, K, S), S >= 0.5, needs(K, "CarSeatSafetyInfo").

            @rule phone_accessories
            @en "Leads in a category complemented by phone cases"
            @zh "主要兴趣品类与手机壳互补"
            tag(C, phone_accessories) :- top(C, category_affinity_30d, K, S), S >= 0.5, complementedBy(K, "PhoneCases").

            # --- knowledge graph facts: 2 fact(s) of needs, complementedBy, added at publish
            needs("Baby & Toddler", "CarSeatSafetyInfo").
            complementedBy("Electronics", "PhoneCases").
            """));

        var profile = await edge.ProfileAsync("loyalty:L-stroller");
        Assert.Contains("safety_info", Tags(profile));
        Assert.DoesNotContain("phone_accessories", Tags(profile));
        var why = Assert.Single(profile.GetProperty("ruleTags").EnumerateArray());
        var premises = why.GetProperty("premises").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Contains(premises, p => p.StartsWith("top(", StringComparison.Ordinal) && p.Contains("\"Baby & Toddler\"", StringComparison.Ordinal));
        Assert.Contains(premises, p => p.StartsWith("needs(", StringComparison.Ordinal));
    }

    private static List<string> Tags(JsonElement profile) =>
        [.. profile.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()!)];
}
