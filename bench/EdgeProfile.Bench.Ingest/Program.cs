using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;

// Sustained ingest into the edge (durable log + profile updates) against Debian's mosquitto relaying the same
// load pub→sub, both driven by the same MQTTnet publishers in one invocation. See bench/README.md.
var settings = BenchSettings.Parse(args);
Console.WriteLine($"bench-ingest: {settings}");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformationText()}");

var results = new List<Row>();
var cpu = new List<Row>();
foreach (var qos in settings.QosLevels)
{
    foreach (var publishers in settings.PublisherCounts)
    {
        var ours = await Runs.EdgeAsync(settings, qos, publishers);
        var peer = await Runs.MosquittoAsync(settings, qos, publishers);
        results.Add(new Row($"ingest QoS {(int)qos}, {publishers} publishers x {settings.InFlight} in flight", ours.Rate, peer.Rate, "events/s"));
        cpu.Add(new Row($"server CPU per event, QoS {(int)qos}, {publishers} publishers", ours.CpuMicros, peer.CpuMicros, "µs"));
        Console.WriteLine($"  QoS {(int)qos} x{publishers}: edge {ours:N0}/s, mosquitto {peer:N0}/s");
    }
}

var (edgeLat, mosqLat) = (await Runs.EdgeLatencyAsync(settings), await Runs.MosquittoLatencyAsync(settings));

Console.WriteLine();
Console.WriteLine("| load | EdgeProfile edge (durable) | mosquitto relay | ratio |");
Console.WriteLine("|---|---:|---:|---:|");
foreach (var r in results)
{
    Console.WriteLine($"| {r.Name} | {r.Ours:N0} {r.Unit} | {r.Peer:N0} {r.Unit} | {r.Ours / r.Peer:F2}x |");
}

Console.WriteLine();
Console.WriteLine("| server process CPU (user+system over the measured phase) | EdgeProfile edge | mosquitto broker | ratio |");
Console.WriteLine("|---|---:|---:|---:|");
foreach (var r in cpu)
{
    Console.WriteLine($"| {r.Name} | {r.Ours:F1} {r.Unit} | {r.Peer:F1} {r.Unit} | {r.Ours / r.Peer:F2}x |");
}

Console.WriteLine();
Console.WriteLine($"Latency, 1 publisher, QoS 1, one message at a time, {settings.LatencySamples:N0} samples after warm-up:");
Console.WriteLine("| latency | edge: publish → PUBACK (durable, profile updated) | mosquitto: publish → subscriber |");
Console.WriteLine("|---|---:|---:|");
Console.WriteLine($"| p50 | {edgeLat.P50:F3} ms | {mosqLat.P50:F3} ms |");
Console.WriteLine($"| p99 | {edgeLat.P99:F3} ms | {mosqLat.P99:F3} ms |");
Console.WriteLine($"| max | {edgeLat.Max:F3} ms | {mosqLat.Max:F3} ms |");
return 0;

static string RuntimeInformationText() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

/// <summary>mosquitto_sub counting what it receives; stops at the expected count or 3 s after the last message.</summary>
internal sealed class SubscriberProcess : IDisposable
{
    private readonly Process _process;
    private readonly int _expected;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _received;
    private long _lastAt;

    public SubscriberProcess(int port, string topic, MqttQualityOfServiceLevel qos, int expected)
    {
        _expected = expected;
        var psi = new ProcessStartInfo("mosquitto_sub") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-i", "bench-sub", "-q", ((int)qos).ToString(CultureInfo.InvariantCulture), "-t", topic, "-C", expected.ToString(CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException("mosquitto_sub did not start");
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _done.TrySetResult();
                return;
            }

            Volatile.Write(ref _lastAt, Stopwatch.GetTimestamp());
            if (Interlocked.Increment(ref _received) == _expected)
            {
                _done.TrySetResult();
            }
        };
        _process.BeginOutputReadLine();
    }

    /// <summary>Gives mosquitto_sub time to subscribe (it prints nothing until a message arrives).</summary>
    public Task ReadyAsync() => Task.Delay(500);

    public async Task<(int Received, long LastAt)> WaitAsync()
    {
        var seen = -1;
        while (!_done.Task.IsCompleted && Volatile.Read(ref _received) != seen)
        {
            seen = Volatile.Read(ref _received);
            await Task.WhenAny(_done.Task, Task.Delay(3000));
        }

        return (Volatile.Read(ref _received), Volatile.Read(ref _lastAt));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}

