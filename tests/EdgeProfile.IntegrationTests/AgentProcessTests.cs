using System.Diagnostics;
using EdgeProfile.IntegrationTests.Infrastructure;
using MQTTnet.Formatter;

namespace EdgeProfile.IntegrationTests;

/// <summary>The real <c>edgeprofile-edge</c> executable as a child process: crash safety and start-up errors.</summary>
[Collection(IntegrationCollection.Name)]
public sealed class AgentProcessTests(ITestOutputHelper output)
{
    private const int Total = 20_000;
    private const int KillAfterAcks = 3_000;

    [Fact]
    public async Task Crash_during_qos1_publish_loses_no_acknowledged_event()
    {
        using var dir = new TempDirectory("crash");
        const string store = "crash-001";
        var dataDir = dir.Sub("edge");
        var mqttPort = Ports.Free();
        var httpPort = Ports.Free();
        string[] args =
        [
            $"--Edge:StoreId={store}",
            $"--Edge:DataDir={dataDir}",
            $"--Edge:Mqtt:Port={mqttPort}",
            $"--Edge:Http:Urls=http://127.0.0.1:{httpPort}",
            .. WanDown(dataDir, store),
        ];
        using var api = new EdgeApiClient(new Uri($"http://127.0.0.1:{httpPort}"));
        var events = TestEvents.Purchases(store, "crash", Total);
        var watch = Stopwatch.StartNew();

        // 1. Publish at full speed (8 connections x 16 in flight) and SIGKILL the agent once a few thousand are acked.
        LoadReport crashed;
        await using (var edge = EdgeProcess.Start(args, dir.Path))
        {
            await api.WaitHealthyAsync(TimeSpan.FromSeconds(60), failure: () => edge.HasExited ? $"exited with {edge.ExitCode}\n{edge.Tail()}" : null);
            Assert.Contains("edgeprofile-edge.dll", edge.CommandLine(), StringComparison.Ordinal);
            var acks = 0;
            var killNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var load = MqttLoad.RunAsync(new LoadPlan("127.0.0.1", mqttPort, TestEvents.Topic(store), events)
            {
                Clients = 8,
                InflightPerClient = 16,
                ClientIdPrefix = "crash-pub",
                Protocol = MqttProtocolVersion.V500,
                OnAck = _ =>
                {
                    if (Interlocked.Increment(ref acks) == KillAfterAcks)
                    {
                        killNow.TrySetResult();
                    }
                },
            });
            await Task.WhenAny(killNow.Task, load).WaitAsync(TimeSpan.FromSeconds(120));
            if (!killNow.Task.IsCompleted)
            {
                Assert.Fail($"only {Volatile.Read(ref acks)} acks before the load ended: {await load}\n{edge.Tail()}");
            }

            edge.KillHard();
            var exit = await edge.WaitForExitAsync(TimeSpan.FromSeconds(10));
            crashed = await load.WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"SIGKILL after {KillAfterAcks} acks: exit code {exit}; load {crashed}; {watch.Elapsed.TotalSeconds:0.0} s");
            Assert.Equal(137, exit); // 128 + SIGKILL: no shutdown code ran
            Assert.True(crashed.Acked.Count < Total, "the crash came too late to interrupt publishing: " + crashed);
            Assert.True(crashed.Failed > 0, "no publish failed, so the kill did not interrupt publishing: " + crashed);
        }

        // 2. Restart on the same data dir; the counters it loads must agree with the rows.
        EdgeStats afterRestart;
        await using (var edge = EdgeProcess.Start(args, dir.Path))
        {
            await api.WaitHealthyAsync(TimeSpan.FromSeconds(60), failure: () => edge.HasExited ? $"exited with {edge.ExitCode}\n{edge.Tail()}" : null);
            afterRestart = await api.StatsSnapshotAsync();
            output.WriteLine($"after restart: {afterRestart}");
            Assert.Equal(0, await edge.TerminateAsync(TimeSpan.FromSeconds(30)));
        }

