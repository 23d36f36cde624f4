using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using EdgeProfile.Core.Customers;
using EdgeProfile.Core.Identity;

// Identity resolution at scale: a million identifier links (two identifiers seen together) applied to the in-memory
// IdentityGraph under the hub's rules (limits, blocked identifiers, priority). Peer in the same invocation: Python
// networkx building a graph from the same edges and finding its connected components (no rules). See bench/README.md.
var settings = Settings.Parse(args);
Console.WriteLine($"bench-identity: {settings}");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}");

var pseudonymizer = new Pseudonymizer(Encoding.UTF8.GetBytes("bench-identity-organisation-key"));
var workload = Workload.Generate(settings, pseudonymizer);
Console.WriteLine($"workload: {workload.Links.Count:N0} links ({workload.Distinct:N0} distinct) over {settings.Customers:N0} customers; {workload.Noise}");

var rules = new IdentityRules { BlockedKeys = [.. Workload.StoreTablets] };
var withRules = Ours.Run("IdentityGraph, default limits + blocks", new IdentityPolicy(rules, pseudonymizer.Hash), workload.Links, settings.Runs);
var noLimits = Ours.Run("IdentityGraph, no limits or configured blocked keys", new IdentityPolicy(new IdentityRules { Limits = [] }, pseudonymizer.Hash), workload.Links, settings.Runs);

var edges = Path.Combine(Path.GetTempPath(), $"ep-bench-identity-{Environment.ProcessId}.txt");
await using (var writer = new StreamWriter(edges, append: false, new UTF8Encoding(false), 1 << 20))
{
    foreach (var link in workload.Links)
    {
        await writer.WriteLineAsync($"{link[0]} {link[1]}");
    }
}

var nx = await NetworkX.RunAsync(edges, settings.Runs);
File.Delete(edges);

static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):N0} MiB";
var n = workload.Links.Count;
Console.WriteLine();
Console.WriteLine($"| {n:N0} links of 2 identifiers, {settings.Customers:N0} customers, seed {settings.Seed}, median of {settings.Runs} runs | EdgeProfile IdentityGraph (limits, blocks, priority) | {(nx is null ? "networkx" : $"networkx {nx.Version}")} connected_components | ratio ours / networkx |");
Console.WriteLine("|---|---:|---:|---:|");
if (nx is null)
{
    Console.WriteLine($"| links/s | {n / withRules.Seconds:N0} | not installed (apt-get install python3-networkx) | |");
    Console.WriteLine($"| links/s, IdentityGraph with no limits and no configured blocked keys (built-in blocked values only) | {n / noLimits.Seconds:N0} | not installed | |");
    Console.WriteLine($"| seconds | {withRules.Seconds:F2} | | |");
    Console.WriteLine($"| identifiers (nodes) | {withRules.Identifiers:N0} | | |");
    Console.WriteLine($"| profiles (components) | {withRules.Profiles:N0} | | |");
    Console.WriteLine($"| largest profile (component) | {withRules.Largest:N0} identifiers | | |");
    Console.WriteLine($"| memory held by the graph | {Mib(withRules.HeldBytes)} | | |");
}
else
{
    Console.WriteLine($"| links/s | {n / withRules.Seconds:N0} | {n / nx.Seconds:N0} | {nx.Seconds / withRules.Seconds:F2}x |");
    Console.WriteLine($"| links/s, IdentityGraph with no limits and no configured blocked keys (built-in blocked values only) | {n / noLimits.Seconds:N0} | {n / nx.Seconds:N0} | {nx.Seconds / noLimits.Seconds:F2}x |");
    Console.WriteLine($"| seconds (graph build + resolution / components) | {withRules.Seconds:F2} | {nx.Seconds:F2} | {withRules.Seconds / nx.Seconds:F2}x |");
    Console.WriteLine($"| identifiers (nodes; blocked ones are in no profile) | {withRules.Identifiers:N0} | {nx.Nodes:N0} | |");
    Console.WriteLine($"| profiles (components) | {withRules.Profiles:N0} | {nx.Components:N0} | |");
    Console.WriteLine($"| largest profile (component) | {withRules.Largest:N0} identifiers | {nx.Largest:N0} identifiers | |");
    Console.WriteLine($"| memory held by the graph (ours: managed heap growth; networkx: RSS growth) | {Mib(withRules.HeldBytes)} | {Mib(nx.HeldBytes)} | {(double)withRules.HeldBytes / nx.HeldBytes:F2}x |");
}

