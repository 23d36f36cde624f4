using System.Globalization;
using System.Runtime.InteropServices;
using EdgeProfile.Bench.HubReads;

// Hub profile reads by key under concurrent load: the real hub (edgeprofile-hub, Release) as a child process, seeded
// over the gRPC uplink as edges do, read over REST GET /api/profiles/{key} by a closed loop of keep-alive
// connections. Peer in the same invocation: Debian's redis-server GET through redis-benchmark with as many
// connections; control: the same hub's GET /api/health (its HTTP floor). See bench/README.md.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var settings = Settings.Parse(args);
var root = RepositoryRoot();
var cores = Environment.ProcessorCount;
Console.WriteLine($"bench-hub-reads: {settings}");
Console.WriteLine($"machine: {cores} cores, {RuntimeInformation.FrameworkDescription}, load average {ProcStat.LoadAverage()}");

if (settings.Build)
{
    Console.WriteLine("  dotnet build hub/EdgeProfile.Hub.Server -c Release ...");
    await HubProcess.BuildAsync(root);
}

var runs = new List<(string Storage, LoadResult Hub, LoadResult? Health)>();
foreach (var storage in settings.Storages)
{
    LoadResult? health = null;
    await using var process = await HubProcess.StartAsync(root, storage, settings.Postgres);
    Console.WriteLine($"  hub: {HubProcess.ServerDll(root)} on {process.Address} (pid {process.Pid}, Hub:Storage={storage})");
    var workload = await Seeder.SeedAsync(process, settings);
    await process.AnalyzeAsync();
    var pool = await KeyPool.BuildAsync(process, workload, settings);
    var hub = await LoadGenerator.RunAsync(process, pool.Pick, settings, settings.DurationSeconds);
    Console.WriteLine($"  {storage}: profile reads: {hub.Latency.Count:N0} in {settings.DurationSeconds} s over {hub.Connections} connections opened; statuses {hub.Statuses}; mean body {hub.MeanBytes:N0} B; load average {ProcStat.LoadAverage()}");
    if (settings.HealthSeconds > 0)
    {
        var url = new Uri(process.Address, "/api/health");
        health = await LoadGenerator.RunAsync(process, _ => url, settings, settings.HealthSeconds);
        Console.WriteLine($"  {storage}: health reads: {health.Latency.Count:N0} in {settings.HealthSeconds} s; statuses {health.Statuses}; load average {ProcStat.LoadAverage()}");
    }

    if (process.Output() is { Length: > 0 } output)
    {
        Console.WriteLine($"  hub output:\n{output}");
    }

    runs.Add((storage, hub, health));
}

// Each hub is stopped before the next runs, and before the peer, so none takes CPU from another.
var redis = await Redis.GetAsync(settings.Connections, settings.RedisRequests);
if (redis is not null)
{
    Console.WriteLine($"  redis: {settings.RedisRequests:N0} GETs in {redis.Seconds:F1} s; load average {ProcStat.LoadAverage()}");
}

const double GoalRate = 20_000;
const double GoalP99 = 10;
var r = redis?.Latency;
static string Ratio(double ours, double? theirs) => theirs is > 0 ? $"{ours / theirs.Value:F2}x" : "";
static string Busy(double server, double client, double machine) => $"{server:F2} / {client:F2} / {machine:F2}";
string Row(string name, Func<LoadResult, string> ours, string peer, Func<LoadResult, string> ratio) =>
    $"| {name} | {string.Join(" | ", runs.Select(x => ours(x.Hub)))} | {peer} | {string.Join(" | ", runs.Select(x => ratio(x.Hub)))} |";