        using (var db = new EdgeDatabaseFile(dataDir))
        {
            Assert.Equal("ok", db.IntegrityCheck());
            var ids = db.EventIds();
            var counts = ids.GroupBy(id => id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var lost = crashed.Acked.Where(id => !counts.ContainsKey(id)).ToList();
            Assert.True(lost.Count == 0, $"{lost.Count} acknowledged events are missing after the crash, e.g. {string.Join(", ", lost.Take(5))}");
            Assert.All(counts, c => Assert.True(c.Value == 1, $"{c.Key} stored {c.Value} times"));
            Assert.True(ids.Count <= crashed.Attempted, $"{ids.Count} rows but only {crashed.Attempted} publishes were attempted");
            Assert.True(ids.Count >= crashed.Acked.Count);
            Assert.Equal(ids.Count, afterRestart.EventsStored);
            Assert.Equal(0, afterRestart.DeadLettered);

            // Event, profile and outbox delta are written in one transaction: the crash cut between commits, not inside one.
            Assert.Equal(ids.Count, db.Scalar("SELECT COALESCE(SUM(json_extract(state, '$.eventsTotal')), 0) FROM profiles"));
            Assert.Equal(ids.Count, db.Count("outbox")); // the hub is unreachable: nothing drains it, one delta per stored event
            output.WriteLine($"after crash: {ids.Count} rows, {crashed.Acked.Count} acked, {crashed.Attempted} attempted");
        }

        // 3. Clients redeliver everything: what is already stored is ignored, the rest is stored once.
        LoadReport redelivered;
        await using (var edge = EdgeProcess.Start(args, dir.Path))
        {
            await api.WaitHealthyAsync(TimeSpan.FromSeconds(60), failure: () => edge.HasExited ? $"exited with {edge.ExitCode}\n{edge.Tail()}" : null);
            redelivered = await MqttLoad.RunAsync(new LoadPlan("127.0.0.1", mqttPort, TestEvents.Topic(store), events)
            {
                Clients = 8,
                InflightPerClient = 16,
                ClientIdPrefix = "crash-redeliver",
                Protocol = MqttProtocolVersion.V500,
            }).WaitAsync(TimeSpan.FromSeconds(120));
            output.WriteLine($"redelivery: {redelivered}");
            Assert.True(redelivered.Acked.Count == Total, "every redelivered event must be acknowledged: " + redelivered + "\n" + edge.Tail());
            var stats = await api.StatsSnapshotAsync();
            Assert.Equal(Total, stats.EventsStored);
            Assert.Equal(afterRestart.EventsStored, stats.DuplicatesIgnored);
            Assert.Equal(0, await edge.TerminateAsync(TimeSpan.FromSeconds(30)));
        }

        using (var db = new EdgeDatabaseFile(dataDir))
        {
            Assert.Equal("ok", db.IntegrityCheck());
            var ids = db.EventIds();
            Assert.Equal(Total, ids.Count);
            Assert.Equal(Total, ids.Distinct(StringComparer.Ordinal).Count());
            Assert.Equal(Total, db.Counter("events_stored"));
        }

        output.WriteLine($"total {watch.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// A store enrolled earlier whose WAN is down: a stored credential and a hub address nothing listens on, so the
    /// uplink is on and every delta stays in the outbox.
    /// </summary>
    private static string[] WanDown(string dataDir, string store)
    {
        Directory.CreateDirectory(dataDir);
        var hub = $"http://127.0.0.1:{Ports.Free()}";
        File.WriteAllText(Path.Combine(dataDir, "credential.json"), System.Text.Json.JsonSerializer.Serialize(new
        {
            StoreId = store,
            Credential = "wan-down-test",
            PseudonymKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32),
            HubUrl = hub,
        }));
        return [$"--Edge:HubUrl={hub}"];
    }

    [Theory]
    [InlineData("missing store id", "Edge:StoreId", new string[0])]
    [InlineData("port not a number", "Edge:Mqtt:Port", new[] { "--Edge:StoreId=bad-config", "--Edge:Mqtt:Port=abc" })]
    public async Task Bad_config_fails_at_start_naming_the_key(string why, string key, string[] args)
    {
        using var dir = new TempDirectory("badconfig");
        var httpPort = Ports.Free();
        var mqttPort = Ports.Free();
        string[] all = [$"--Edge:Http:Urls=http://127.0.0.1:{httpPort}", $"--Edge:DataDir={dir.Sub("edge")}", .. args];
        if (!args.Any(a => a.StartsWith("--Edge:Mqtt:Port=", StringComparison.Ordinal)))
        {
            all = [.. all, $"--Edge:Mqtt:Port={mqttPort}"];
        }

        await using var edge = EdgeProcess.Start(all, dir.Path);
        var exit = await edge.WaitForExitAsync(TimeSpan.FromSeconds(60));
        var stderr = edge.StandardError.Trim();
        output.WriteLine($"{why}: exit {exit}; stderr: {stderr}");
        Assert.True(exit != 0, $"{why}: the agent exited 0\n{edge.Tail()}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"{why}: expected one line on stderr, got {lines.Length}\n{edge.Tail()}");
        Assert.Contains(key, lines[0], StringComparison.Ordinal);
        Assert.StartsWith("edgeprofile-edge: ", lines[0], StringComparison.Ordinal);
    }
}
