using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EdgeProfile.Edge.Tests;

/// <summary>The online feature store behind the local API: real-time tags, late events, backfill, restarts, training sets.</summary>
[Collection(EdgeCollection.Name)]
public sealed class FeatureStoreTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Mother_and_baby_interest_is_tagged_as_soon_as_the_last_event_is_acknowledged()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("app-seed");
        var now = DateTimeOffset.UtcNow;

        // Her profile so far: a general female shopper (browsing women's fashion a few days ago).
        var history = new[] { "Women > Dresses", "Women > Tops", "Women > Shoes" };
        for (var i = 0; i < history.Length; i++)
        {
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), Event($"mom-h{i}", "view", history[i], now.AddDays(-3).AddMinutes(i), "web").Bytes());
        }

        var before = await edge.ProfileAsync("app:u-mom");
        Assert.Contains(Tags(before), t => t == "female_shopper");
        Assert.DoesNotContain(Tags(before), t => t == "mother_and_baby");

        // Today: she views a stroller, likes a formula review and watches a parenting video.
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), Event("mom-1", "view", "Baby & Toddler > Strollers", now.AddSeconds(-20), "app", "Stroller X").Bytes());
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), Event("mom-2", "like", "Baby & Toddler > Formula", now.AddSeconds(-10), "app", "Review: Formula Gold stage 1").Bytes());
        var watch = Stopwatch.StartNew();
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), Event("mom-3", "video_watch", "Baby & Toddler > Parenting", now.AddSeconds(-1), "app", "First weeks with a newborn").Bytes());

        // No polling: the features were committed with the event, before its PUBACK.
        var after = await edge.ProfileAsync("app:u-mom");
        output.WriteLine($"PUBACK of the last event to a profile with the tag: {watch.Elapsed.TotalMilliseconds:0.0} ms");
        var tags = Tags(after);
        Assert.Contains("mother_and_baby", tags);
        var affinities = after.GetProperty("categoryAffinities").EnumerateArray().ToList();
        Assert.Equal("Baby & Toddler", affinities[0].GetProperty("category").GetString());
        Assert.Equal("Women", affinities[1].GetProperty("category").GetString());
        var reason = after.GetProperty("tags").EnumerateArray().First(t => t.GetProperty("name").GetString() == "mother_and_baby");
        Assert.Contains("category_affinity_30d@v1", reason.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("母婴", reason.GetProperty("reasonZh").GetString(), StringComparison.Ordinal);
        var sessionEvents = Feature(after, "session_events");
        Assert.Equal(3, sessionEvents.GetProperty("value").GetDouble());
        Assert.Equal("fresh", sessionEvents.GetProperty("status").GetString());
        Assert.Equal("mom-3", Feature(after, "events_7d").GetProperty("lineage").GetProperty("lastEventId").GetString());
    }

    [Fact]
    public async Task Late_event_goes_to_the_side_output_and_within_lateness_still_counts()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path, "--Edge:AllowedLateness=00:05:00", "--Edge:Stream:MaxOutOfOrderness=00:00:05");
        using var client = await edge.ConnectAsync("pos-late");
        var now = DateTimeOffset.UtcNow;

        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.Json("late-0", "L-late", at: now.AddMinutes(-1)).Bytes());
        // 3 minutes behind the watermark: within the allowed lateness, so it counts.
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.Json("late-1", "L-late", at: now.AddMinutes(-4)).Bytes());
        // 2 hours behind: beyond it, so it goes to the side output.
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.Json("late-2", "L-late", amount: 500, at: now.AddHours(-2)).Bytes());

        var stats = await edge.StatsAsync();
        Assert.Equal(3, stats.GetProperty("eventsStored").GetInt64());
        Assert.Equal(1, stats.GetProperty("lateEvents").GetInt64());
        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM late_events WHERE event_id='late-2'"));
        Assert.Equal(3, edge.Count("SELECT COUNT(*) FROM events WHERE customer_key='loyalty:L-late'"));
        var profile = await edge.ProfileAsync("loyalty:L-late");
        Assert.Equal(2, EdgeHost.Feature(profile, "lifetime_purchases"));
        Assert.Equal(20, EdgeHost.Feature(profile, "lifetime_spend"));
    }

    [Fact]
    public async Task A_new_definition_is_served_without_restart_and_backfilled_from_the_log()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path, "--Edge:Features:BackfillBatch=7");
        using var client = await edge.ConnectAsync("pos-backfill");
        var now = DateTimeOffset.UtcNow;
        var expected = new Dictionary<string, double>();
        for (var i = 0; i < 60; i++)
        {
            var customer = $"L-bf-{i % 20}";
            var amount = 10 + i;
            var category = i % 3 == 0 ? "Baby & Toddler > Formula" : "Home > Kitchen";
            var e = TestEvents.Json($"bf-{i}", customer, amount: amount, at: now.AddMinutes(-60 + i));
            e["product"]!["category"] = category;
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), e.Bytes());
            if (category.StartsWith("Baby", StringComparison.Ordinal))
            {
                expected[customer] = expected.GetValueOrDefault(customer) + amount;
            }
        }

        var baby = new FeatureDefinition
        {
            Name = "baby_spend_7d",
            Window = WindowSpec.Sliding(TimeSpan.FromDays(7), TimeSpan.FromHours(1)),
            EventTypes = [EventType.Purchase],
            CategoryPrefix = "Baby & Toddler",
            Aggregation = new AggregationSpec { Kind = AggregationKind.Sum, Field = FeatureField.Amount },
            Ttl = TimeSpan.FromDays(7),
            Description = "Mother-and-baby spend in the last 7 days",
            Owner = "tests",
        };
        var set = DefaultFeatures.Set with { Revision = 5, Definitions = [.. DefaultFeatures.Set.Definitions, baby] };
        var sink = edge.App.Services.GetRequiredService<IFeatureSetSink>();
        await sink.ApplyAsync(set, CancellationToken.None);
        Assert.Equal(5, sink.AppliedRevision);

        var stats = await edge.WaitForStatsAsync(s => s.GetProperty("features").GetProperty("backfillPending").GetInt64() == 0, "backfill done");
        Assert.Equal(5, stats.GetProperty("features").GetProperty("revision").GetInt64());
        for (var c = 0; c < 20; c++)
        {
            var profile = await edge.ProfileAsync($"loyalty:L-bf-{c}");
            var f = Feature(profile, "baby_spend_7d");
            if (expected.TryGetValue($"L-bf-{c}", out var spend))
            {
                Assert.Equal(spend, f.GetProperty("value").GetDouble(), 6);
                Assert.Equal("baby_spend_7d@v1", f.GetProperty("id").GetString());
                Assert.Equal("fresh", f.GetProperty("status").GetString());
            }
            else
            {
                Assert.Equal("missing", f.GetProperty("status").GetString());
            }
        }

        // Events after the change update it online.
        var next = TestEvents.Json("bf-next", "L-bf-0", amount: 1000, at: now);
        next["product"]!["category"] = "Baby & Toddler > Strollers";
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), next.Bytes());
        Assert.Equal(expected["L-bf-0"] + 1000, Feature(await edge.ProfileAsync("loyalty:L-bf-0"), "baby_spend_7d").GetProperty("value").GetDouble(), 6);
    }

    [Fact]
    public async Task Feature_state_survives_a_restart()
    {
        using var dir = new TempDir();
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        string before;
        await using (var edge = await EdgeHost.StartAsync(dir.Path))
        {
            using var client = await edge.ConnectAsync("pos-restart");
            for (var i = 0; i < 10; i++)
            {
                await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.Json($"rs-{i}", "L-rs", amount: i, at: at.AddSeconds(i)).Bytes());
            }

            before = (await edge.GetJsonAsync($"/api/profiles/loyalty:L-rs?asOf={Uri.EscapeDataString(at.AddHours(1).ToString("O"))}")).GetProperty("features").GetRawText();
        }

        await using (var edge = await EdgeHost.StartAsync(dir.Path))
        {
            var after = (await edge.GetJsonAsync($"/api/profiles/loyalty:L-rs?asOf={Uri.EscapeDataString(at.AddHours(1).ToString("O"))}")).GetProperty("features").GetRawText();
            Assert.Equal(before, after);
        }
    }

    [Fact]
    public async Task Training_set_label_event_one_millisecond_after_the_cutoff_changes_no_feature()
    {
        using var withTrap = new TempDir();
        using var without = new TempDir();
        var cutoff = DateTimeOffset.UtcNow.AddDays(-2).Date.AddHours(12);
        var cutoffAt = new DateTimeOffset(cutoff, TimeSpan.Zero);
        foreach (var (dir, trap) in new[] { (withTrap, true), (without, false) })
        {
            await using var edge = await EdgeHost.StartAsync(dir.Path);
            using var client = await edge.ConnectAsync("pos-trap");
            for (var i = 0; i < 8; i++)
            {
                await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.Json($"tr-{i}", "L-trap", amount: 10 * (i + 1), at: cutoffAt.AddHours(-40 + (5 * i))).Bytes());
            }

            // Exactly at the cutoff: not a feature input either (the window is half-open), and not a label (labels are strictly after).
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.Json("tr-at", "L-trap", amount: 7, at: cutoffAt).Bytes());
            if (trap)
            {
                await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.Json("tr-trap", "L-trap", amount: 999, at: cutoffAt.AddMilliseconds(1)).Bytes());
            }
        }

        var cutoffs = Path.Combine(withTrap.Path, "cutoffs.csv");
        File.WriteAllText(cutoffs, $"customer,cutoff\nloyalty:L-trap,{cutoffAt:O}\nloyalty:nobody,{cutoffAt:O}\n");
        var a = TrainingSetBuilder.Build(withTrap.Path, EdgeHost.StoreId, TrainingSetBuilder.ReadCutoffs(cutoffs), LabelSpec.Defaults, Path.Combine(withTrap.Path, "out"));
        var b = TrainingSetBuilder.Build(without.Path, EdgeHost.StoreId, TrainingSetBuilder.ReadCutoffs(cutoffs), LabelSpec.Defaults, Path.Combine(without.Path, "out"));
        Assert.Equal(1, a.Rows);
        Assert.Equal(1, a.UnknownCustomers);
        var rowA = Csv(a.CsvPath);
        var rowB = Csv(b.CsvPath);
        var features = DefaultFeatures.Set.Definitions.Select(d => d.Id).ToList();
        foreach (var id in features)
        {
            Assert.True(rowA[id] == rowB[id], $"{id}: {rowA[id]} with the label event, {rowB[id]} without");
        }

        Assert.Equal("8", rowA["lifetime_purchases@v1"]);
        Assert.Equal("360", rowA["lifetime_spend@v1"]);
        Assert.Equal("1", rowA["purchase_next_30d"]);
        Assert.Equal("0", rowB["purchase_next_30d"]);
        Assert.Equal("999", rowA["spend_next_90d"]);
        Assert.Equal("1", rowB["churn_next_90d"]);
        using var manifest = JsonDocument.Parse(File.ReadAllText(a.ManifestPath));
        Assert.Contains(manifest.RootElement.GetProperty("definitions").EnumerateArray(), d => d.GetProperty("id").GetString() == "spend_30d@v1");
    }

    private static Dictionary<string, string> Csv(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        var row = lines[1].Split(',');
        Assert.Equal(header.Length, row.Length);
        return header.Zip(row).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
    }

    private static JsonElement Feature(JsonElement profile, string name) =>
        profile.GetProperty("features").EnumerateArray().First(f => f.GetProperty("name").GetString() == name);

    private static List<string> Tags(JsonElement profile) =>
        [.. profile.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()!)];

    private static JsonObject Event(string id, string type, string category, DateTimeOffset at, string channel, string? name = null) => new()
    {
        ["eventId"] = id,
        ["type"] = type,
        ["occurredAt"] = at.ToString("O", CultureInfo.InvariantCulture),
        ["storeId"] = EdgeHost.StoreId,
        ["channel"] = channel,
        ["customer"] = new JsonObject { ["appUserId"] = "u-mom" },
        ["product"] = new JsonObject { ["sku"] = "SKU-" + id, ["name"] = name ?? category, ["category"] = category, ["price"] = 99.0 },
    };
}
