using System.Diagnostics;
using Xunit.Abstractions;

namespace EdgeProfile.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class IngestThroughputTests(ITestOutputHelper output)
{
    private const int Events = 10_000;
    private const int Customers = 500;
    private const int InFlight = 256;

    private static double Amount(int i) => (i % 7) + 1 + (i % 3) * 0.25;

    [Fact]
    public async Task Ten_thousand_qos1_events_are_all_stored_and_profiles_updated()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path, EdgeHost.WanDown(dir.Path));
        using var client = await edge.ConnectAsync("pos-bulk");
        var payloads = Enumerable.Range(0, Events)
            .Select(i => TestEvents.JsonBytes($"bulk-{i:D5}", $"L-{i % Customers}", Amount(i)))
            .ToArray();

        var watch = Stopwatch.StartNew();
        var results = await EdgeHost.PublishManyAsync(client, TestEvents.JsonTopic(), payloads, InFlight);
        watch.Stop();
        output.WriteLine($"{Events} QoS 1 events acknowledged in {watch.Elapsed.TotalSeconds:F1}s ({Events / watch.Elapsed.TotalSeconds:F0}/s)");

        Assert.All(results, r => Assert.True(r.IsSuccess, r.ReasonCode.ToString()));
        Assert.True(client.IsConnected);

        // A PUBACK is sent only once the event is durable, so everything is in the file already: no polling.
        Assert.Equal(Events, edge.Count("SELECT COUNT(*) FROM events"));
        Assert.Equal(Events, edge.Count("SELECT COUNT(DISTINCT event_id) FROM events"));
        Assert.Equal(Customers, edge.Count("SELECT COUNT(*) FROM profiles"));

        var stats = await edge.StatsAsync();
        Assert.Equal(Events, stats.GetProperty("eventsStored").GetInt64());
        Assert.Equal(0, stats.GetProperty("duplicatesIgnored").GetInt64());
        Assert.Equal(0, stats.GetProperty("deadLettered").GetInt64());
        Assert.Equal(Events, stats.GetProperty("outbox").GetProperty("backlog").GetInt64()); // the hub is unreachable: nothing drains it
        Assert.Equal(Events, edge.Count("SELECT COUNT(*) FROM outbox"));

        foreach (var customer in new[] { 0, 123, 499 })
        {
            var profile = await edge.ProfileAsync($"loyalty:L-{customer}");
            var mine = Enumerable.Range(0, Events).Where(i => i % Customers == customer).ToList();
            Assert.Equal($"loyalty:L-{customer}", profile.GetProperty("customerKey").GetString());
            Assert.Equal(mine.Count, EdgeHost.Feature(profile, "events_total"));
            Assert.Equal(Math.Round(mine.Sum(Amount), 2), EdgeHost.Feature(profile, "spend_30d"), 2);
        }
    }
}
