using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using EdgeProfile.Core.Features;
using EdgeProfile.Edge;
using EdgeProfile.Edge.Features;
using EdgeProfile.Edge.Log;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;

// The feature pipeline end to end: MQTT ingest -> durable log -> stream engine (the default feature set) -> online
// store, with the edge in this process. Peers in the same invocation: the same edge serving no features (the cost
// of the engine), and Debian's redis-server GET for online reads. See bench/README.md.
var settings = Settings.Parse(args);
Console.WriteLine($"bench-features: {settings}");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}; default feature set: {DefaultFeatures.Set.Definitions.Count} definitions");

if (settings.EngineProbe != 0)
{
    EdgeProfile.Bench.Features.EngineProbe.Run(settings);
    return 0;
}

if (settings.PipelineProbe != 0)
{
    await Edge.PipelineProbeAsync(settings);
    return 0;
}

// The customers' history runs (in event time, one event per millisecond) up to where the paced stream of the latency
// phase begins (a minute ago): the phase measures a store in steady state. With a gap of hours between the two (as up
// to 2026-12-01), every customer's first events in the phase opened new panes for every windowed feature at once,
// about fifteen per event instead of the fraction of one a running store opens: that is an hour rollover with all
// customers active in the same second, not the steady rate the goal is about.
var events = Workload.Generate(settings.Events, settings.Customers, DateTimeOffset.UtcNow.AddMinutes(-1).AddMilliseconds(-settings.Events));
var noFeatures = Path.Combine(Path.GetTempPath(), $"ep-bench-nofeatures-{Environment.ProcessId}.json");
File.WriteAllText(noFeatures, "{ \"definitions\": [] }");

// --process-durability 1: acknowledge after the commit without fsync (Edge:Log:Durability=process; survives an agent
// crash, not a power loss), to separate the disk's fsync tail from the pipeline's.
Edge.Durability = settings.ProcessDurability != 0 ? "process" : "fsync";
Console.WriteLine($"Edge:Log:Durability={Edge.Durability}");
Edge.NoFeaturesFile = settings.NoFeatures != 0 ? noFeatures : null;
if (settings.LatencyOnly != 0)
{
    if (settings.EdgeProcess != 0)
    {
        var child = await Edge.LatencyInChildAsync(settings, events);
        Console.WriteLine($"Event-to-feature latency at {settings.Rate:N0} events/s (edgeprofile-edge as its own process, durability {Edge.Durability}), {child.Latency.Count:N0} samples: p50 {child.Latency.P50:F2} ms, p99 {child.Latency.P99:F2} ms, max {child.Latency.Max:F2} ms; edge CPU {child.EdgeCores:F2} cores");
    }

    // The floor this box and this client set: Debian's mosquitto acknowledging the same paced QoS 1 stream (no
    // persistence, no subscribers: a PUBACK as soon as the broker has read the publish).
    var floor = await Edge.MosquittoFloorAsync(settings);
    if (floor is not null)
    {
        Console.WriteLine($"Publish -> PUBACK floor at {settings.Rate:N0} events/s, mosquitto (same client, same pacing, no persistence), {floor.Latency.Count:N0} samples: p50 {floor.Latency.P50:F2} ms, p99 {floor.Latency.P99:F2} ms, max {floor.Latency.Max:F2} ms; mosquitto CPU {floor.EdgeCores:F2} cores");
    }

    if (settings.LatencyOnly == 2)
    {
        File.Delete(noFeatures);
        return 0; // --latency-only 2: the edgeprofile-edge process only
    }

    var (onlyLatency, _, _, defs) = await Edge.LatencyAndReadsAsync(settings, events);
    Console.WriteLine($"Event-to-feature latency at {settings.Rate:N0} events/s (edge in this process, {defs} features, durability {Edge.Durability}), {onlyLatency.Count:N0} samples: p50 {onlyLatency.P50:F2} ms, p99 {onlyLatency.P99:F2} ms, max {onlyLatency.Max:F2} ms");
    File.Delete(noFeatures);
    return 0;
}

var plain = await Edge.ThroughputAsync(settings, events, "none", $"--Edge:Features:DefinitionsFile={noFeatures}");
var ours = await Edge.ThroughputAsync(settings, events, "default");
var inChild = settings.EdgeProcess != 0 ? await Edge.LatencyInChildAsync(settings, events) : null;
var (latency, reads, http, definitions) = await Edge.LatencyAndReadsAsync(settings, events);
var redis = await Redis.GetLatencyAsync(settings.Reads);
File.Delete(noFeatures);