internal sealed class EdgeProcess(Process process, Uri api) : IDisposable
{
    public Uri Api { get; } = api;

    public int Pid => process.Id;

    public void Stop()
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Stop();
        process.Dispose();
    }
}

internal sealed record Row(string Name, double Ours, double Peer, string Unit);

internal sealed record Measured(double Rate, double CpuMicros);

internal static class ProcessCpu
{
    /// <summary>User + system CPU time of a process, from /proc (clock ticks of 10 ms).</summary>
    public static TimeSpan Of(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }
}

internal sealed record Latency(double P50, double P99, double Max)
{
    public static Latency Of(List<double> samples)
    {
        samples.Sort();
        return new Latency(samples[samples.Count / 2], samples[(int)(samples.Count * 0.99)], samples[^1]);
    }
}

internal sealed record BenchSettings(int Events, int Warmup, int InFlight, int[] PublisherCounts, MqttQualityOfServiceLevel[] QosLevels, string Durability, int LatencySamples, string Mosquitto)
{
    public static BenchSettings Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        return new BenchSettings(
            int.Parse(Get("events", "40000"), CultureInfo.InvariantCulture),
            int.Parse(Get("warmup", "10000"), CultureInfo.InvariantCulture),
            int.Parse(Get("inflight", "64"), CultureInfo.InvariantCulture),
            Get("publishers", "1,4").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
            Get("qos", "0,1").Split(',').Select(s => (MqttQualityOfServiceLevel)int.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
            Get("durability", "fsync"),
            int.Parse(Get("latency-samples", "10000"), CultureInfo.InvariantCulture),
            Get("mosquitto", "/usr/sbin/mosquitto"));
    }

    public override string ToString() =>
        $"events={Events} per run after {Warmup} warm-up, inflight={InFlight} per publisher, publishers={string.Join(',', PublisherCounts)}, qos={string.Join(',', QosLevels.Select(q => (int)q))}, edge durability={Durability}, latency samples={LatencySamples}";
}

internal static class Payloads
{
    private static readonly string[] Categories = ["Baby & Toddler > Strollers", "Electronics > Phones", "Apparel > Shoes", "Grocery > Snacks"];

    public static byte[] Event(string store, int i, string runId)
    {
        var cust = i % 5000;
        var json = $$"""{"eventId":"{{runId}}-{{i}}","type":"{{(i % 5 == 0 ? "purchase" : "view")}}","occurredAt":"{{DateTimeOffset.UtcNow.AddMinutes(-(i % 600)):yyyy-MM-ddTHH:mm:ss.fffZ}}","storeId":"{{store}}","channel":"pos","customer":{"loyaltyId":"L-{{cust}}","email":"c{{cust}}@example.cn"},"product":{"sku":"SKU-{{i % 997}}","name":"Item {{i % 997}}","category":"{{Categories[i % Categories.Length]}}","price":{{(i % 97) + 1}}.5},"quantity":1,"amount":{{(i % 97) + 1}}.5,"currency":"CNY"}""";
        return Encoding.UTF8.GetBytes(json);
    }
}

internal static class Runs
{
    private const string Store = "bench-store";

    public static async Task<Measured> EdgeAsync(BenchSettings s, MqttQualityOfServiceLevel qos, int publishers)
    {
        var dir = Directory.CreateTempSubdirectory("ep-bench-");
        var port = FreePort();
        using var edge = await StartEdgeAsync(s, dir.FullName, port);
        try
        {
            using var http = new HttpClient { BaseAddress = edge.Api };

            // Warm-up: a server runs for months, so measure it after the JIT has optimised the hot path.
            var warm = Enumerable.Range(0, s.Warmup).Select(i => Payloads.Event(Store, i, "warm")).ToArray();
            await PublishAllAsync(port, warm, $"ep/v1/{Store}/events", MqttQualityOfServiceLevel.AtLeastOnce, publishers, s.InFlight);
            var payloads = Enumerable.Range(0, s.Events).Select(i => Payloads.Event(Store, i, "r" + Guid.NewGuid().ToString("N")[..8])).ToArray();
            var cpu0 = ProcessCpu.Of(edge.Pid);
            var sw = Stopwatch.StartNew();
            await PublishAllAsync(port, payloads, $"ep/v1/{Store}/events", qos, publishers, s.InFlight);
            // QoS 1: every PUBACK means durable. QoS 0: wait until the log has them all.
            while (await StoredAsync(http) < s.Warmup + s.Events)
            {
                await Task.Delay(10);
            }

            var rate = s.Events / sw.Elapsed.TotalSeconds;
            return new Measured(rate, (ProcessCpu.Of(edge.Pid) - cpu0).TotalMicroseconds / s.Events);
        }
        finally
        {
            edge.Stop();
            dir.Delete(recursive: true);
        }
    }

