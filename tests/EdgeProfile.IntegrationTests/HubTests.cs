using System.Diagnostics;
using EdgeProfile.Hosting;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>Edges and a real hub over loopback gRPC: store-and-forward across a hub outage, and enrollment end to end.</summary>
[Collection(IntegrationCollection.Name)]
public sealed class HubTests(ITestOutputHelper output)
{
    private const string OperatorToken = "it-operator-token-0123456789";
    private const int Customers = 100;
    private const int MinEventsPerEdge = 4_000;
    private const double RatePerEdge = 700;

    [Fact]
    public async Task Wan_cut_under_load_leaves_no_gap_and_no_duplicate_at_the_hub()
    {
        using var dir = new TempDirectory("wan");
        var hubDir = dir.Sub("hub");
        var hubPort = Ports.Free(); // fixed, so the restarted hub has the same address
        string[] stores = ["wan-s1", "wan-s2"];
        var hub = await HubHost.StartAsync(hubDir, hubPort, OperatorToken, output);
        var edges = new List<InProcessEdge>();
        var mqttPorts = new List<int>();
        var stopPublishing = false;
        var loads = new List<Task<LoadReport>>();
        var watch = Stopwatch.StartNew();
        try
        {
            foreach (var store in stores)
            {
                var token = await hub.CreateEnrollmentTokenAsync(store);
                mqttPorts.Add(Ports.Free());
                edges.Add(await InProcessEdge.StartAsync(store, dir.Sub(store), mqttPorts[^1], output,
                    $"--Edge:HubUrl={hub.Address}", $"--Edge:EnrollmentToken={token}", "--Edge:Uplink:MaxBackoff=00:00:01"));
            }

            foreach (var edge in edges)
            {
                await Poll.UntilAsync(edge.Api.HealthAsync, h => h.GetProperty("hub").GetProperty("enrolled").GetBoolean() && h.GetProperty("hub").GetProperty("connected").GetBoolean(),
                    TimeSpan.FromSeconds(30), $"{edge.StoreId} enrolled and connected to the hub");
            }

            // Steady load on both edges until told to stop (an upper bound of events keeps it finite).
            foreach (var (edge, port) in edges.Zip(mqttPorts))
            {
                loads.Add(MqttLoad.RunAsync(new LoadPlan("127.0.0.1", port, TestEvents.Topic(edge.StoreId), TestEvents.Purchases(edge.StoreId, edge.StoreId, 30_000, Customers))
                {
                    Clients = 2,
                    InflightPerClient = 8,
                    ClientIdPrefix = "wan-pub-" + edge.StoreId,
                    RatePerSecond = RatePerEdge,
                    Stop = () => Volatile.Read(ref stopPublishing),
                }));
            }

            // Hub up: deltas flow.
            foreach (var edge in edges)
            {
                await Poll.UntilAsync(async () => (await edge.Api.HealthAsync()).GetProperty("hub").GetProperty("ackedThrough").GetInt64(), a => a >= 500,
                    TimeSpan.FromSeconds(30), $"{edge.StoreId}: hub acks before the cut");
            }

            // WAN cut: the hub goes away while the stores keep selling.
            await hub.StopAsync();
            var cutAt = watch.Elapsed;
            var atCut = await StatsAsync(edges);
            output.WriteLine($"hub stopped at {cutAt.TotalSeconds:0.0} s: {string.Join("; ", atCut)}");
            foreach (var edge in edges)
            {
                await Poll.UntilAsync(async () => (await edge.Api.HealthAsync()).GetProperty("hub").GetProperty("connected").GetBoolean(), c => !c,
                    TimeSpan.FromSeconds(15), $"{edge.StoreId} to notice the hub is gone");
            }

            await Poll.UntilAsync(async () => watch.Elapsed - cutAt >= TimeSpan.FromSeconds(3) && (await StatsAsync(edges)).Zip(atCut).All(p => p.First.EventsStored >= p.Second.EventsStored + 1_000),
                TimeSpan.FromSeconds(30), "ingest to go on while the hub is down");
            var beforeRestart = await StatsAsync(edges);
            output.WriteLine($"hub down {(watch.Elapsed - cutAt).TotalSeconds:0.0} s: {string.Join("; ", beforeRestart)}");
            foreach (var (during, cut) in beforeRestart.Zip(atCut))
            {
                Assert.True(during.EventsStored > cut.EventsStored, $"ingest stalled while the hub was down: {cut} -> {during}");
                Assert.True(during.OutboxBacklog > cut.OutboxBacklog, $"the outbox did not grow while the hub was down: {cut} -> {during}");
            }

            Assert.DoesNotContain(loads, l => l.IsCompleted);

            // WAN back: same address, same data dir.
            hub = await HubHost.StartAsync(hubDir, hubPort, OperatorToken, output);
            output.WriteLine($"hub restarted at {watch.Elapsed.TotalSeconds:0.0} s");
            await Poll.UntilAsync(async () => (await StatsAsync(edges)).Zip(beforeRestart).All(p => p.First.EventsStored >= Math.Max(p.Second.EventsStored + 1_000, MinEventsPerEdge)),
                TimeSpan.FromSeconds(60), "more load after the hub is back");
            Volatile.Write(ref stopPublishing, true);
            var reports = await Task.WhenAll(loads).WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"publishing ended at {watch.Elapsed.TotalSeconds:0.0} s: {string.Join("; ", reports.Select(r => r.ToString()))}");
            Assert.All(reports, r => Assert.True(r.Failed == 0 && r.Acked.Count == r.Attempted, "every publish must be acknowledged: " + r));

            // Drain: every edge's outbox empties into the hub.
            var drained = await Poll.UntilAsync(() => StatsAsync(edges), s => s.All(x => x.OutboxBacklog == 0), TimeSpan.FromSeconds(90), "both outboxes to drain");
            output.WriteLine($"drained at {watch.Elapsed.TotalSeconds:0.0} s: {string.Join("; ", drained)}");

            var hubStores = await hub.StoresAsync();
            for (var i = 0; i < edges.Count; i++)
            {
                var edge = edges[i];
                var stats = drained[i];
                Assert.Equal(reports[i].Acked.Count, stats.EventsStored); // nothing acked was lost, nothing was stored twice
                Assert.Equal(0, stats.DuplicatesIgnored);
                Assert.Equal(0, stats.DeadLettered);

                // One delta per stored event (LogWriter appends an outbox row for every newly stored event), numbered 1..n.
                var atHub = Assert.Single(hubStores, s => s.StoreId == edge.StoreId);
                Assert.Equal(stats.EventsStored, atHub.AckedThrough);
                Assert.Equal(0, atHub.Backlog);
                Assert.Equal(0, atHub.OldestBacklogAgeMs); // no backlog, so no age
                Assert.False(atHub.Revoked);
                var health = await edge.Api.HealthAsync();
                Assert.Equal(stats.EventsStored, health.GetProperty("hub").GetProperty("ackedThrough").GetInt64());
            }

            // The hub's view of every customer is each store's latest: per-store event totals match the edges exactly
            // (a lost delta would leave a stale total, a gap would have been refused), and they add up to what was stored.
            var totals = stores.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
            var lastSequence = stores.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
            for (var c = 0; c < Customers; c++)
            {
                var key = $"loyalty:L-{c}";
                var profile = await hub.ProfileAsync(key) ?? throw new Xunit.Sdk.XunitException($"the hub has no global profile for {key}");
                Assert.StartsWith("ep:", profile.GetProperty("profileId").GetString(), StringComparison.Ordinal);
                Assert.Contains(key, profile.GetProperty("identifiers").EnumerateArray().Select(x => x.GetString()));
                var entries = profile.GetProperty("stores").EnumerateArray().ToList();
                Assert.Equal(stores.Length, profile.GetProperty("global").GetProperty("storesSeen").GetInt32());
                foreach (var edge in edges)
                {
                    var entry = Assert.Single(entries, e => e.GetProperty("storeId").GetString() == edge.StoreId);
                    var local = await edge.Api.ProfileAsync(key) ?? throw new Xunit.Sdk.XunitException($"{edge.StoreId} has no profile for {key}");
                    var localTotal = local.GetProperty("features").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "events_total").GetProperty("value").GetInt64();
                    var hubTotal = entry.GetProperty("eventsTotal").GetInt64();
                    Assert.True(localTotal == hubTotal, $"{key} at {edge.StoreId}: edge has {localTotal} events, hub's latest view {hubTotal}");
                    totals[edge.StoreId] += hubTotal;
                    lastSequence[edge.StoreId] = Math.Max(lastSequence[edge.StoreId], entry.GetProperty("updatedSequence").GetInt64());
                }
            }