Console.WriteLine();
Console.WriteLine($"| pipeline (QoS 1, {settings.Publishers} publishers x {settings.InFlight} in flight, {settings.Events:N0} events, {settings.Customers:N0} customers) | with {DefaultFeatures.Set.Definitions.Count} features | no features (same edge) | ratio |");
Console.WriteLine("|---|---:|---:|---:|");
Console.WriteLine($"| events/s | {ours.Rate:N0} | {plain.Rate:N0} | {ours.Rate / plain.Rate:F2}x |");
Console.WriteLine($"| process CPU per event (edge + publishers) | {ours.CpuMicros:F1} µs | {plain.CpuMicros:F1} µs | {ours.CpuMicros / plain.CpuMicros:F2}x |");
Console.WriteLine($"| events/s per core busy (events / CPU-seconds) | {ours.PerCore:N0} | {plain.PerCore:N0} | |");
Console.WriteLine($"| reference: Flink Nexmark sliding-window query, per core (published figure, not run here) | ≈ 22,000 | | {ours.PerCore / 22_000:F2}x |");
Console.WriteLine();
Console.WriteLine($"Event-to-feature latency at {settings.Rate:N0} events/s (publish -> PUBACK; the PUBACK is sent after the commit that updated all {definitions} features), {latency.Count:N0} samples after warm-up:");
if (inChild is not null)
{
    Console.WriteLine("| latency | edgeprofile-edge as its own process (as deployed) | edge inside this benchmark's process | goal | seed's Flink pipeline claim |");
    Console.WriteLine("|---|---:|---:|---:|---:|");
    Console.WriteLine($"| p50 | {inChild.Latency.P50:F2} ms | {latency.P50:F2} ms | | |");
    Console.WriteLine($"| p99 | {inChild.Latency.P99:F2} ms | {latency.P99:F2} ms | 20 ms | 100 ms |");
    Console.WriteLine($"| max | {inChild.Latency.Max:F2} ms | {latency.Max:F2} ms | | |");
    Console.WriteLine($"| edge CPU during the phase | {inChild.EdgeCores:F2} cores | | | |");
}
else
{
    Console.WriteLine("| latency | EdgeProfile | goal | seed's Flink pipeline claim |");
    Console.WriteLine("|---|---:|---:|---:|");
    Console.WriteLine($"| p50 | {latency.P50:F2} ms | | |");
    Console.WriteLine($"| p99 | {latency.P99:F2} ms | 20 ms | 100 ms |");
    Console.WriteLine($"| max | {latency.Max:F2} ms | | |");
}
Console.WriteLine();
Console.WriteLine($"Online reads, {settings.Reads:N0} random customers, one at a time:");
Console.WriteLine("| read | p50 | p99 | ops/s |");
Console.WriteLine("|---|---:|---:|---:|");
Console.WriteLine($"| EdgeProfile online store, in process (state + all {definitions} values with status and lineage) | {reads.P50 * 1000:F1} µs | {reads.P99 * 1000:F1} µs | {reads.OpsPerSecond:N0} |");
Console.WriteLine($"| EdgeProfile local API GET /api/profiles/KEY (HTTP keep-alive, JSON) | {http.P50 * 1000:F1} µs | {http.P99 * 1000:F1} µs | {http.OpsPerSecond:N0} |");
Console.WriteLine(redis is null
    ? "| redis-server GET (redis-benchmark -c 1 -d 512) | not installed (apt-get install redis-server redis-tools) | | |"
    : $"| redis-server GET (redis-benchmark -c 1 -d 512) | {redis.P50 * 1000:F1} µs | {redis.P99 * 1000:F1} µs | {redis.OpsPerSecond:N0} |");
if (redis is not null)
{
    Console.WriteLine($"| ratio online store / redis | {reads.P50 / redis.P50:F2}x | {reads.P99 / redis.P99:F2}x | |");
}

return 0;

internal sealed record Settings(int Events, int Customers, int Publishers, int InFlight, int Rate, int LatencySamples, int Reads, int Warmup = 10_000, int EngineProbe = 0, int ProbeGc = 0, int PipelineProbe = 0, int ProcessDurability = 0, int LatencyOnly = 0, int EdgeProcess = 1, int NoFeatures = 0)
{
    public static Settings Parse(string[] args)
    {
        var s = new Settings(60_000, 5_000, 4, 64, 5_000, 40_000, 20_000);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var v = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            s = args[i] switch
            {
                "--events" => s with { Events = v },
                "--customers" => s with { Customers = v },
                "--publishers" => s with { Publishers = v },
                "--in-flight" => s with { InFlight = v },
                "--rate" => s with { Rate = v },
                "--latency-samples" => s with { LatencySamples = v },
                "--warmup" => s with { Warmup = v },
                "--reads" => s with { Reads = v },
                "--engine-probe" => s with { EngineProbe = v },
                "--probe-gc" => s with { ProbeGc = v },
                "--pipeline-probe" => s with { PipelineProbe = v },
                "--process-durability" => s with { ProcessDurability = v },
                "--latency-only" => s with { LatencyOnly = v },
                "--edge-process" => s with { EdgeProcess = v },
                "--no-features" => s with { NoFeatures = v },
                _ => throw new ArgumentException($"unknown option {args[i]} (--events --customers --publishers --in-flight --rate --latency-samples --warmup --reads --engine-probe --probe-gc --pipeline-probe --process-durability 0|1 --latency-only 0|1|2 --edge-process 0|1 --no-features 0|1)"),
            };
        }

