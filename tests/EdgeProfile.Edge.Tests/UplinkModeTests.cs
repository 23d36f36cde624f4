namespace EdgeProfile.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class UplinkModeTests
{
    [Fact]
    public async Task Standalone_edge_keeps_no_outbox_and_queues_every_known_customer_once_given_a_hub()
    {
        const int Customers = 7;
        using var dir = new TempDir();
        var standalone = await EdgeHost.StartAsync(dir.Path);
        try
        {
            using var client = await standalone.ConnectAsync("pos-standalone");
            for (var i = 0; i < 21; i++)
            {
                await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes($"solo-{i}", $"L-solo-{i % Customers}"));
            }

            var stats = await standalone.StatsAsync();
            Assert.Equal(21, stats.GetProperty("eventsStored").GetInt64());
            Assert.Equal(0, stats.GetProperty("outbox").GetProperty("backlog").GetInt64());
            Assert.Equal(0, standalone.Count("SELECT COUNT(*) FROM outbox"));
        }
        finally
        {
            await standalone.StopAsync();
        }

        // The same store now has a hub (unreachable here): each customer's latest state is queued exactly once.
        await using var enrolled = await EdgeHost.StartAsync(dir.Path, EdgeHost.WanDown(dir.Path));
        var queued = await enrolled.WaitForStatsAsync(
            s => s.GetProperty("outbox").GetProperty("backlog").GetInt64() == Customers,
            "the outbox holds one delta per known customer");
        Assert.Equal(0, queued.GetProperty("outbox").GetProperty("overflowCustomers").GetInt64());
        Assert.Equal(Customers, enrolled.Count("SELECT COUNT(DISTINCT customer_key) FROM outbox"));
        await enrolled.StopAsync();

        // Seeding happens once: a further restart adds nothing.
        await using var again = await EdgeHost.StartAsync(dir.Path, EdgeHost.WanDown(dir.Path));
        Assert.Equal(0, again.Count("SELECT COUNT(*) FROM outbox_overflow"));
        Assert.Equal(Customers, again.Count("SELECT COUNT(*) FROM outbox"));
    }
}