            for (var i = 0; i < edges.Count; i++)
            {
                Assert.Equal(drained[i].EventsStored, totals[edges[i].StoreId]);
                Assert.Equal(drained[i].EventsStored, lastSequence[edges[i].StoreId]);
            }

            output.WriteLine($"total {watch.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            Volatile.Write(ref stopPublishing, true);
            try
            {
                await Task.WhenAll(loads).WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                output.WriteLine("load ended with " + ex.Message);
            }

            foreach (var edge in edges)
            {
                await edge.DisposeAsync();
            }

            await hub.DisposeAsync();
        }
    }

    [Fact]
    public async Task Edge_with_an_already_used_enrollment_token_fails_at_start_naming_Edge_EnrollmentToken()
    {
        using var dir = new TempDirectory("enroll");
        await using var hub = await HubHost.StartAsync(dir.Sub("hub"), 0, OperatorToken, output);
        const string store = "enroll-001";
        var token = await hub.CreateEnrollmentTokenAsync(store);
        string[] hubArgs = [$"--Edge:HubUrl={hub.Address}", $"--Edge:EnrollmentToken={token}"];

        // The token's rightful first use.
        await using var first = await InProcessEdge.StartAsync(store, dir.Sub("edge-a"), Ports.Free(), output, hubArgs);
        var health = await first.Api.HealthAsync();
        Assert.True(health.GetProperty("hub").GetProperty("enrolled").GetBoolean(), health.GetRawText());
        await first.StopAsync();

        // A second machine (fresh data dir) replaying the same token is refused at once, not after Edge:EnrollTimeout.
        var watch = Stopwatch.StartNew();
        var error = await Record.ExceptionAsync(async () =>
        {
            await using var unexpected = await InProcessEdge.StartAsync(store, dir.Sub("edge-b"), Ports.Free(), output, hubArgs);
        });
        Assert.True(error is not null, "an edge started with an already used enrollment token");
        var message = ServiceRunner.Describe(error);
        output.WriteLine($"refused after {watch.Elapsed.TotalSeconds:0.0} s: {error.GetType().Name}: {message ?? error.Message}");
        Assert.True(message is not null, $"not described as a configuration error: {error}");
        Assert.Contains("Edge:EnrollmentToken", message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        Assert.False(File.Exists(Path.Combine(dir.Sub("edge-b"), "credential.json")), "a refused edge must not keep a credential");

        var stores = await hub.StoresAsync();
        Assert.Equal(store, Assert.Single(stores).StoreId);
    }

    private static async Task<EdgeStats[]> StatsAsync(IEnumerable<InProcessEdge> edges) =>
        await Task.WhenAll(edges.Select(e => e.Api.StatsSnapshotAsync()));
}
