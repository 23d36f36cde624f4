using EdgeProfile.Core.Events;
using EdgeProfile.Edge.Log;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;

namespace EdgeProfile.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class RedeliveryTests
{
    [Fact]
    public async Task Redelivered_event_is_stored_once_and_counted_as_duplicate()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path, EdgeHost.WanDown(dir.Path));
        using var client = await edge.ConnectAsync("pos-redeliver");
        var payload = TestEvents.JsonBytes("dup-1", "L-dup", 100);

        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), payload);
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), payload);
        // A redelivery may differ in bytes (other field order, a retry counter); eventId alone decides.
        var changed = TestEvents.Json("dup-1", "L-dup", amount: 999);
        changed["attributes"] = new System.Text.Json.Nodes.JsonObject { ["retry"] = "1" };
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), changed.Bytes());

        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM events WHERE event_id='dup-1'"));
        var stats = await edge.StatsAsync();
        Assert.Equal(1, stats.GetProperty("eventsStored").GetInt64());
        Assert.Equal(2, stats.GetProperty("duplicatesIgnored").GetInt64());
        Assert.Equal(1, stats.GetProperty("outbox").GetProperty("backlog").GetInt64());
        var profile = await edge.ProfileAsync("loyalty:L-dup");
        Assert.Equal(1, EdgeHost.Feature(profile, "events_total"));
        Assert.Equal(100, EdgeHost.Feature(profile, "spend_30d"));
    }

    [Fact]
    public async Task Redelivered_protobuf_event_is_a_duplicate_of_its_json_twin()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path, EdgeHost.WanDown(dir.Path));
        using var client = await edge.ConnectAsync("pos-twin");

        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("twin-1", "L-twin"));
        await EdgeHost.AckedAsync(client, TestEvents.ProtoTopic(), TestEvents.ProtoBytes("twin-1", "L-twin"));

        var stats = await edge.StatsAsync();
        Assert.Equal(1, stats.GetProperty("eventsStored").GetInt64());
        Assert.Equal(1, stats.GetProperty("duplicatesIgnored").GetInt64());
    }

    [Fact]
    public async Task Both_copies_in_one_group_commit_batch_are_stored_once()
    {
        using var dir = new TempDir();
        IngestItem? first = null, second = null;

        // Queue both copies before the log writer runs: its first read then takes them together into one batch,
        // so the duplicate check inside a single transaction is what is tested.
        await using var edge = await EdgeHost.StartAsync(dir.Path, async app =>
        {
            var writer = app.Services.GetRequiredService<LogWriter>();
            var validator = new EventValidator(TimeProvider.System, TimeSpan.FromMinutes(10));
            var payload = TestEvents.JsonBytes("batch-dup", "L-batch", 50);
            first = Item(payload, validator);
            second = Item(payload, validator);
            await writer.SubmitAsync(first, CancellationToken.None);
            await writer.SubmitAsync(second, CancellationToken.None);
        }, EdgeHost.WanDown(dir.Path));

        await first!.Durable.WaitAsync(TimeSpan.FromSeconds(20));
        await second!.Durable.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM events WHERE event_id='batch-dup'"));
        var stats = await edge.StatsAsync();
        Assert.Equal(1, stats.GetProperty("eventsStored").GetInt64());
        Assert.Equal(1, stats.GetProperty("duplicatesIgnored").GetInt64());
        Assert.Equal(1, stats.GetProperty("outbox").GetProperty("backlog").GetInt64());
        var profile = await edge.ProfileAsync("loyalty:L-batch");
        Assert.Equal(1, EdgeHost.Feature(profile, "events_total"));
        Assert.Equal(50, EdgeHost.Feature(profile, "spend_30d"));
    }

    [Fact]
    public async Task Concurrent_redeliveries_from_two_publishers_are_stored_once()
    {
        const int Unique = 300;
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path, EdgeHost.WanDown(dir.Path));
        using var a = await edge.ConnectAsync("pos-a");
        using var b = await edge.ConnectAsync("pos-b");
        var payloads = Enumerable.Range(0, Unique).Select(i => TestEvents.JsonBytes($"race-{i}", $"L-race-{i % 10}", 1)).ToArray();

        async Task<MqttClientPublishResult[]> SendAllAsync(IMqttClient client) =>
            await Task.WhenAll(payloads.Select(p => EdgeHost.PublishAsync(client, TestEvents.JsonTopic(), p)));

        var results = await Task.WhenAll(SendAllAsync(a), SendAllAsync(b));

        Assert.All(results.SelectMany(r => r), r => Assert.True(r.IsSuccess));
        Assert.Equal(Unique, edge.Count("SELECT COUNT(*) FROM events"));
        var stats = await edge.StatsAsync();
        Assert.Equal(Unique, stats.GetProperty("eventsStored").GetInt64());
        Assert.Equal(Unique, stats.GetProperty("duplicatesIgnored").GetInt64());
        var profile = await edge.ProfileAsync("loyalty:L-race-3");
        Assert.Equal(Unique / 10, EdgeHost.Feature(profile, "events_total"));
    }

    private static IngestItem Item(byte[] payload, EventValidator validator)
    {
        var decoded = JsonEventReader.Decode(payload, EdgeHost.StoreId, validator);
        Assert.True(decoded.IsValid, decoded.Reason);
        return new IngestItem(TestEvents.JsonTopic(), payload, PayloadFormat.Json, decoded, DateTimeOffset.UtcNow, awaitDurable: true)
        {
            CustomerKeys = ["loyalty:L-batch"],
        };
    }
}