Console.WriteLine();
Console.WriteLine($"| {settings.Connections} connections, closed loop, one box ({cores} cores) | {string.Join(" | ", runs.Select(x => $"hub GET /api/profiles/KEY on {x.Storage} (HTTP/1.1 keep-alive, JSON ~{x.Hub.MeanBytes:N0} B)"))} | redis-server GET (redis-benchmark -c {settings.Connections} -d 512) | {string.Join(" | ", runs.Select(x => $"ratio {x.Storage} / redis"))} |");
Console.WriteLine($"|---|{string.Concat(runs.Select(_ => "---:|"))}---:|{string.Concat(runs.Select(_ => "---:|"))}");
Console.WriteLine(Row("reads/s", h => $"{h.Latency.OpsPerSecond:N0}", redis is null ? "not installed (apt-get install redis-server redis-tools)" : $"{r!.OpsPerSecond:N0}", h => Ratio(h.Latency.OpsPerSecond, r?.OpsPerSecond)));
Console.WriteLine(Row("p50", h => $"{h.Latency.P50:F2} ms", $"{r?.P50:F2} ms", h => Ratio(h.Latency.P50, r?.P50)));
Console.WriteLine(Row("p99", h => $"{h.Latency.P99:F2} ms", $"{r?.P99:F2} ms", h => Ratio(h.Latency.P99, r?.P99)));
Console.WriteLine(Row("max", h => $"{h.Latency.Max:F2} ms", $"{r?.Max:F2} ms", h => Ratio(h.Latency.Max, r?.Max)));
Console.WriteLine(Row("server CPU per read (/proc/PID/stat; hub process only)", h => $"{h.HubCpuMicros:F1} µs", $"{redis?.ServerCpuMicros:F1} µs", h => Ratio(h.HubCpuMicros, redis?.ServerCpuMicros)));
Console.WriteLine(Row("load generator CPU per read", h => $"{h.ClientCpuMicros:F1} µs (.NET HttpClient)", $"{redis?.ClientCpuMicros:F1} µs (redis-benchmark)", _ => ""));
Console.WriteLine(Row("cores busy: server / load generator / whole machine (all processes, PostgreSQL's included)", h => Busy(h.HubCores, h.ClientCores, h.MachineCores), redis is null ? "" : Busy(redis.ServerCores, redis.ClientCores, redis.MachineCores), _ => ""));
Console.WriteLine(Row("samples", h => $"{h.Latency.Count:N0} in {settings.DurationSeconds} s after {settings.WarmupSeconds} s warm-up", $"{r?.Count:N0} in {redis?.Seconds:F1} s", _ => ""));
Console.WriteLine(Row("errors (non-200 or no answer)", h => $"{h.Errors:N0}", "", _ => ""));

foreach (var (storage, hub, health) in runs.Where(x => x.Health is not null))
{
    var h = hub.Latency;
    var c = health!.Latency;
    Console.WriteLine();
    Console.WriteLine($"Control, same hub process ({storage}) and {settings.Connections} connections: GET /api/health (routing + a small JSON answer; no token check, no database) is the hub's HTTP floor.");
    Console.WriteLine("| same hub | GET /api/profiles/KEY | GET /api/health | profile - health |");
    Console.WriteLine("|---|---:|---:|---:|");
    Console.WriteLine($"| requests/s | {h.OpsPerSecond:N0} | {c.OpsPerSecond:N0} | |");
    Console.WriteLine($"| p50 / p99 | {h.P50:F2} / {h.P99:F2} ms | {c.P50:F2} / {c.P99:F2} ms | |");
    Console.WriteLine($"| hub CPU per request | {hub.HubCpuMicros:F1} µs | {health.HubCpuMicros:F1} µs | {hub.HubCpuMicros - health.HubCpuMicros:F1} µs |");
    Console.WriteLine($"| cores busy: hub / load generator / whole machine | {Busy(hub.HubCores, hub.ClientCores, hub.MachineCores)} | {Busy(health.HubCores, health.ClientCores, health.MachineCores)} | |");
    Console.WriteLine($"| errors | {hub.Errors:N0} | {health.Errors:N0} | |");
}

Console.WriteLine();
foreach (var (storage, hub, _) in runs)
{
    var h = hub.Latency;
    var met = h.OpsPerSecond >= GoalRate && h.P99 <= GoalP99 && hub.Errors == 0;
    Console.WriteLine($"Goal (issue), {storage}: >= {GoalRate:N0} reads/s with p99 <= {GoalP99:F0} ms on one box, 0 errors: {(met ? "met" : "NOT met")} ({h.OpsPerSecond:N0} reads/s, p99 {h.P99:F2} ms, {hub.Errors:N0} errors).");
}

return runs.All(x => x.Hub.Errors == 0) ? 0 : 1;

static string RepositoryRoot()
{
    foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeProfile.sln")))
            {
                return dir.FullName;
            }
        }
    }

    throw new InvalidOperationException("EdgeProfile.sln not found above the working directory or the binary; run from the repository");
}