    public static async Task<Measured> MosquittoAsync(BenchSettings s, MqttQualityOfServiceLevel qos, int publishers)
    {
        var port = FreePort();
        using var broker = StartMosquitto(s.Mosquitto, port);
        try
        {
            var topic = $"ep/v1/{Store}/events";
            var warm = Enumerable.Range(0, s.Warmup).Select(i => Payloads.Event(Store, i, "warm")).ToArray();
            await PublishAllAsync(port, warm, topic, MqttQualityOfServiceLevel.AtLeastOnce, publishers, s.InFlight);

            // The subscriber is Debian's own mosquitto_sub (C), so that the relay, not a .NET consumer, is measured.
            using var sub = new SubscriberProcess(port, topic, qos, s.Events);
            await sub.ReadyAsync();
            var payloads = Enumerable.Range(0, s.Events).Select(i => Payloads.Event(Store, i, "m")).ToArray();
            var cpu0 = ProcessCpu.Of(broker.Id);
            var t0 = Stopwatch.GetTimestamp();
            await PublishAllAsync(port, payloads, topic, qos, publishers, s.InFlight);
            var (got, lastAt) = await sub.WaitAsync();
            var cpu1 = ProcessCpu.Of(broker.Id);
            if (got < s.Events)
            {
                Console.WriteLine($"  note: mosquitto delivered {got:N0} of {s.Events:N0} at QoS {(int)qos}; rate counts delivered messages");
            }

            return new Measured(got / Stopwatch.GetElapsedTime(t0, lastAt).TotalSeconds, (cpu1 - cpu0).TotalMicroseconds / Math.Max(1, got));
        }
        finally
        {
            broker.Kill();
        }
    }

    public static async Task<Latency> EdgeLatencyAsync(BenchSettings s)
    {
        var dir = Directory.CreateTempSubdirectory("ep-bench-");
        var port = FreePort();
        using var edge = await StartEdgeAsync(s, dir.FullName, port);
        try
        {
            using var client = await ConnectAsync(port, "bench-lat");
            var samples = new List<double>(s.LatencySamples);
            for (var i = 0; i < s.LatencySamples + 1000; i++)
            {
                var msg = new MqttApplicationMessageBuilder().WithTopic($"ep/v1/{Store}/events").WithPayload(Payloads.Event(Store, i, "lat"))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
                var t0 = Stopwatch.GetTimestamp();
                await client.PublishAsync(msg);
                if (i >= 1000)
                {
                    samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
            }

            return Latency.Of(samples);
        }
        finally
        {
            edge.Stop();
            dir.Delete(recursive: true);
        }
    }

    public static async Task<Latency> MosquittoLatencyAsync(BenchSettings s)
    {
        var port = FreePort();
        using var broker = StartMosquitto(s.Mosquitto, port);
        try
        {
            using var sub = await ConnectAsync(port, "lat-sub");
            TaskCompletionSource? pending = null;
            sub.ApplicationMessageReceivedAsync += _ =>
            {
                pending?.TrySetResult();
                return Task.CompletedTask;
            };
            await sub.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter($"ep/v1/{Store}/events", MqttQualityOfServiceLevel.AtLeastOnce).Build());
            using var pub = await ConnectAsync(port, "lat-pub");
            var samples = new List<double>(s.LatencySamples);
            for (var i = 0; i < s.LatencySamples + 1000; i++)
            {
                pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var msg = new MqttApplicationMessageBuilder().WithTopic($"ep/v1/{Store}/events").WithPayload(Payloads.Event(Store, i, "lat"))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
                var t0 = Stopwatch.GetTimestamp();
                await pub.PublishAsync(msg);
                await pending.Task;
                if (i >= 1000)
                {
                    samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
            }

            return Latency.Of(samples);
        }
        finally
        {
            broker.Kill();
        }
    }

    /// <summary>
    /// Starts <c>edgeprofile-edge</c> (the Release build beside this program) as a child process, like mosquitto, so
    /// that the publishers in this process do not share a runtime with the server they measure.
    /// </summary>
    private static async Task<EdgeProcess> StartEdgeAsync(BenchSettings s, string dataDir, int mqttPort)
    {
        var httpPort = FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "edgeprofile-edge.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            dll, $"--Edge:StoreId={Store}", $"--Edge:DataDir={dataDir}", $"--Edge:Mqtt:Port={mqttPort}",
            $"--Edge:Http:Urls=http://127.0.0.1:{httpPort}", $"--Edge:Log:Durability={s.Durability}",
            // Enrolled with a hub that is unreachable (a store whose WAN is down): the uplink is on and every delta
            // is written to the outbox, as in production.
            $"--Edge:HubUrl=http://127.0.0.1:{FreePort()}", "--Logging:LogLevel:Default=Warning",
        })
        {
            psi.ArgumentList.Add(a);
        }

