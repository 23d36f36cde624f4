using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Bench.RulePublish;

// bench-rule-publish: the time from `edgeprofile rules publish` until a new tag rule is live on every store of a fleet
// (the hub and N edge agents as real processes on loopback), beside the transport floor of the same fan-out: the rule
// file published once to N subscribers through mosquitto.
var settings = Settings.Parse(args);
var root = Settings.RepoRoot();
Console.WriteLine($"bench-rule-publish: {settings.Edges} edges x {settings.Customers} customers, {settings.Publishes} publishes, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

var hubDll = Path.Combine(root, "hub", "EdgeProfile.Hub.Server", "bin", "Release", "net10.0", "edgeprofile-hub.dll");
var edgeDll = Path.Combine(root, "edge", "EdgeProfile.Edge.Agent", "bin", "Release", "net10.0", "edgeprofile-edge.dll");
var cliDll = Path.Combine(root, "hub", "EdgeProfile.Cli", "bin", "Release", "net10.0", "edgeprofile.dll");
if (!settings.NoBuild)
{
    foreach (var project in new[] { "hub/EdgeProfile.Hub.Server", "edge/EdgeProfile.Edge.Agent", "hub/EdgeProfile.Cli" })
    {
        Console.WriteLine($"  building {project} (Release) ...");
        var (code, output) = await Child.RunAsync(Child.DotnetHost, ["build", Path.Combine(root, project), "-c", "Release", "-nologo", "-v", "q"], TimeSpan.FromMinutes(15));
        if (code != 0)
        {
            throw new InvalidOperationException($"dotnet build {project} failed:\n{output}");
        }
    }
}

var work = Directory.CreateTempSubdirectory("ep-bench-rule-publish-");
var children = new List<Child>();
try
{
    // The hub, with a known operator token.
    var token = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
    var hubAddress = new Uri($"http://127.0.0.1:{Child.FreePort()}");
    var hub = Child.Start("hub", hubDll, ["--urls", hubAddress.ToString().TrimEnd('/'), $"--Hub:DataDir={Path.Combine(work.FullName, "hub")}", $"--Hub:OperatorToken={token}", "--Logging:LogLevel:Default=Warning"]);
    children.Add(hub);
    using var hubHttp = new HttpClient { BaseAddress = hubAddress };
    hubHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    await Fleet.WaitHealthyAsync(hubHttp, hub);

    // The two features the rules read.
    using (var registered = await hubHttp.PostAsJsonAsync("/api/features", Fleet.FeatureDefinitions()))
    {
        if (!registered.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"feature registration failed: {await registered.Content.ReadAsStringAsync()}");
        }
    }

    // The stores: enrolled, started, the features applied.
    var edges = new List<EdgeNode>();
    var started = Stopwatch.StartNew();
    for (var i = 0; i < settings.Edges; i++)
    {
        var store = $"bench-store-{i + 1:D2}";
        using var enrollment = await hubHttp.PostAsJsonAsync("/api/enrollments", new { storeId = store, kind = "store" });
        enrollment.EnsureSuccessStatusCode();
        var enrollmentToken = JsonDocument.Parse(await enrollment.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
        var (mqtt, http) = (Child.FreePort(), Child.FreePort());
        var process = Child.Start(store, edgeDll,
        [
            $"--Edge:StoreId={store}", $"--Edge:DataDir={Path.Combine(work.FullName, store)}", $"--Edge:Mqtt:Port={mqtt}",
            $"--Edge:Http:Urls=http://127.0.0.1:{http}", $"--Edge:HubUrl={hubAddress}", $"--Edge:EnrollmentToken={enrollmentToken}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        children.Add(process);
        edges.Add(new EdgeNode(store, process, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}") }, mqtt));
    }

    await Task.WhenAll(edges.Select(async e =>
    {
        await Fleet.WaitHealthyAsync(e.Http, e.Process);
        await Fleet.UntilAsync(async () => (await Fleet.StatsAsync(e.Http)).GetProperty("features").GetProperty("revision").GetInt64() >= 2, TimeSpan.FromSeconds(120), $"{e.Store} to apply the features");
    }));
    Console.WriteLine($"  hub and {edges.Count} edges up, features applied, in {started.Elapsed.TotalSeconds:F1} s");

    // Customers: even ones bought baby products (the rules tag them), odd ones phones.
    var loaded = Stopwatch.StartNew();
    await Task.WhenAll(edges.Select(e => Fleet.PublishCustomersAsync(e, settings.Customers)));
    await Task.WhenAll(edges.Select(e => Fleet.UntilAsync(
        async () => (await Fleet.StatsAsync(e.Http)).GetProperty("eventsStored").GetInt64() >= settings.Customers
            && Fleet.Feature(await Fleet.ProfileAsync(e.Http, Fleet.Sentinel(e.Store, settings.Customers - 2)), "baby_purchases_30d") == 1,
        TimeSpan.FromSeconds(300), $"{e.Store} to store its customers")));
    Console.WriteLine($"  {settings.Customers * edges.Count:N0} customers' purchases ingested and featured in {loaded.Elapsed.TotalSeconds:F1} s");

    // Publish: each version adds a rule whose tag is new, and is live when every store's sentinel carries it.
    var rulesFile = Path.Combine(work.FullName, "rules.txt");
    var publishes = new List<(double Cli, double Live, double Propagation)>();
    for (var v = 1; v <= settings.Publishes; v++)
    {
        var tag = $"wave_{v}";
        await File.WriteAllTextAsync(rulesFile, Fleet.RuleFile(tag));
        var watch = Stopwatch.StartNew();
        var cli = Child.RunAsync(cliDll, ["rules", "publish", rulesFile, "--hub", hubAddress.ToString(), "--token", token], TimeSpan.FromSeconds(60));
        var perEdge = edges.Select(async e =>
        {
            await Fleet.UntilAsync(async () => Fleet.HasTag(await Fleet.ProfileAsync(e.Http, Fleet.Sentinel(e.Store, 0)), tag), TimeSpan.FromSeconds(60), $"{e.Store} to carry {tag}", pollMs: 10);
            return (Elapsed: watch.Elapsed.TotalMilliseconds, At: DateTimeOffset.UtcNow);
        }).ToList();
        var (code, output) = await cli;
        var cliMs = watch.Elapsed.TotalMilliseconds;
        if (code != 0)
        {
            throw new InvalidOperationException($"rules publish failed ({code}):\n{output}");
        }

        var reached = await Task.WhenAll(perEdge);
        var times = reached.Select(r => r.Elapsed).ToArray();
        var live = times.Max();

        // From the moment the hub committed the version (its own clock, the same machine) to the last store.
        using var current = JsonDocument.Parse(await hubHttp.GetStringAsync("/api/rules"));
        var publishedAt = current.RootElement.GetProperty("publishedAt").GetDateTimeOffset();
        var propagation = (reached.Max(r => r.At) - publishedAt).TotalMilliseconds;

        // Correct, not just fast: the phone buyers never carry the tag, and the reason names the rule.
        foreach (var e in edges)
        {
            var other = await Fleet.ProfileAsync(e.Http, Fleet.Sentinel(e.Store, 1));
            if (Fleet.HasTag(other, tag))
            {
                throw new InvalidOperationException($"{e.Store}: a phone buyer carries {tag}");
            }

            var reason = Fleet.TagReason(await Fleet.ProfileAsync(e.Http, Fleet.Sentinel(e.Store, 0)), tag);
            if (reason is null || !reason.Contains($"rule {tag}@v1", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{e.Store}: the reason for {tag} does not name its rule: {reason}");
            }
        }

        publishes.Add((cliMs, live, propagation));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  rules version {v}: CLI returned after {cliMs:F0} ms; live on all {edges.Count} stores after {live:F0} ms (first store {times.Min():F0} ms); {propagation:F0} ms after the hub committed it"));
    }

    // The peer: the same file fanned out to the same number of subscribers through mosquitto (QoS 1).
    var floor = await MosquittoFloor.MeasureAsync(settings, Encoding.UTF8.GetBytes(Fleet.RuleFile("wave_peer")));

    var liveMedian = Median(publishes.Select(p => p.Live));
    var cliMedian = Median(publishes.Select(p => p.Cli));
    Console.WriteLine();
    Console.WriteLine($"| figure ({settings.Edges} stores, median of {settings.Publishes}) | ms |");
    Console.WriteLine("|---|---:|");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| `rules publish` (CLI process, compile + validate at the hub) returned | {cliMedian:F0} |"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| live on every store (from the CLI's start) | {liveMedian:F0} |"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| worst publish, live on every store | {publishes.Max(p => p.Live):F0} |"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| hub commit to live on every store (median) | {Median(publishes.Select(p => p.Propagation)):F0} |"));
    if (floor is { } f)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| peer: mosquitto fan-out of the file to {settings.Edges} subscribers (median) | {f:F1} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| hub commit to live ÷ mosquitto fan-out | {Median(publishes.Select(p => p.Propagation)) / f:F1}x |"));
    }
    else
    {
        Console.WriteLine("| peer: mosquitto | not installed (apt-get install -y mosquitto) |");
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"goal: live on every store <= 5000 ms: {(publishes.Max(p => p.Live) <= 5000 ? "met" : "NOT met")}"));
    foreach (var e in edges)
    {
        e.Http.Dispose();
    }
}
finally
{
    foreach (var c in children)
    {
        await c.DisposeAsync();
    }

    try
    {
        work.Delete(recursive: true);
    }
    catch (IOException)
    {
        // A temp directory: best effort.
    }
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}