        return s;
    }
}

internal sealed record Throughput(double Rate, double CpuMicros, double PerCore);

internal sealed record Percentiles(int Count, double P50, double P99, double Max, double OpsPerSecond)
{
    public static Percentiles Of(List<double> ms, double seconds)
    {
        ms.Sort();
        double At(double q) => ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)];
        return new Percentiles(ms.Count, At(0.50), At(0.99), ms[^1], ms.Count / seconds);
    }
}

internal static class Workload
{
    private static readonly string[] Types = ["view", "view", "view", "search", "add_to_cart", "purchase", "like", "video_watch", "visit", "return"];
    private static readonly string[] Categories = ["Baby & Toddler > Strollers", "Baby & Toddler > Formula", "Women > Dresses", "Men > Shoes", "Electronics > Phones", "Home > Kitchen", "Food > Snacks", "Beauty > Skin Care"];
    private static readonly string[] Channels = ["pos", "app", "web"];

    /// <summary>Events spread over customers, in event-time order one millisecond apart.</summary>
    public static List<byte[]> Generate(int count, int customers, DateTimeOffset start, string prefix = "b")
    {
        var random = new Random(42);
        var list = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            var price = Math.Round(1 + random.NextDouble() * 300, 2);
            var e = new JsonObject
            {
                ["eventId"] = $"{prefix}-{i}",
                ["type"] = Types[random.Next(Types.Length)],
                ["occurredAt"] = start.AddMilliseconds(i).ToString("O", CultureInfo.InvariantCulture),
                ["storeId"] = "bench",
                ["channel"] = Channels[random.Next(Channels.Length)],
                ["customer"] = new JsonObject { ["loyaltyId"] = $"B-{random.Next(customers)}" },
                ["product"] = new JsonObject { ["sku"] = $"SKU-{random.Next(500)}", ["category"] = Categories[random.Next(Categories.Length)], ["price"] = price },
                ["quantity"] = 1,
                ["amount"] = price,
            };
            list.Add(Encoding.UTF8.GetBytes(e.ToJsonString()));
        }

        return list;
    }
}

internal static class Edge
{
    /// <summary>Edge:Log:Durability of every edge the benchmark starts.</summary>
    public static string Durability { get; set; } = "fsync";

    // --no-features 1: the agent process of the latency phase serves no feature definitions (the pipeline's own floor).
    public static string? NoFeaturesFile { get; set; }

