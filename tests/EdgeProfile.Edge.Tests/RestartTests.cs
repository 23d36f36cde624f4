using System.Text.Json.Nodes;

namespace EdgeProfile.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class RestartTests
{
    [Fact]
    public async Task Restart_on_the_same_data_dir_keeps_events_counts_profiles_and_dedup()
    {
        const int Count = 50;
        using var dir = new TempDir();
        var first = await EdgeHost.StartAsync(dir.Path, EdgeHost.WanDown(dir.Path));
        try
        {
            using var client = await first.ConnectAsync("pos-before");
            for (var i = 0; i < Count; i++)
            {
                var e = TestEvents.Json($"keep-{i}", $"L-keep-{i % 5}", amount: 2);
                if (i == 0)
                {
                    e["customer"]!["email"] = "a@b.cn";
                }

                await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), e.Bytes());
            }

            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("keep-0", "L-keep-0"));
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), new JsonObject { ["eventId"] = "broken" }.Bytes());
        }
        finally
        {
            await first.StopAsync();
        }

        await using var second = await EdgeHost.StartAsync(dir.Path, EdgeHost.WanDown(dir.Path));

        var stats = await second.StatsAsync();
        Assert.Equal(Count, stats.GetProperty("eventsStored").GetInt64());
        Assert.Equal(1, stats.GetProperty("duplicatesIgnored").GetInt64());
        Assert.Equal(1, stats.GetProperty("deadLettered").GetInt64());
        Assert.Equal(Count, stats.GetProperty("outbox").GetProperty("backlog").GetInt64());
        Assert.Equal(Count, second.Count("SELECT COUNT(*) FROM events"));
        Assert.Single(await second.DeadLettersAsync(10));
        // The pseudonymisation key survived too: a raw email seen before the restart still finds its customer.
        Assert.Equal(Count / 5, EdgeHost.Feature(await second.ProfileAsync("email:a@b.cn"), "events_total"));

        using (var client = await second.ConnectAsync("pos-after"))
        {
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("keep-7", "L-keep-2", 2));
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("new-1", "L-keep-2", 2));
        }

        stats = await second.StatsAsync();
        Assert.Equal(Count + 1, stats.GetProperty("eventsStored").GetInt64());
        Assert.Equal(2, stats.GetProperty("duplicatesIgnored").GetInt64());
        Assert.Equal(1, second.Count("SELECT COUNT(*) FROM events WHERE event_id='keep-7'"));
        var profile = await second.ProfileAsync("loyalty:L-keep-2");
        Assert.Equal(Count / 5 + 1, EdgeHost.Feature(profile, "events_total"));
        Assert.Equal((Count / 5 + 1) * 2, EdgeHost.Feature(profile, "spend_30d"));
    }

    [Fact]
    public async Task Data_dir_of_another_store_is_refused_naming_the_store_id()
    {
        using var dir = new TempDir();
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "credential.json"),
            """{"StoreId":"store-other","Credential":"c","PseudonymKey":"AAAAAAAAAAAAAAAAAAAAAA==","HubUrl":"http://127.0.0.1:1"}""");

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => EdgeHost.StartAsync(dir.Path));

        var message = EdgeProfile.Hosting.ServiceRunner.Describe(ex);
        Assert.NotNull(message);
        Assert.Contains("Edge:StoreId", message, StringComparison.Ordinal);
        Assert.Contains("store-other", message, StringComparison.Ordinal);
    }
}
