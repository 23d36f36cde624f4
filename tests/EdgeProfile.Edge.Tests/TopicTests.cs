using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeProfile.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class TopicTests
{
    [Fact]
    public async Task Protobuf_event_on_events_pb_is_stored()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("kiosk-pb");

        await EdgeHost.AckedAsync(client, TestEvents.ProtoTopic(), TestEvents.ProtoBytes("pb-1", "L-pb", 42));

        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM events WHERE event_id='pb-1' AND format=1 AND topic='ep/v1/store-t/events.pb'"));
        var profile = await edge.ProfileAsync("loyalty:L-pb");
        Assert.Equal(42, EdgeHost.Feature(profile, "spend_30d"));
        Assert.Empty(await edge.DeadLettersAsync(10));
    }

    [Theory]
    [InlineData("devices/d1/messages/events/")]
    [InlineData("devices/d1/messages/events/%24.ct=application%2Fjson")]
    [InlineData("devices/scanner-7/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8")]
    public async Task Device_event_on_an_iot_hub_topic_is_stored_under_the_edges_store(string topic)
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("device-gw");
        var withoutStore = TestEvents.Json("dev-1", "L-dev", storeId: null);
        var withStore = TestEvents.Json("dev-2", "L-dev");

        await EdgeHost.AckedAsync(client, topic, withoutStore.Bytes());
        await EdgeHost.AckedAsync(client, topic, withStore.Bytes());

        Assert.Empty(await edge.DeadLettersAsync(10));
        Assert.Equal(2, edge.Count($"SELECT COUNT(*) FROM events WHERE topic='{topic}' AND format=0"));
        var profile = await edge.ProfileAsync("loyalty:L-dev");
        Assert.Equal(2, EdgeHost.Feature(profile, "events_total"));
        Assert.Equal(EdgeHost.StoreId, profile.GetProperty("storeId").GetString());
    }

    [Fact]
    public async Task Device_event_naming_another_store_is_dead_lettered_naming_store_id()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("device-gw");

        await EdgeHost.AckedAsync(client, "devices/d1/messages/events/", TestEvents.Json("dev-x", storeId: "store-x").Bytes());

        var letter = Assert.Single(await edge.DeadLettersAsync(10));
        Assert.Equal("storeId", letter.GetProperty("field").GetString());
        Assert.Equal(0, edge.Count("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public async Task Qos0_events_are_stored_too()
    {
        const int Count = 200;
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("web-qos0");

        for (var i = 0; i < Count; i++)
        {
            await EdgeHost.PublishAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes($"q0-{i}", $"L-q0-{i % 4}", 1), MqttQualityOfServiceLevel.AtMostOnce);
        }

        // QoS 0 has no acknowledgement to wait for: poll until the writer has committed them all.
        await edge.WaitForStatsAsync(s => s.GetProperty("eventsStored").GetInt64() == Count, $"{Count} QoS 0 events stored");
        Assert.Equal(Count, edge.Count("SELECT COUNT(*) FROM events"));
        Assert.Equal(Count / 4, EdgeHost.Feature(await edge.ProfileAsync("loyalty:L-q0-2"), "events_total"));
    }

    [Fact]
    public async Task Mqtt5_publisher_is_accepted()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("app-v5", MqttProtocolVersion.V500);

        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("v5-1", "L-v5"));

        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM events WHERE event_id='v5-1'"));
    }

    [Fact]
    public async Task Subscriber_on_the_embedded_broker_still_receives_event_messages()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var subscriber = await edge.ConnectAsync("screen");
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        subscriber.ApplicationMessageReceivedAsync += e =>
        {
            received.TrySetResult(e.ApplicationMessage.Topic);
            return Task.CompletedTask;
        };
        await subscriber.SubscribeAsync(new MQTTnet.MqttClientSubscribeOptionsBuilder().WithTopicFilter("ep/v1/+/events").Build());
        using var publisher = await edge.ConnectAsync("pos-sub");

        await EdgeHost.AckedAsync(publisher, TestEvents.JsonTopic(), TestEvents.JsonBytes("sub-1"));

        Assert.Equal(TestEvents.JsonTopic(), await received.Task.WaitAsync(TimeSpan.FromSeconds(20)));
    }
}
