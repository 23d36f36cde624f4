using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Hub;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// Operator tag rules end to end, all real processes: the hub and two edges; `edgeprofile rules publish` makes a rule
/// live on both stores within seconds, each tag naming its rule; a broken rule file is refused at its line while the
/// stores keep the live rules; `rules rollback` takes the tag away again.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class TagRulesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private const string NewParentRules = """
        # Operators' tag rules for the baby category.
        @rule new_parent
        @version 1
        @en "Bought baby products in the last 30 days for the first time"
        @zh "近30天首次购买母婴商品"
        tag(C, new_parent) :- feature(C, baby_purchases_30d, N), N > 0, feature(C, baby_purchases_lifetime, L), L = N.
        """;

    [Fact]
    public async Task A_published_rule_is_live_on_both_stores_within_seconds_with_its_reason_and_a_rollback_removes_it()
    {
        using var dir = new TempDirectory("tag-rules");
        var hub = HubProcess.Start("hub", dir.Sub("hub"), Ports.Free(), dir.Path);
        var edges = new List<(string Store, EdgeProcess Process, EdgeApiClient Api, int Mqtt)>();
        try
        {
            await hub.WaitHealthyAsync(Wait);
            var token = (await File.ReadAllTextAsync(Path.Combine(hub.DataDir, HubOptions.OperatorTokenFileName))).Trim();
            hub.Authorize(token);

            // The two features the rule reads: baby purchases in the last 30 days and ever.
            var definitions = new JsonObject
            {
                ["definitions"] = new JsonArray(
                    Definition("baby_purchases_30d", new JsonObject { ["kind"] = "sliding", ["size"] = "30d", ["hop"] = "1d" }, "Baby purchases in the last 30 days"),
                    Definition("baby_purchases_lifetime", new JsonObject { ["kind"] = "lifetime" }, "Baby purchases, all time")),
            };
            using (var registered = await hub.Http.PostAsJsonAsync(new Uri("/api/features", UriKind.Relative), definitions))
            {
                Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
            }

            foreach (var store in new[] { "rules-a", "rules-b" })
            {
                using var enrollment = await hub.Http.PostAsJsonAsync(new Uri("/api/enrollments", UriKind.Relative), new { storeId = store, kind = "store" });
                var enrollmentToken = JsonDocument.Parse(await enrollment.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
                var (mqtt, http) = (Ports.Free(), Ports.Free());
                var edge = EdgeProcess.Start(
                [
                    $"--Edge:StoreId={store}", $"--Edge:DataDir={dir.Sub(store)}", $"--Edge:Mqtt:Port={mqtt}",
                    $"--Edge:Http:Urls=http://127.0.0.1:{http}", $"--Edge:HubUrl={hub.Address}", $"--Edge:EnrollmentToken={enrollmentToken}",
                ], dir.Path);
                var api = new EdgeApiClient(new Uri($"http://127.0.0.1:{http}"));
                edges.Add((store, edge, api, mqtt));
                await api.WaitHealthyAsync(Wait, failure: () => edge.HasExited ? $"{store} exited with {edge.ExitCode}\n{edge.Tail()}" : null);
                await Poll.UntilAsync(() => api.StatsAsync(), s => s.GetProperty("features").GetProperty("revision").GetInt64() >= 2, Wait, $"{store} to apply the baby features (registry revision 2)");
            }

            // rules-a: a first baby purchase (a new parent). rules-b: one new parent, and a customer who bought baby
            // products two months ago too (not new).
            var now = DateTimeOffset.UtcNow;
            await ScenarioEvents.PublishAsync(edges[0].Mqtt, "rules-a", BabyPurchase("np-a1", "rules-a", "L-new-a", now.AddMinutes(-10)));
            await ScenarioEvents.PublishAsync(edges[1].Mqtt, "rules-b",
                BabyPurchase("old-b1", "rules-b", "L-old-b", now.AddDays(-60)),
                BabyPurchase("np-b1", "rules-b", "L-new-b", now.AddMinutes(-9)),
                BabyPurchase("old-b2", "rules-b", "L-old-b", now.AddMinutes(-8)));
            foreach (var (store, _, api, _) in edges)
            {
                var customer = store == "rules-a" ? "loyalty:L-new-a" : "loyalty:L-new-b";
                await Poll.UntilAsync(() => api.ProfileAsync(customer), p => Feature(p, "baby_purchases_30d") == 1, Wait, $"{store}: the baby purchase in the features");
            }

            Assert.Equal(2, Feature(await edges[1].Api.ProfileAsync("loyalty:L-old-b"), "baby_purchases_lifetime"));

            // Publish with the CLI and time until both stores carry the tag.
            var file = Path.Combine(dir.Path, "rules.txt");
            await File.WriteAllTextAsync(file, NewParentRules);
            var watch = Stopwatch.StartNew();
            var published = await CliProcess.RunAsync(dir.Path, Wait, "rules", "publish", file, "--hub", hub.Address.ToString(), "--token", token);
            Assert.True(published.ExitCode == 0, published.Stderr);
            var cliDone = watch.Elapsed;
            await Task.WhenAll(
                Poll.UntilAsync(() => edges[0].Api.ProfileAsync("loyalty:L-new-a"), p => HasTag(p, "new_parent"), Wait, "rules-a to tag L-new-a"),
                Poll.UntilAsync(() => edges[1].Api.ProfileAsync("loyalty:L-new-b"), p => HasTag(p, "new_parent"), Wait, "rules-b to tag L-new-b"));
            var live = watch.Elapsed;
            output.WriteLine($"rules publish returned after {cliDone.TotalMilliseconds:F0} ms; both stores tagged after {live.TotalMilliseconds:F0} ms");
            Assert.True(live <= TimeSpan.FromSeconds(5), $"the rule went live on both stores after {live.TotalSeconds:F1} s (goal ≤ 5 s)");

            var tag = Tag(await edges[0].Api.ProfileAsync("loyalty:L-new-a"), "new_parent");
            Assert.Contains("new_parent@v1", tag.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Contains("for the first time", tag.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Contains("近30天首次购买母婴商品", tag.GetProperty("reasonZh").GetString(), StringComparison.Ordinal);
            Assert.False(HasTag(await edges[1].Api.ProfileAsync("loyalty:L-old-b"), "new_parent"));

            // The stores' retag pass sends the new tags up without waiting for the customers' next events: the hub's
            // global profile carries the tag with the live rule as its reason, in both languages.
            var hubTag = await Poll.UntilAsync(() => hub.ProfileAsync("loyalty:L-new-b"), p => HasTag(p, "new_parent"), Wait, "the hub's profile of L-new-b to carry new_parent");
            var globalTag = Tag(hubTag, "new_parent");
            Assert.Contains("rule new_parent@v1 (rules version 1)", globalTag.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Contains("reported by rules-b", globalTag.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Contains("近30天首次购买母婴商品", globalTag.GetProperty("reasonZh").GetString(), StringComparison.Ordinal);
            Assert.Equal("new_parent@v1", globalTag.GetProperty("rule").GetString());
            Assert.True(HasTag(await Poll.UntilAsync(() => hub.ProfileAsync("loyalty:L-new-a"), p => HasTag(p, "new_parent"), Wait, "the hub's L-new-a"), "new_parent"));
            Assert.False(HasTag(await hub.ProfileAsync("loyalty:L-old-b"), "new_parent"));
            await Poll.UntilAsync(() => edges[1].Api.StatsAsync(), s => s.GetProperty("rules").GetProperty("uplinked").GetInt64() == 1, Wait, "rules-b to finish its retag pass");

            // Broken files are refused at their line; the stores keep the live rules.
            foreach (var (broken, line, says) in new[]
                     {
                         (NewParentRules.Replace("N > 0,", "N > 0", StringComparison.Ordinal), 6, ""),
                         (NewParentRules.Replace("baby_purchases_30d", "baby_purchases_7d", StringComparison.Ordinal), 6, "baby_purchases_7d"),
                         (NewParentRules + "\n@rule loop\n@version 1\n@en \"x\"\n@zh \"x\"\ntag(C, a) :- feature(C, spend_30d, S), not b(C).\nb(C) :- feature(C, spend_30d, S), not tag(C, a).\n", 0, "negation"),
                     })
            {
                await File.WriteAllTextAsync(file, broken);
                var refused = await CliProcess.RunAsync(dir.Path, Wait, "rules", "publish", file, "--hub", hub.Address.ToString(), "--token", token);
                output.WriteLine(refused.Stderr);
                Assert.NotEqual(0, refused.ExitCode);
                Assert.Contains(line > 0 ? $"rules.txt:{line}:" : "rules.txt:", refused.Stderr, StringComparison.Ordinal);
                Assert.Contains(says, refused.Stderr, StringComparison.OrdinalIgnoreCase);
            }

            Assert.Equal(1, (await edges[0].Api.StatsAsync()).GetProperty("rules").GetProperty("version").GetInt64());
            Assert.True(HasTag(await edges[0].Api.ProfileAsync("loyalty:L-new-a"), "new_parent"));

            // Rollback: back to no rules, and the tags go.
            var rolledBack = await CliProcess.RunAsync(dir.Path, Wait, "rules", "rollback", "--hub", hub.Address.ToString(), "--token", token);
            Assert.True(rolledBack.ExitCode == 0, rolledBack.Stderr);
            await Task.WhenAll(
                Poll.UntilAsync(() => edges[0].Api.ProfileAsync("loyalty:L-new-a"), p => !HasTag(p, "new_parent"), Wait, "rules-a to drop the tag"),
                Poll.UntilAsync(() => edges[1].Api.ProfileAsync("loyalty:L-new-b"), p => !HasTag(p, "new_parent"), Wait, "rules-b to drop the tag"));
            await Poll.UntilAsync(() => hub.ProfileAsync("loyalty:L-new-b"), p => p is not null && !HasTag(p, "new_parent"), Wait, "the hub's L-new-b to lose the tag");
            var list = await CliProcess.RunAsync(dir.Path, Wait, "rules", "list", "--hub", hub.Address.ToString(), "--token", token);
            Assert.True(list.ExitCode == 0, list.Stderr);
            Assert.Contains("rollback to 0", list.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var (_, process, api, _) in edges)
            {
                api.Dispose();
                await process.DisposeAsync();
            }

            await hub.DisposeAsync();
        }
    }

    private static JsonObject Definition(string name, JsonObject window, string description) => new()
    {
        ["name"] = name,
        ["eventTypes"] = new JsonArray("purchase"),
        ["categoryPrefix"] = "Baby & Toddler",
        ["window"] = window,
        ["aggregation"] = new JsonObject { ["kind"] = "count" },
        ["description"] = description,
        ["owner"] = "merchandising",
    };

    private static TestEvent BabyPurchase(string id, string store, string loyalty, DateTimeOffset at) =>
        ScenarioEvents.Build(id, "purchase", store, "pos", at, new JsonObject { ["loyaltyId"] = loyalty },
            product: new JsonObject { ["sku"] = "SKU-BB-1020", ["category"] = "Baby & Toddler > Feeding > Formula", ["price"] = 268.0 });

    private static double? Feature(JsonElement? profile, string name) =>
        profile?.GetProperty("features").EnumerateArray()
            .Where(f => f.GetProperty("name").GetString() == name && f.GetProperty("value").ValueKind == JsonValueKind.Number)
            .Select(f => (double?)f.GetProperty("value").GetDouble()).FirstOrDefault();

    private static bool HasTag(JsonElement? profile, string name) =>
        profile?.GetProperty("tags").EnumerateArray().Any(t => t.GetProperty("name").GetString() == name) == true;

    private static JsonElement Tag(JsonElement? profile, string name) =>
        profile!.Value.GetProperty("tags").EnumerateArray().Single(t => t.GetProperty("name").GetString() == name);
}
