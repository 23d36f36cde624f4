using System.Text.Json;
using Xunit.Abstractions;

namespace EdgeProfile.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class OutboxBudgetTests(ITestOutputHelper output)
{
    private const long Budget = 1024 * 1024;
    private const int Chunk = 2_000;
    private const int MaxEvents = 20_000;

    [Fact]
    public async Task Full_outbox_stops_growing_at_the_disk_budget_and_ingest_continues()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path, [.. EdgeHost.WanDown(dir.Path), "--Edge:Uplink:DiskBudgetMb=1"]);
        using var client = await edge.ConnectAsync("pos-flood");
        var sent = 0;

        // Every event is a new customer, so each adds one delta (~130 bytes): about 8,000 fill the 1 MiB budget.
        async Task<JsonElement> SendChunkAsync(int count)
        {
            var payloads = Enumerable.Range(sent, count).Select(i => TestEvents.JsonBytes($"flood-{i}", $"L-flood-{i}", 1));
            var results = await EdgeHost.PublishManyAsync(client, TestEvents.JsonTopic(), payloads, inFlight: 256);
            Assert.All(results, r => Assert.True(r.IsSuccess));
            sent += count;
            return await edge.StatsAsync();
        }

        JsonElement stats;
        do
        {
            stats = await SendChunkAsync(Chunk);
        }
        while (Overflow(stats) == 0 && sent < MaxEvents);

        var bytesWhenFull = Outbox(stats, "bytes");
        var overflowWhenFull = Overflow(stats);
        Assert.True(overflowWhenFull > 0, $"the outbox never filled after {sent} events: {stats}");

        // Once full, ingest goes on and the outbox stays where it is.
        stats = await SendChunkAsync(1_000);

        var bytes = Outbox(stats, "bytes");
        var backlog = Outbox(stats, "backlog");
        var overflow = Overflow(stats);
        output.WriteLine($"{sent} events; outbox: {backlog} deltas, {bytes} bytes (~{bytes / Math.Max(1, backlog)} each), {overflow} customers waiting");
        Assert.Equal(sent, stats.GetProperty("eventsStored").GetInt64());
        Assert.Equal(sent, edge.Count("SELECT COUNT(*) FROM events"));
        Assert.Equal(sent, edge.Count("SELECT COUNT(*) FROM profiles"));
        Assert.Equal(Budget, Outbox(stats, "budgetBytes"));
        Assert.InRange(bytes, Budget * 9 / 10, Budget);
        Assert.InRange(bytes - bytesWhenFull, 0, 1024);
        Assert.True(overflow >= overflowWhenFull + 990, $"overflow went from {overflowWhenFull} to {overflow}");
        // Every customer is new, so each has either a delta waiting or a place in the overflow list.
        Assert.Equal(sent, backlog + overflow);
        Assert.Equal(backlog, edge.Count("SELECT COUNT(*) FROM outbox"));
        Assert.Equal(bytes, edge.Count("SELECT COALESCE(SUM(length(payload)),0) FROM outbox"));
        Assert.Equal(overflow, edge.Count("SELECT COUNT(*) FROM outbox_overflow"));

        // The local view stays live for customers whose delta did not fit.
        Assert.Equal(1, EdgeHost.Feature(await edge.ProfileAsync($"loyalty:L-flood-{sent - 1}"), "events_total"));
    }

    private static long Outbox(JsonElement stats, string name) => stats.GetProperty("outbox").GetProperty(name).GetInt64();

    private static long Overflow(JsonElement stats) => Outbox(stats, "overflowCustomers");
}
