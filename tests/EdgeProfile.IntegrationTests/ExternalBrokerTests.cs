using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>External-broker mode against Debian's mosquitto: the broker holds the edge's persistent session while it is down.</summary>
[Collection(IntegrationCollection.Name)]
public sealed class ExternalBrokerTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private const int Total = 10_000;
    private const int StopAfterAcks = 2_500;
    private const int PublishedWhileDown = 1_500;

    private readonly TempDirectory _dir = new("external");
    private MosquittoBroker? _mosquitto;

    public async Task InitializeAsync() => _mosquitto = await MosquittoBroker.StartAsync(_dir.Path);

    public async Task DisposeAsync()
    {
        if (_mosquitto is not null)
        {
            output.WriteLine("mosquitto log:\n" + _mosquitto.Log);
            await _mosquitto.DisposeAsync();
        }
    }

    // xunit calls this after DisposeAsync, once mosquitto is stopped.
    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Edge_restart_during_publishing_to_external_broker_loses_nothing()
    {
        const string store = "ext-001";
        var broker = _mosquitto!;
        var dataDir = _dir.Sub("edge");
        string[] external = ["--Edge:Mqtt:Mode=external", "--Edge:Mqtt:Host=127.0.0.1"];
        var events = TestEvents.Purchases(store, "ext", Total);

        var first = await InProcessEdge.StartAsync(store, dataDir, broker.Port, output, external);
        InProcessEdge? second = null;
        try
        {
            await first.Api.WaitHealthyAsync(TimeSpan.FromSeconds(30), requireMqttConnected: true);

            // Paced so that publishing is still going on while the edge is down and when it comes back.
            var acks = 0;
            var load = MqttLoad.RunAsync(new LoadPlan("127.0.0.1", broker.Port, TestEvents.Topic(store), events)
            {
                Clients = 2,
                InflightPerClient = 16,
                ClientIdPrefix = "ext-pub",
                RatePerSecond = 2_000,
                OnAck = _ => Interlocked.Increment(ref acks),
            });

            await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref acks) >= StopAfterAcks || load.IsCompleted), TimeSpan.FromSeconds(60), $"{StopAfterAcks} publishes acked by mosquitto", 10);
            Assert.False(load.IsCompleted, "the load ended before the edge could be stopped: " + (load.IsFaulted ? load.Exception!.Message : ""));
            var beforeStop = await first.Api.StatsSnapshotAsync();
            await first.StopAsync();
            var ackedAtStop = Volatile.Read(ref acks);
            output.WriteLine($"edge stopped: {beforeStop}; {ackedAtStop} acked by mosquitto");

            // Publishing goes on against mosquitto, which queues for the edge's persistent session.
            await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref acks) >= ackedAtStop + PublishedWhileDown), TimeSpan.FromSeconds(30), "publishing to go on while the edge is down", 10);
            var ackedAtRestart = Volatile.Read(ref acks);
            second = await InProcessEdge.StartAsync(store, dataDir, broker.Port, output, external);
            var health = await second.Api.WaitHealthyAsync(TimeSpan.FromSeconds(30), requireMqttConnected: true);
            var ackedWhenBack = Volatile.Read(ref acks);
            output.WriteLine($"edge back after {ackedAtRestart - ackedAtStop} publishes while down, {ackedWhenBack} in all: {health.GetRawText()}");
            Assert.True(ackedWhenBack < Total, "publishing had ended before the edge came back");

            var report = await load.WaitAsync(TimeSpan.FromSeconds(120));
            output.WriteLine("load: " + report);
            Assert.True(report.Acked.Count == Total, "mosquitto must acknowledge every publish: " + report);

            var stats = await Poll.UntilAsync(second.Api.StatsSnapshotAsync, s => s.EventsStored >= Total, TimeSpan.FromSeconds(90), $"{Total} events stored");
            output.WriteLine($"after publishing: {stats}");
            Assert.Equal(Total, stats.EventsStored);
            Assert.Equal(0, stats.DeadLettered);

            await second.StopAsync();
            using var db = new EdgeDatabaseFile(dataDir);
            Assert.Equal("ok", db.IntegrityCheck());
            var ids = db.EventIds();
            Assert.Equal(Total, ids.Count);
            Assert.Equal(events.Select(e => e.EventId).Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
            Assert.Equal(Total, db.Counter("events_stored"));

            // Redeliveries of what was durable but not yet acknowledged to mosquitto are allowed, but only as counted duplicates.
            output.WriteLine($"duplicates ignored (redelivered by mosquitto): {db.Counter("duplicates")}");
            Assert.Equal(stats.DuplicatesIgnored, db.Counter("duplicates"));
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }
}