Console.WriteLine($"| identifiers kept out: limit or split / blocked | {withRules.LimitRejections:N0} / {withRules.BlockedRejections:N0} | none (no rules) | |");
Console.WriteLine($"| allocated per link | {withRules.AllocatedPerLink:N0} B | | |");
Console.WriteLine();
Console.WriteLine("networkx applies no limits and no blocked identifiers: it finds connected components only, so a shared store tablet or a");
Console.WriteLine("'000000' joins every customer who used it into one component. The no-limits row is the closest like-for-like figure.");
Console.WriteLine($"IdentityGraph with no limits and no configured blocked keys: {noLimits.Profiles:N0} profiles, largest {noLimits.Largest:N0} identifiers (store tablets join customers), {noLimits.BlockedRejections:N0} blocked.");
return 0;

internal sealed record Settings(int Links, int Customers, int Runs, int Seed)
{
    public static Settings Parse(string[] args)
    {
        var s = new Settings(1_000_000, 150_000, 3, 42);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var v = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            s = args[i] switch
            {
                "--links" => s with { Links = v },
                "--customers" => s with { Customers = v },
                "--runs" => s with { Runs = v },
                "--seed" => s with { Seed = v },
                _ => throw new ArgumentException($"unknown option {args[i]} (--links --customers --runs --seed)"),
            };
        }

        return s;
    }
}

internal sealed record Workload(List<string[]> Links, int Distinct, string Noise)
{
    public static readonly string[] StoreTablets = [.. Enumerable.Range(0, 40).Select(i => $"device:store-{i}-tablet")];

    /// <summary>
    /// Each customer's usual links (loyalty with app, the app or loyalty id with 1-3 devices, emails, a card), each seen
    /// once and then again at a skewed rate, shuffled. Overlaps as stores see them: household devices and family emails
    /// shared with another customer, store tablets (configured blocked keys), built-in blocked values typed at the till,
    /// second loyalty cards and devices beyond the limit of five.
    /// </summary>
    public static Workload Generate(Settings s, Pseudonymizer p)
    {
        var rng = new Random(s.Seed);
        string[] typedAtTill = ["loyalty:000000", "device:unknown", "app:0", $"email:{p.Hash("email", "none")}", $"phone:{p.Hash("phone", "000000")}"];
        var usual = new List<string[]>(s.Customers * 5);
        var start = new int[s.Customers + 1];
        int shared = 0, family = 0, tablets = 0, till = 0, secondCards = 0, hoarders = 0;
        for (var c = 0; c < s.Customers; c++)
        {
            start[c] = usual.Count;
            var hasLoyalty = rng.NextDouble() < 0.85;
            var hasApp = !hasLoyalty || rng.NextDouble() < 0.6;
            var loyalty = hasLoyalty ? $"loyalty:L-{c}" : null;
            var app = hasApp ? $"app:u-{c}" : null;
            var anchor = (loyalty ?? app)!;
            if (loyalty is not null && app is not null)
            {
                usual.Add([loyalty, app]);
            }

            var devices = rng.NextDouble() < 0.002 ? 8 : 1 + rng.Next(3);
            hoarders += devices > 5 ? 1 : 0;
            for (var d = 0; d < devices; d++)
            {
                var householdDevice = d == 0 && c > 0 && rng.NextDouble() < 0.04;
                shared += householdDevice ? 1 : 0;
                usual.Add([app ?? anchor, householdDevice ? $"device:d-{c - 1}-0" : $"device:d-{c}-{d}"]);
            }

            if (rng.NextDouble() < 0.8)
            {
                usual.Add([anchor, $"email:{p.Hash("email", $"c{c}@example.cn")}"]);
            }

            if (rng.NextDouble() < 0.15)
            {
                usual.Add([anchor, $"email:{p.Hash("email", $"c{c}.work@example.cn")}"]);
            }

            if (c > 0 && rng.NextDouble() < 0.01)
            {
                family++;
                usual.Add([anchor, $"email:{p.Hash("email", $"c{c - 1}@example.cn")}"]);
            }

            if (rng.NextDouble() < 0.3)
            {
                usual.Add([loyalty ?? anchor, $"card:{p.Hash("card", $"tok_{c}")}"]);
            }

            if (rng.NextDouble() < 0.02)
            {
                tablets++;
                usual.Add([anchor, StoreTablets[rng.Next(StoreTablets.Length)]]);
            }

            if (rng.NextDouble() < 0.01)
            {
                till++;
                usual.Add([anchor, typedAtTill[rng.Next(typedAtTill.Length)]]);
            }

            if (rng.NextDouble() < 0.005)
            {
                secondCards++;
                usual.Add([app ?? anchor, $"loyalty:L2-{c}"]);
            }
        }

        start[s.Customers] = usual.Count;
        var links = new List<string[]>(Math.Max(s.Links, usual.Count));
        links.AddRange(usual);

        // Seen again: a few customers come often (the square skews towards low numbers), each time with one of their links.
        while (links.Count < s.Links)
        {
            var c = (int)(s.Customers * Math.Pow(rng.NextDouble(), 2));
            links.Add(usual[start[c] + rng.Next(start[c + 1] - start[c])]);
        }

        for (var i = links.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (links[i], links[j]) = (links[j], links[i]);
        }

        if (links.Count > s.Links)
        {
            links.RemoveRange(s.Links, links.Count - s.Links);
        }

        var noise = $"customers with a household device {shared:N0}, family email {family:N0}, store tablet {tablets:N0}, "
            + $"blocked value at the till {till:N0}, second loyalty card {secondCards:N0}, more than 5 devices {hoarders:N0}";
        return new Workload(links, usual.Count, noise);
    }
}

