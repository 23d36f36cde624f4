using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>Other people's MQTT clients against the embedded broker: what POS integrators actually run.</summary>
[Collection(IntegrationCollection.Name)]
public sealed class InteropTests(ITestOutputHelper output)
{
    private const int PerClient = 10_000;

    // paho 1.6 (Debian 12) and 2.x both: explicit client id, QoS 1, 100 in flight, wait for every PUBACK.
    private const string PahoScript = """
        import sys, threading
        import paho.mqtt.client as mqtt

        host, port, topic, client_id, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
        if hasattr(mqtt, "CallbackAPIVersion"):
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311)
        else:
            client = mqtt.Client(client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311)
        client.max_inflight_messages_set(100)
        connected = threading.Event()
        def on_connect(c, userdata, flags, rc):
            if rc == 0:
                connected.set()
            else:
                print("connect refused rc=%s" % rc, file=sys.stderr)
        client.on_connect = on_connect
        client.connect(host, port, keepalive=60)
        client.loop_start()
        if not connected.wait(15):
            sys.exit("not connected within 15 s")
        infos = []
        with open(path, "rb") as f:
            for line in f:
                line = line.rstrip(b"\r\n")
                if line:
                    infos.append(client.publish(topic, line, qos=1))
        for info in infos:
            info.wait_for_publish(60)
        missing = sum(1 for info in infos if not info.is_published())
        client.disconnect()
        client.loop_stop()
        print("published %d acked %d" % (len(infos), len(infos) - missing))
        sys.exit(1 if missing else 0)
        """;

    [Fact]
    public async Task MQTTnet_mosquitto_pub_and_paho_qos1_events_are_each_stored_once_and_reach_the_hub()
    {
        using var dir = new TempDirectory("interop");
        const string store = "interop-001";
        const string operatorToken = "interop-operator-token-0123456789";
        await using var hub = await HubHost.StartAsync(dir.Sub("hub"), 0, operatorToken, output);
        var enrollment = await hub.CreateEnrollmentTokenAsync(store);
        var mqttPort = Ports.Free();
        await using var edge = await InProcessEdge.StartAsync(store, dir.Sub("edge"), mqttPort, output,
            $"--Edge:HubUrl={hub.Address}", $"--Edge:EnrollmentToken={enrollment}");
        var topic = TestEvents.Topic(store);

        // MQTTnet: 10,000 QoS 1 events over 4 connections, 16 in flight each; every one must be acknowledged.
        var viaMqttnet = TestEvents.Purchases(store, "mqttnet", PerClient);
        var load = await MqttLoad.RunAsync(new LoadPlan("127.0.0.1", mqttPort, topic, viaMqttnet) { ClientIdPrefix = "it-mqttnet" });
        Assert.True(load.Failed == 0 && load.Acked.Count == PerClient, $"MQTTnet publishes: {load.Acked.Count} acked, {load.Failed} failed ({load.FirstError?.Message})");
        var afterMqttnet = await edge.Api.StatsSnapshotAsync();
        Assert.Equal(PerClient, afterMqttnet.EventsStored); // acknowledged = durable: no polling needed
        Assert.Equal(0, afterMqttnet.DuplicatesIgnored);

        // mosquitto_pub -l: one message per stdin line, QoS 1, explicit client id.
        var viaMosquitto = TestEvents.Purchases(store, "mosq", PerClient);
        var pub = await ExternalTool.RunAsync(
            "/usr/bin/mosquitto_pub",
            ["-h", "127.0.0.1", "-p", mqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-q", "1", "-i", "it-mosquitto-pub", "-t", topic, "-l"],
            TimeSpan.FromSeconds(120),
            async stdin =>
            {
                foreach (var e in viaMosquitto)
                {
                    await stdin.WriteLineAsync(e.Line);
                }
            });
        output.WriteLine("mosquitto_pub: " + pub);
        Assert.True(pub.ExitCode == 0, "mosquitto_pub failed: " + pub);
        var afterMosquitto = await Poll.UntilAsync(edge.Api.StatsSnapshotAsync, s => s.EventsStored >= 2 * PerClient, TimeSpan.FromSeconds(60), $"{PerClient} events from mosquitto_pub");
        Assert.Equal(2 * PerClient, afterMosquitto.EventsStored);
        Assert.Equal(0, afterMosquitto.DuplicatesIgnored);
        Assert.Equal(0, afterMosquitto.DeadLettered);

        // paho (Debian's python3-paho-mqtt, run by Debian's python3: a pyenv python on PATH may lack paho).
        var viaPaho = TestEvents.Purchases(store, "paho", PerClient);
        var lines = dir.Sub("paho-events.jsonl");
        await File.WriteAllLinesAsync(lines, viaPaho.Select(e => e.Line));
        var script = dir.Sub("publish.py");
        await File.WriteAllTextAsync(script, PahoScript);
        var paho = await ExternalTool.RunAsync(
            "/usr/bin/python3",
            [script, "127.0.0.1", mqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), topic, "it-paho", lines],
            TimeSpan.FromSeconds(120));
        output.WriteLine("paho: " + paho);
        Assert.True(paho.ExitCode == 0, "paho publisher failed: " + paho);
        var afterPaho = await Poll.UntilAsync(edge.Api.StatsSnapshotAsync, s => s.EventsStored >= 3 * PerClient, TimeSpan.FromSeconds(60), $"{3 * PerClient} events in all");
        Assert.Equal(3 * PerClient, afterPaho.EventsStored);
        Assert.Equal(0, afterPaho.DuplicatesIgnored);
        Assert.Equal(0, afterPaho.DeadLettered);

        // Deltas at the hub: one per stored event, all acknowledged, and the customers' profiles there.
        await Poll.UntilAsync(edge.Api.StatsSnapshotAsync, s => s.OutboxBacklog == 0, TimeSpan.FromSeconds(90), "the outbox to drain to the hub");
        var atHub = (await hub.StoresAsync()).Single(x => x.StoreId == store);
        Assert.Equal(3 * PerClient, atHub.AckedThrough);
        Assert.Equal(0, atHub.Backlog);
        var profile = await hub.ProfileAsync($"loyalty:L-{viaPaho[0].Customer}");
        Assert.NotNull(profile);

        await edge.StopAsync();
        using var db = new EdgeDatabaseFile(edge.DataDir);
        var ids = db.EventIds().ToHashSet(StringComparer.Ordinal);
        Assert.Equal(3 * PerClient, db.Count("events"));
        Assert.All(viaMqttnet.Concat(viaMosquitto).Concat(viaPaho), e => Assert.Contains(e.EventId, ids));
    }
}