    public static async Task<Throughput> ThroughputAsync(Settings s, List<byte[]> events, string label, params string[] extra)
    {
        var dir = Directory.CreateTempSubdirectory("ep-bench-features-");
        try
        {
            await using var app = await StartAsync(dir.FullName, extra);
            var port = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<EdgeOptions>>().Value.Mqtt.Port;
            // Warm-up: a tenth of the events (other ids), not measured.
            await PublishAllAsync(port, Workload.Generate(events.Count / 10, s.Customers, DateTimeOffset.UtcNow.AddHours(-7), "warm"), s.Publishers, s.InFlight);
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var allocated0 = GC.GetTotalAllocatedBytes(precise: true);
            var watch = Stopwatch.StartNew();
            await PublishAllAsync(port, events, s.Publishers, s.InFlight);
            var seconds = watch.Elapsed.TotalSeconds;
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            var allocated = (GC.GetTotalAllocatedBytes(precise: true) - allocated0) / (double)events.Count;
            var stats = app.Services.GetRequiredService<EdgeStats>();
            if (stats.EventsStored != events.Count + (events.Count / 10))
            {
                throw new InvalidOperationException($"expected {events.Count + (events.Count / 10)} stored, got {stats.EventsStored}");
            }

            Console.WriteLine($"  {label}: {events.Count / seconds:N0} events/s, {cpu / events.Count * 1e6:F1} µs CPU/event, {allocated:N0} B allocated/event (edge and publishers)");
            return new Throughput(events.Count / seconds, cpu / events.Count * 1e6, events.Count / cpu);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    public static async Task<(Percentiles Latency, Percentiles Reads, Percentiles Http, int Definitions)> LatencyAndReadsAsync(Settings s, List<byte[]> events)
    {
        var dir = Directory.CreateTempSubdirectory("ep-bench-features-");
        try
        {
            await using var app = await StartAsync(dir.FullName, NoFeaturesFile is null ? [] : [$"--Edge:Features:DefinitionsFile={NoFeaturesFile}"]);
            var port = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<EdgeOptions>>().Value.Mqtt.Port;
            // The paced payloads are made before the history is sent, so that they are old objects by the time latency
            // is measured: the edge's publishers are other processes, and bench objects made (and kept) during the
            // measured phase would add to the edge's collections what a deployment does not have.
            var warm = s.Warmup;
            var paced = Workload.Generate(s.LatencySamples + warm, s.Customers, DateTimeOffset.UtcNow.AddMinutes(-1), "lat");
            var samples = new List<double>(paced.Count);

            // The customers' history first, at full speed.
            await PublishAllAsync(port, events, s.Publishers, s.InFlight);

            // Then a paced stream at the target rate; each event's latency is publish -> PUBACK.
            var gcPause0 = GC.GetTotalPauseDuration();
            var gen2 = GC.CollectionCount(2);
            var gen0 = GC.CollectionCount(0);
            var allocated0 = GC.GetTotalAllocatedBytes(precise: true);
            using var gcTrace = new EdgeProfile.Bench.Features.GcTrace(DateTime.UtcNow);
            using var writerMetrics = new EdgeProfile.Bench.Features.WriterMetrics();
            Console.WriteLine($"  {DateTime.UtcNow:HH:mm:ss.fff} history sent; latency phase starts");
            var phaseCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var phaseWatch = Stopwatch.StartNew();
            // BENCH_EXC=1: count the exceptions thrown in this process (edge and client) during the phase, by type and
            // the stack that threw them; an exception costs tens of microseconds of CPU.
            var thrown = new Dictionary<string, int>();
            void OnThrown(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
            {
                var stack = string.Join(" <- ", Environment.StackTrace.Split('\n').Skip(4).Take(8).Select(l => l.Trim()));
                lock (thrown)
                {
                    var key = e.Exception.GetType().Name + ": " + stack;
                    thrown[key] = thrown.GetValueOrDefault(key) + 1;
                }
            }

            var countThrown = Environment.GetEnvironmentVariable("BENCH_EXC") == "1";
            if (countThrown)
            {
                AppDomain.CurrentDomain.FirstChanceException += OnThrown;
            }

            samples.AddRange(await PacedAsync(port, s, paced, probe: true));
            if (countThrown)
            {
                AppDomain.CurrentDomain.FirstChanceException -= OnThrown;
                Console.WriteLine($"  exceptions thrown in the latency phase: {thrown.Values.Sum():N0}");
                foreach (var (where, n) in thrown.OrderByDescending(t => t.Value).Take(8))
                {
                    Console.WriteLine($"    {n,8:N0}  {where}");
                }
            }

            // Allocations of the whole process (edge and the bench's publishing client) per event of the paced phase.
            var allocatedPerEvent = (GC.GetTotalAllocatedBytes(precise: true) - allocated0) / (double)paced.Count;
            var latency = Percentiles.Of(samples, 1);
            Console.WriteLine($"  latency phase: {(Process.GetCurrentProcess().TotalProcessorTime - phaseCpu0).TotalSeconds / phaseWatch.Elapsed.TotalSeconds:F2} cores busy (edge and the publishing client); thread pool {ThreadPool.ThreadCount} threads, {ThreadPool.CompletedWorkItemCount:N0} work items completed in all");
            Console.WriteLine($"  latency phase: GC paused {(GC.GetTotalPauseDuration() - gcPause0).TotalMilliseconds:F0} ms in {GC.CollectionCount(0) - gen0} collections ({GC.CollectionCount(2) - gen2} gen2); heap {GC.GetTotalMemory(false) / (1024 * 1024)} MiB; allocated {allocatedPerEvent:N0} B/event");
            Console.WriteLine($"  {gcTrace.Summary}");
            foreach (var line in gcTrace.Lines)
            {
                Console.WriteLine($"    {line}");
            }

            if (gcTrace.Allocations.Count > 0)
            {
                // BENCH_ALLOC=1: the runtime's allocation samples (one per ~100 KB) by type, as bytes per paced event.
                Console.WriteLine("  allocations by type in the latency phase (sampled; edge and publishing client), bytes per event:");
                foreach (var (type, bytes) in gcTrace.Allocations.OrderByDescending(a => a.Value).Take(40))
                {
                    Console.WriteLine($"    {bytes / paced.Count,8:F1}  {type}");
                }
            }

            writerMetrics.Dispose();
            Console.WriteLine("  log writer in the latency phase (EdgeProfile.Edge metrics; times in ms):");
            foreach (var line in writerMetrics.Summary())
            {
                Console.WriteLine($"    {line}");
            }

            Console.WriteLine($"  measurements of {EdgeProfile.Bench.Features.WriterMetrics.SlowMs} ms or more, with their time from the start of the phase:");
            foreach (var line in writerMetrics.Slow())
            {
                Console.WriteLine($"    {line}");
            }

            var runtime = app.Services.GetRequiredService<FeatureRuntime>();
            var db = app.Services.GetRequiredService<EdgeDatabase>();
            var random = new Random(1);
            var keys = Enumerable.Range(0, s.Reads).Select(_ => $"loyalty:B-{random.Next(s.Customers)}").ToList();
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var reads = new List<double>(keys.Count);
            var total = Stopwatch.StartNew();
            var definitions = 0;
            foreach (var key in keys)
            {
                var t0 = Stopwatch.GetTimestamp();
                var values = runtime.Read(db, key, now) ?? [];
                reads.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                definitions = Math.Max(definitions, values.Count);
            }

            var readStats = Percentiles.Of(reads, total.Elapsed.TotalSeconds);
            using var http = new HttpClient { BaseAddress = app.ApiAddress() };
            var httpSamples = new List<double>(keys.Count);
            total.Restart();
            foreach (var key in keys)
            {
                var t0 = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(new Uri("/api/profiles/" + key, UriKind.Relative));
                _ = await response.Content.ReadAsByteArrayAsync();
                httpSamples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }

            return (latency, readStats, Percentiles.Of(httpSamples, total.Elapsed.TotalSeconds), definitions);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The latency phase against <c>edgeprofile-edge</c> run as its own process, as a store deploys it (its own runtime
    /// settings and garbage collector; the publishers are other processes): the same history, then the same paced
    /// stream, each event timed from publish to PUBACK.
    /// </summary>
    public static async Task<ChildLatency> LatencyInChildAsync(Settings s, List<byte[]> events)
    {
        var dir = Directory.CreateTempSubdirectory("ep-bench-features-child-");
        // The agent's own build output (its deps.json names package assemblies this benchmark's folder resolves from
        // the shared framework instead).
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "EdgeProfile.sln")))
        {
            root = root.Parent;
        }

        var dll = Path.Combine(root?.FullName ?? throw new InvalidOperationException("EdgeProfile.sln not found above " + AppContext.BaseDirectory),
            "edge", "EdgeProfile.Edge.Agent", "bin", "Release", "net10.0", "edgeprofile-edge.dll");
        var mqttPort = FreePort();
        var httpPort = FreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            dll, "--Edge:StoreId=bench", $"--Edge:DataDir={dir.FullName}", $"--Edge:Mqtt:Port={mqttPort}",
            $"--Edge:Http:Urls=http://127.0.0.1:{httpPort}", $"--Edge:Log:Durability={Durability}", "--Logging:LogLevel:Default=Warning",
        })
        {
            psi.ArgumentList.Add(a);
        }

        if (NoFeaturesFile is not null)
        {
            psi.ArgumentList.Add($"--Edge:Features:DefinitionsFile={NoFeaturesFile}");
        }

        // EP_BENCH_EDGE_ENV="NAME=value;...": runtime settings for the agent process alone (e.g. DOTNET_TieredPGO=0),
        // to compare them in the same hour without touching the benchmark's own process.
        foreach (var pair in (Environment.GetEnvironmentVariable("EP_BENCH_EDGE_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                psi.Environment[pair[..eq]] = pair[(eq + 1)..];
            }
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("edgeprofile-edge did not start");
        // Stopped with the benchmark (Ctrl+C, SIGTERM), not left running when it ends early.
        void StopChild(object? sender, EventArgs e)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        AppDomain.CurrentDomain.ProcessExit += StopChild;
        Console.CancelKeyPress += StopChild;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") })
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (true)
                {
                    try
                    {
                        if ((await http.GetAsync(new Uri("/api/health", UriKind.Relative))).IsSuccessStatusCode)
                        {
                            break;
                        }
                    }
                    catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
                    {
                    }

                    if (DateTime.UtcNow > deadline || process.HasExited)
                    {
                        throw new InvalidOperationException("edgeprofile-edge did not become healthy");
                    }

                    await Task.Delay(100);
                }
            }

            var paced = Workload.Generate(s.LatencySamples + s.Warmup, s.Customers, DateTimeOffset.UtcNow.AddMinutes(-1), "lat");
            await PublishAllAsync(mqttPort, events, s.Publishers, s.InFlight);
            Console.WriteLine($"  {DateTime.UtcNow:HH:mm:ss.fff} history sent to edgeprofile-edge (pid {process.Id}); latency phase starts");
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            var before = JsonNode.Parse(await api.GetStringAsync(new Uri("/api/stats", UriKind.Relative)))!["runtime"]!;
            var cpu0 = ChildCpu(process.Id);
            var watch = Stopwatch.StartNew();
            var samples = await PacedAsync(mqttPort, s, paced, probe: false);
            var cores = (ChildCpu(process.Id) - cpu0).TotalSeconds / watch.Elapsed.TotalSeconds;
            var after = JsonNode.Parse(await api.GetStringAsync(new Uri("/api/stats", UriKind.Relative)))!["runtime"]!;
            int Gc(JsonNode n, int g) => n["gcCollections"]![g]!.GetValue<int>();
            Console.WriteLine($"  edgeprofile-edge in the latency phase: {cores:F2} cores; GC paused {after["gcPauseTotalMs"]!.GetValue<double>() - before["gcPauseTotalMs"]!.GetValue<double>():F0} ms in {Gc(after, 0) - Gc(before, 0)} collections ({Gc(after, 1) - Gc(before, 1)} gen1, {Gc(after, 2) - Gc(before, 2)} gen2); heap {after["heapBytes"]!.GetValue<long>() / (1024 * 1024)} MiB; allocated {((after["allocatedBytes"]?.GetValue<long>() ?? 0) - (before["allocatedBytes"]?.GetValue<long>() ?? 0)) / (double)paced.Count:N0} B/event");
            SlowSamples.Print();
            return new ChildLatency(Percentiles.Of(samples, 1), cores);
        }
        finally
        {
            AppDomain.CurrentDomain.ProcessExit -= StopChild;
            Console.CancelKeyPress -= StopChild;
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Publishes <paramref name="paced"/> on one QoS 1 connection at <see cref="Settings.Rate"/>, each event timed from
    /// the publish call to its PUBACK; the first <see cref="Settings.Warmup"/> are not sampled.
    /// </summary>
    private static async Task<List<double>> PacedAsync(int port, Settings s, List<byte[]> paced, bool probe)
    {
        var samples = new List<double>(paced.Count);
        using var client = await ConnectAsync(port, "bench-latency");
        // Paced in 1 ms steps: every step publishes the events that are due by then (a spin-wait per event would take
        // a core from the edge on this 2-core box). Latency runs from the publish call.
        var interval = Stopwatch.Frequency / (double)s.Rate;
        var start = Stopwatch.GetTimestamp();
        SlowSamples.Start(start);
        // Only the publishes still in flight are held (completed ones are dropped), for the same reason.
        var pending = new InFlight();
        long probePromoted = 0, probeCollections = 0;
        var gate = new object();
        var next = 0;
        while (next < paced.Count)
        {
            var tick = Stopwatch.GetTimestamp();
            while (next < paced.Count && start + (long)(next * interval) <= tick)
            {
                pending.Add(PublishTimedAsync(client, paced[next], next >= s.Warmup ? samples : null, gate));
                next++;
                if (probe && s.ProbeGc > 0 && next % s.ProbeGc == 0)
                {
                    // Diagnosis only (--probe-gc N; the latencies then include these pauses): a gen0 collection every
                    // N events sent, to count what the whole process keeps per event.
                    GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                    var info = GC.GetGCMemoryInfo(GCKind.Ephemeral);
                    if (info.Generation == 0)
                    {
                        probePromoted += info.PromotedBytes;
                        probeCollections++;
                    }
                }
            }

            await Task.Delay(1);
        }

        await pending.WhenAllAsync();
        if (probeCollections > 0)
        {
            Console.WriteLine($"  probe: forced gen0 collections every {s.ProbeGc:N0} events sent promoted {probePromoted / (double)(probeCollections * s.ProbeGc):N0} B per event (mean over {probeCollections})");
        }

        lock (gate)
        {
            return samples;
        }
    }

    private static TimeSpan ChildCpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>
    /// The edge's own survivors per event, apart from MQTT, the publishers and the machine's load: events go straight
    /// into the ingest pipeline (decode, log, stream engine, profiles) in steps of 1,000, each step awaited until
    /// durable, then a gen0 collection is forced; the bytes it promoted are what the edge kept of those events.
    /// </summary>
    public static async Task PipelineProbeAsync(Settings s)
    {
        const int Step = 1_000;
        var dir = Directory.CreateTempSubdirectory("ep-bench-features-");
        try
        {
            await using var app = await StartAsync(dir.FullName);
            var pipeline = app.Services.GetRequiredService<EdgeProfile.Edge.Ingest.IngestPipeline>();
            var now = new DateTimeOffset(2026, 1, 15, 12, 30, 0, TimeSpan.Zero);
            var history = Workload.Generate(s.Events, s.Customers, now.AddHours(-6));
            var stream = Workload.Generate(s.LatencySamples + s.Warmup, s.Customers, now.AddMinutes(-1), "lat");
            async Task SendAsync(List<byte[]> events, int from, int count)
            {
                var durable = new List<Task>(count);
                for (var i = from; i < from + count; i++)
                {
                    durable.Add((await pipeline.SubmitAsync("ep/v1/bench/events", events[i], awaitDurable: true, CancellationToken.None))!);
                }

                await Task.WhenAll(durable);
            }

            for (var i = 0; i < history.Count; i += Step)
            {
                await SendAsync(history, i, Math.Min(Step, history.Count - i));
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            long promoted = 0, collections = 0;
            var allocated0 = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i + Step <= stream.Count; i += Step)
            {
                await SendAsync(stream, i, Step);
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                var info = GC.GetGCMemoryInfo(GCKind.Ephemeral);
                if (info.Generation == 0)
                {
                    promoted += info.PromotedBytes;
                    collections++;
                }
            }

            var sent = stream.Count / Step * Step;
            var allocated = (GC.GetTotalAllocatedBytes(precise: true) - allocated0) / (double)sent;
            Console.WriteLine($"Edge ingest pipeline without MQTT, {s.Customers:N0} customers, {history.Count:N0} history events then {sent:N0} stream events in steps of {Step:N0} (each awaited until durable, then a forced gen0 collection):");
            Console.WriteLine($"  allocated {allocated:N0} B per event; promoted {promoted / (double)Math.Max(1, collections * Step):N0} B per event (mean over {collections} gen0 collections)");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The same paced stream against Debian's mosquitto on a free port (persistence off): what publish -> PUBACK costs
    /// on this box with this client when the broker does nothing else. Null when mosquitto is not installed.
    /// </summary>
    public static async Task<ChildLatency?> MosquittoFloorAsync(Settings s)
    {
        if (!File.Exists("/usr/sbin/mosquitto"))
        {
            return null;
        }

        var port = FreePort();
        var conf = Path.Combine(Path.GetTempPath(), $"ep-bench-mosquitto-{Environment.ProcessId}.conf");
        File.WriteAllText(conf, $"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 0\n");
        using var process = Process.Start(new ProcessStartInfo("/usr/sbin/mosquitto", $"-c {conf}") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })
            ?? throw new InvalidOperationException("mosquitto did not start");
        try
        {
            for (var i = 0; ; i++)
            {
                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, port);
                    break;
                }
                catch (SocketException) when (i < 100)
                {
                    await Task.Delay(50);
                }
            }

            var paced = Workload.Generate(s.LatencySamples + s.Warmup, s.Customers, DateTimeOffset.UtcNow.AddMinutes(-1), "lat");
            var cpu0 = ChildCpu(process.Id);
            var watch = Stopwatch.StartNew();
            var samples = await PacedAsync(port, s, paced, probe: false);
            var cores = (ChildCpu(process.Id) - cpu0).TotalSeconds / watch.Elapsed.TotalSeconds;
            SlowSamples.Print();
            return new ChildLatency(Percentiles.Of(samples, 1), cores);
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
            File.Delete(conf);
        }
    }

    private static async Task PublishTimedAsync(IMqttClient client, byte[] payload, List<double>? samples, object gate)
    {
        var sent = Stopwatch.GetTimestamp();
        var at = Stopwatch.GetElapsedTime(SlowSamples.PhaseStart, sent).TotalMilliseconds;
        var result = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("ep/v1/bench/events").WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var ms = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
        // A broker with no subscriber on the topic (the mosquitto floor) answers "no matching subscribers": acknowledged.
        if (!result.IsSuccess && result.ReasonCode != MqttClientPublishReasonCode.NoMatchingSubscribers)
        {
            throw new InvalidOperationException($"publish failed: {result.ReasonCode}");
        }

        if (samples is not null)
        {
            lock (gate)
            {
                samples.Add(ms);
                SlowSamples.Note(at, ms);
            }
        }
    }

    private static async Task<WebApplication> StartAsync(string dataDir, params string[] extra)
    {
        string[] args =
        [
            "--Edge:StoreId=bench",
            $"--Edge:DataDir={dataDir}",
            $"--Edge:Mqtt:Port={FreePort()}",
            "--Edge:Http:Urls=http://127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning",
            $"--Edge:Log:Durability={Durability}",
            .. extra,
        ];
        var app = EdgeApp.Build(args);
        await app.StartAsync();
        return app;
    }

    private static async Task PublishAllAsync(int port, List<byte[]> events, int publishers, int inFlight)
    {
        var slices = Enumerable.Range(0, publishers).Select(p => events.Where((_, i) => i % publishers == p).ToList()).ToList();
        await Task.WhenAll(slices.Select(async (slice, p) =>
        {
            using var client = await ConnectAsync(port, $"bench-pub-{p}-{Guid.NewGuid():N}");
            using var gate = new SemaphoreSlim(inFlight);
            var tasks = new List<Task>(slice.Count);
            foreach (var payload in slice)
            {
                await gate.WaitAsync();
                tasks.Add(PublishAsync(client, payload, gate));
            }

            await Task.WhenAll(tasks);
        }));
    }

    private static async Task PublishAsync(IMqttClient client, byte[] payload, SemaphoreSlim gate)
    {
        try
        {
            var result = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("ep/v1/bench/events").WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            if (!result.IsSuccess)
            {
                throw new InvalidOperationException($"publish failed: {result.ReasonCode}");
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private static async Task<IMqttClient> ConnectAsync(int port, string id)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(id).WithCleanSession().Build());
        return client;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>Tasks in flight, counted rather than kept: completes when every task added has, fails with the first failure.</summary>
internal sealed record ChildLatency(Percentiles Latency, double EdgeCores);

internal sealed class InFlight
{
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _count = 1;
    private Exception? _failure;

    public void Add(Task task)
    {
        Interlocked.Increment(ref _count);
        task.ContinueWith(
            static (t, self) => ((InFlight)self!).Done(t.Exception?.InnerException),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Call once, after the last <see cref="Add"/>.</summary>
    public Task WhenAllAsync()
    {
        Done(null);
        return _idle.Task;
    }

    private void Done(Exception? error)
    {
        if (error is not null)
        {
            Interlocked.CompareExchange(ref _failure, error, null);
        }

        if (Interlocked.Decrement(ref _count) == 0)
        {
            if (_failure is null)
            {
                _idle.TrySetResult();
            }
            else
            {
                _idle.TrySetException(_failure);
            }
        }
    }
}

internal static class Redis
{
    /// <summary>redis-server on a free port, one value of 512 bytes set, then redis-benchmark GET with one connection.</summary>
    public static async Task<Percentiles?> GetLatencyAsync(int requests)
    {
        if (!File.Exists("/usr/bin/redis-server") || !File.Exists("/usr/bin/redis-benchmark"))
        {
            return null;
        }

        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }

        using var server = Process.Start(new ProcessStartInfo("/usr/bin/redis-server", $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        try
        {
            await Task.Delay(500);
            await RunAsync($"-p {port} -t set -n 1000 -d 512 -q");
            var output = await RunAsync($"-p {port} -t get -n {requests} -c 1 -d 512");
            // "latency summary (msec):" then a header line "avg min p50 p95 p99 max" and a values line.
            var lines = output.Split('\n', StringSplitOptions.TrimEntries);
            var at = Array.FindIndex(lines, l => l.StartsWith("latency summary", StringComparison.Ordinal));
            var header = lines[at + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = lines[at + 2].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            double Col(string name) => values[Array.IndexOf(header, name)];
            var throughputLine = lines.First(l => l.StartsWith("throughput summary", StringComparison.Ordinal));
            var ops = double.Parse(throughputLine.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            return new Percentiles(requests, Col("p50"), Col("p99"), Col("max"), ops);
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    private static async Task<string> RunAsync(string args)
    {
        using var p = Process.Start(new ProcessStartInfo("/usr/bin/redis-benchmark", args) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var text = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return text.Replace('\r', '\n');
    }
}

/// <summary>
/// Latency samples of 20 ms or more in the paced phase, by when they were sent: printed as bursts (samples less than
/// 100 ms apart), to lay the tail beside the edge's pauses (collections, log restarts).
/// </summary>
internal static class SlowSamples
{
    private static readonly List<(double At, double Ms)> Slow = [];

    public static long PhaseStart { get; private set; }

    public static void Start(long timestamp)
    {
        PhaseStart = timestamp;
        Slow.Clear();
    }

    /// <summary>Called under the samples' lock.</summary>
    public static void Note(double atMs, double latencyMs)
    {
        if (latencyMs >= 20)
        {
            Slow.Add((atMs, latencyMs));
        }
    }

    public static void Print()
    {
        var sorted = Slow.OrderBy(x => x.At).ToList();
        Console.WriteLine($"  samples of 20 ms or more: {sorted.Count:N0}, in bursts (sent at ms from the phase start):");
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j + 1 < sorted.Count && sorted[j + 1].At - sorted[j].At < 100)
            {
                j++;
            }

            var burst = sorted.GetRange(i, j - i + 1);
            Console.WriteLine($"    +{burst[0].At,7:F0} ms for {burst[^1].At - burst[0].At,5:F0} ms: {burst.Count,5} samples, max {burst.Max(b => b.Ms),6:F1} ms");
            i = j + 1;
        }
    }
}