internal sealed record Result(double Seconds, int Identifiers, int Profiles, int Largest, long LimitRejections, long BlockedRejections, long HeldBytes, long AllocatedPerLink);

internal static class Ours
{
    public static Result Run(string label, IdentityPolicy policy, List<string[]> links, int runs)
    {
        // Warm-up (JIT, caches) on a tenth of the links, not measured.
        var warm = new IdentityGraph(policy);
        foreach (var link in links.Take(links.Count / 10))
        {
            warm.Link(link);
        }

        var seconds = new List<double>();
        IdentityGraph? graph = null;
        long held = 0, allocated = 0;
        for (var r = 0; r < runs; r++)
        {
            graph = null;
            var before = GC.GetTotalMemory(forceFullCollection: true);
            var allocated0 = GC.GetTotalAllocatedBytes(precise: true);
            var watch = Stopwatch.StartNew();
            graph = new IdentityGraph(policy);
            foreach (var link in links)
            {
                graph.Link(link);
            }

            seconds.Add(watch.Elapsed.TotalSeconds);
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
            held = GC.GetTotalMemory(forceFullCollection: true) - before;
            Console.WriteLine($"  {label}, run {r + 1}: {links.Count / seconds[^1]:N0} links/s, {graph.ProfileCount:N0} profiles");
        }

        seconds.Sort();
        var largest = graph!.Profiles().Values.Max(keys => keys.Count);
        return new Result(seconds[seconds.Count / 2], graph.KeyCount, graph.ProfileCount, largest, graph.LimitRejections, graph.BlockedRejections, held, allocated / links.Count);
    }
}

internal sealed record NetworkXResult(string Version, double Seconds, int Nodes, int Components, int Largest, long HeldBytes);

internal static class NetworkX
{
    // Reads the edges first (not timed); times nx.Graph() + add_edges_from + connected_components, as a user would.
    private const string Script = """
        import gc, os, sys, time
        try:
            import networkx as nx
        except ImportError:
            print("not installed")
            sys.exit(3)
        path, runs = sys.argv[1], int(sys.argv[2])
        with open(path) as f:
            edges = [tuple(line.split()) for line in f]
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        times, held = [], 0
        for r in range(runs):
            gc.collect()
            before = rss()
            t0 = time.perf_counter()
            g = nx.Graph()
            g.add_edges_from(edges)
            sizes = [len(c) for c in nx.connected_components(g)]
            times.append(time.perf_counter() - t0)
            if r == 0:
                held = rss() - before
            nodes, components, largest = g.number_of_nodes(), len(sizes), max(sizes)
            print(f"  networkx {nx.__version__}, run {r + 1}: {len(edges) / times[-1]:,.0f} edges/s, {components:,} components", flush=True)
            del g, sizes
        times.sort()
        print(f"result {nx.__version__} {times[len(times) // 2]} {nodes} {components} {largest} {held}")
        """;

    public static async Task<NetworkXResult?> RunAsync(string edgesFile, int runs)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python))
        {
            Console.WriteLine("  networkx: not installed (no /usr/bin/python3)");
            return null;
        }

        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-c", Script, edgesFile, runs.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        string? result = null;
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("result ", StringComparison.Ordinal))
            {
                result = line;
            }
            else
            {
                Console.WriteLine(line.StartsWith("not installed", StringComparison.Ordinal) ? "  networkx: not installed (apt-get install python3-networkx)" : line);
            }
        }

        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || result is null)
        {
            return null;
        }

        var f = result.Split(' ');
        return new NetworkXResult(f[1], double.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture), int.Parse(f[4], CultureInfo.InvariantCulture), int.Parse(f[5], CultureInfo.InvariantCulture), long.Parse(f[6], CultureInfo.InvariantCulture));
    }
}
