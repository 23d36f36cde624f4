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
    public async Task Mosquitto_pub_and_paho_qos1_events_are_each_stored_exactly_once()
    {
        using var dir = new TempDirectory("interop");
        const string store = "interop-001";
        var mqttPort = Ports.Free();
        await using var edge = await InProcessEdge.StartAsync(store, dir.Sub("edge"), mqttPort, output);
        var topic = TestEvents.Topic(store);

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
        var afterMosquitto = await Poll.UntilAsync(edge.Api.StatsSnapshotAsync, s => s.EventsStored >= PerClient, TimeSpan.FromSeconds(60), $"{PerClient} events from mosquitto_pub");
        Assert.Equal(PerClient, afterMosquitto.EventsStored);
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
        var afterPaho = await Poll.UntilAsync(edge.Api.StatsSnapshotAsync, s => s.EventsStored >= 2 * PerClient, TimeSpan.FromSeconds(60), $"{2 * PerClient} events in all");
        Assert.Equal(2 * PerClient, afterPaho.EventsStored);
        Assert.Equal(0, afterPaho.DuplicatesIgnored);
        Assert.Equal(0, afterPaho.DeadLettered);

        await edge.StopAsync();
        using var db = new EdgeDatabaseFile(edge.DataDir);
        var ids = db.EventIds().ToHashSet(StringComparer.Ordinal);
        Assert.Equal(2 * PerClient, db.Count("events"));
        Assert.All(viaMosquitto.Concat(viaPaho), e => Assert.Contains(e.EventId, ids));
    }
}