        File.WriteAllText(Path.Combine(dataDir, "credential.json"), JsonSerializer.Serialize(new
        {
            StoreId = Store,
            Credential = "bench",
            PseudonymKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32),
            HubUrl = "http://127.0.0.1:1",
        }));
        var p = Process.Start(psi) ?? throw new InvalidOperationException("edgeprofile-edge did not start");
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.Error.WriteLine("  edge: " + e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var api = new Uri($"http://127.0.0.1:{httpPort}");
        using var http = new HttpClient { BaseAddress = api };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                if ((await http.GetAsync("/api/health")).IsSuccessStatusCode)
                {
                    return new EdgeProcess(p, api);
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !p.HasExited)
            {
            }

            if (DateTime.UtcNow > deadline || p.HasExited)
            {
                p.Kill();
                throw new InvalidOperationException("edgeprofile-edge did not become healthy");
            }

            await Task.Delay(100);
        }
    }

    private static async Task PublishAllAsync(int port, byte[][] payloads, string topic, MqttQualityOfServiceLevel qos, int publishers, int inFlight)
    {
        var next = -1;
        var tasks = Enumerable.Range(0, publishers).Select(async p =>
        {
            using var client = await ConnectAsync(port, $"bench-pub-{p}-{Guid.NewGuid():N}");
            using var gate = new SemaphoreSlim(inFlight);
            var pending = new List<Task>();
            int i;
            while ((i = Interlocked.Increment(ref next)) < payloads.Length)
            {
                await gate.WaitAsync();
                var msg = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payloads[i]).WithQualityOfServiceLevel(qos).Build();
                pending.Add(PublishOneAsync(client, msg, gate));
            }

            await Task.WhenAll(pending);
            await client.DisconnectAsync();
        });
        await Task.WhenAll(tasks);
    }

    private static async Task PublishOneAsync(IMqttClient client, MqttApplicationMessage msg, SemaphoreSlim gate)
    {
        try
        {
            var r = await client.PublishAsync(msg);
            if (!r.IsSuccess)
            {
                throw new InvalidOperationException($"publish failed: {r.ReasonCode}");
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private static async Task<IMqttClient> ConnectAsync(int port, string clientId)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId).WithTimeout(TimeSpan.FromSeconds(30)).Build());
        return client;
    }

    private static async Task<long> StoredAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/stats"));
        return doc.RootElement.GetProperty("eventsStored").GetInt64();
    }

    private static Process StartMosquitto(string exe, int port)
    {
        var conf = Path.Combine(Path.GetTempPath(), $"ep-bench-mosq-{port}.conf");
        File.WriteAllText(conf, $"""
            listener {port} 127.0.0.1
            allow_anonymous true
            max_queued_messages 1000000
            max_inflight_messages 0
            persistence false
            log_type error
            """);
        var p = Process.Start(new ProcessStartInfo(exe, ["-c", conf]) { RedirectStandardError = true, RedirectStandardOutput = true })
            ?? throw new InvalidOperationException("mosquitto did not start");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var tcp = new TcpClient();
                tcp.Connect(IPAddress.Loopback, port);
                return p;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        p.Kill();
        throw new InvalidOperationException($"mosquitto did not listen on {port}");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
