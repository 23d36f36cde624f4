using System.Diagnostics;
using System.Globalization;
using EdgeProfile.Bench.VectorSearch;
using EdgeProfile.Semantic.Vectors;

// Approximate nearest-neighbour search: EdgeProfile's HnswIndex (C#) against Unum USearch 2.26.6 (C++ HNSW, NuGet
// Cloud.Unum.USearch) and our exact brute force, on 100k real MiniLM vectors and on 100k random 64-d Gaussian vectors,
// in one invocation. See README.md.
var settings = Settings.Parse(args);
Console.WriteLine($"bench-vector-search: {settings}");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, Vector<float> = {System.Numerics.Vector<float>.Count} lanes; load average at start: {LoadAverage()}");

var rows = new List<Row>();
var persistence = new List<PersistenceRow>();
foreach (var set in settings.Sets)
{
    float[][] all;
    string description;
    if (set == "real")
    {
        Console.WriteLine("real set: building ...");
        var (vectors, sources) = RealVectors.Build(settings.DataDirectory, settings.CacheDirectory, settings.Base + settings.Extra + settings.RecallQueries);
        foreach (var source in sources)
        {
            Console.WriteLine($"  {source.Count,7:N0}  {source.Name}");
        }

        Console.WriteLine($"  {vectors.Length,7:N0}  distinct real vectors in total");
        all = vectors;
        description = "real: MiniLM 384-d";
    }
    else
    {
        all = Gaussian(settings.Base + settings.Extra + settings.RecallQueries, 64, settings.Seed);
        description = "random: Gaussian 64-d";
    }

    Shuffle(all, settings.Seed);
    var extraCount = Math.Min(settings.Extra, all.Length / 10);
    var queryCount = Math.Min(settings.RecallQueries, all.Length / 10);
    var baseCount = Math.Min(settings.Base, all.Length - extraCount - queryCount);
    var baseVectors = all[..baseCount];
    var extra = all[baseCount..(baseCount + extraCount)];
    var queries = all[(baseCount + extraCount)..(baseCount + extraCount + queryCount)];
    Console.WriteLine($"{description}: {baseCount:N0} indexed, {extraCount:N0} for the incremental phase (also the latency queries, before they are inserted), {queryCount:N0} held-out recall queries");
    Bench.Run($"{description} ({Format.N0(baseCount)})", settings, baseVectors, extra, queries, rows, persistence);
}

Console.WriteLine();
Console.WriteLine($"load average at end: {LoadAverage()}");
Console.WriteLine();
Console.WriteLine($"Search: recall@10 over the held-out queries vs exact; latency = one query at a time on one thread, {settings.LatencyQueries:N0} queries after {settings.Warmup:N0} warm-up (exact: the recall queries); build = {settings.Threads} threads for both HNSWs; M {settings.M}, efConstruction {settings.EfConstruction}. Ratios are ours / USearch at the same ef.");
Console.WriteLine();
Console.WriteLine("| set | index | ef | build vectors/s | memory MB | recall@10 | p50 µs | p99 µs | max µs | queries/s | recall ratio | p99 ratio | build ratio |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var row in rows)
{
    var peer = rows.FirstOrDefault(r => r.Set == row.Set && r.Index.StartsWith("USearch", StringComparison.Ordinal) && r.Ef == row.Ef)
        ?? rows.Last(r => r.Set == row.Set && r.Index.StartsWith("USearch", StringComparison.Ordinal));
    var ratios = row.Index.StartsWith("USearch", StringComparison.Ordinal)
        ? "| | |"
        : $"| {Format.F(row.Recall / peer.Recall, 3)}x | {Format.F(row.Latency.P99 / peer.Latency.P99, 2)}x | {(row.Index.StartsWith("ours HNSW", StringComparison.Ordinal) ? Format.F(row.BuildRate / peer.BuildRate, 2) + "x" : "")} |";
    Console.WriteLine($"| {row.Set} | {row.Index} | {(row.Ef > 0 ? row.Ef.ToString(CultureInfo.InvariantCulture) : "")} | {Format.N0(row.BuildRate)} | {Format.F(row.MemoryBytes / 1048576.0, 1)} | {Format.F(row.Recall, 4)} | {Format.F(row.Latency.P50, 0)} | {Format.F(row.Latency.P99, 0)} | {Format.F(row.Latency.Max, 0)} | {Format.N0(row.Latency.Qps)} {ratios}");
}

Console.WriteLine();
Console.WriteLine($"Persistence and incremental updates: save the built index, load it, then insert {settings.Extra:N0} more vectors into the loaded index ({settings.Threads} threads); recall@10 at ef {settings.DefaultEf} (ours: its saved EfSearch; USearch: as loaded, then set again to {settings.DefaultEf}).");
Console.WriteLine();
Console.WriteLine("| set | index | file MB | save ms | load ms | ef after load | recall@10 as loaded | +vectors/s (incremental) | recall@10 after increment | ratio (recall after increment) |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var row in persistence)
{
    var peer = persistence.First(r => r.Set == row.Set && r.Index == "USearch");
    var ratio = row.Index == "USearch" ? "" : $"{Format.F(row.RecallAfterIncrement / peer.RecallAfterIncrement, 3)}x";
    Console.WriteLine($"| {row.Set} | {row.Index} | {Format.F(row.FileBytes / 1048576.0, 1)} | {Format.F(row.SaveMs, 0)} | {Format.F(row.LoadMs, 0)} | {row.EfAfterLoad} | {Format.F(row.RecallAsLoaded, 4)} | {Format.N0(row.IncrementRate)} | {Format.F(row.RecallAfterIncrement, 4)} | {ratio} |");
}

return 0;

static string LoadAverage()
{
    try
    {
        return File.ReadAllText("/proc/loadavg").Trim();
    }
    catch (IOException)
    {
        return "n/a";
    }
}

static float[][] Gaussian(int count, int dimensions, int seed)
{
    var random = new Random(seed);
    var vectors = new float[count][];
    for (var i = 0; i < count; i++)
    {
        var v = new float[dimensions];
        for (var d = 0; d < dimensions; d++)
        {
            v[d] = (float)(Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }

        vectors[i] = v;
    }

    return vectors;
}

static void Shuffle(float[][] vectors, int seed) => new Random(seed).Shuffle(vectors);

/// <summary>One line of the search table.</summary>
internal sealed record Row(string Set, string Index, int Ef, double BuildRate, long MemoryBytes, double Recall, Latency Latency);

/// <summary>One line of the persistence table.</summary>
internal sealed record PersistenceRow(string Set, string Index, long FileBytes, double SaveMs, double LoadMs, int EfAfterLoad, double RecallAsLoaded, double IncrementRate, double RecallAfterIncrement);

/// <summary>Latency percentiles in microseconds and the single-thread query rate.</summary>
internal sealed record Latency(double P50, double P99, double Max, double Qps)
{
    public static Latency Of(List<double> microseconds)
    {
        microseconds.Sort();
        double At(double q) => microseconds[Math.Min(microseconds.Count - 1, (int)Math.Ceiling(q * microseconds.Count) - 1)];
        return new Latency(At(0.50), At(0.99), microseconds[^1], 1e6 / microseconds.Average());
    }
}

/// <summary>Command-line settings.</summary>
internal sealed record Settings(string DataDirectory, string CacheDirectory, IReadOnlyList<string> Sets, int Base, int Extra, int RecallQueries, int LatencyQueries, int Warmup, IReadOnlyList<int> EfValues, int DefaultEf, int M, int EfConstruction, int Threads, int Seed)
{
    public static Settings Parse(string[] args)
    {
        string? Value(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        var efValues = (Value("--ef") ?? "64,128,256").Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToList();
        return new Settings(
            Value("--data") ?? FindData(),
            Value("--cache") ?? Path.Combine(Path.GetTempPath(), "ep-bench-vector-search"),
            (Value("--sets") ?? "real,random").Split(','),
            Int("--base", 100_000),
            Int("--extra", 10_000),
            Int("--recall-queries", 2_000),
            Int("--latency-queries", 10_000),
            Int("--warmup", 1_000),
            efValues,
            Int("--default-ef", HnswOptions.DefaultEfSearch),
            Int("--m", 16),
            Int("--ef-construction", 200),
            Int("--threads", Environment.ProcessorCount),
            Int("--seed", 42));
    }

    public override string ToString() =>
        $"--data {DataDirectory} --sets {string.Join(',', Sets)} --base {Base} --extra {Extra} --recall-queries {RecallQueries} --latency-queries {LatencyQueries} --warmup {Warmup} --ef {string.Join(',', EfValues)} --default-ef {DefaultEf} --m {M} --ef-construction {EfConstruction} --threads {Threads} --seed {Seed}";

    private static string FindData()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(Path.Combine(candidate, "completejourney")))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException("Could not find shared/data beside the repository; pass --data DIR.");
    }
}

/// <summary>The measurements of one vector set.</summary>
internal static class Bench
{
    private const int K = 10;

    public static void Run(string set, Settings settings, float[][] baseVectors, float[][] extra, float[][] queries, List<Row> rows, List<PersistenceRow> persistence)
    {
        var dimensions = baseVectors[0].Length;
        var baseKeys = Enumerable.Range(0, baseVectors.Length).Select(i => (long)i).ToArray();
        var extraKeys = Enumerable.Range(baseVectors.Length, extra.Length).Select(i => (long)i).ToArray();
        var normalised = baseVectors.Concat(extra).Select(Normalised).ToArray();
        var latencyQueries = Enumerable.Range(0, settings.LatencyQueries).Select(i => extra[i % extra.Length]).ToArray();

        // Exact brute force: the ground truth, and a row of its own.
        using var exact = new ExactVectorIndex(dimensions);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < baseVectors.Length; i++)
        {
            exact.Upsert(baseKeys[i], baseVectors[i]);
        }

        var exactBuild = baseVectors.Length / Stopwatch.GetElapsedTime(started).TotalSeconds;
        foreach (var q in queries.Take(Math.Min(100, queries.Length)))
        {
            exact.Search(q, K);
        }

        var truth = new IReadOnlyList<VectorHit>[queries.Length];
        var exactTimes = new List<double>(queries.Length);
        for (var i = 0; i < queries.Length; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            truth[i] = exact.Search(queries[i], K);
            exactTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }

        rows.Add(new Row(set, $"exact brute force (ours, {Environment.ProcessorCount} threads per query)", 0, exactBuild, exact.MemoryBytes, 1.0, Latency.Of(exactTimes)));
        Console.WriteLine($"  exact: p99 {rows[^1].Latency.P99:F0} µs");

        // Ours.
        GC.Collect();
        var options = new HnswOptions { M = settings.M, EfConstruction = settings.EfConstruction, EfSearch = settings.DefaultEf, Seed = settings.Seed };
        var ours = new HnswIndex(dimensions, options);
        started = Stopwatch.GetTimestamp();
        ours.UpsertRange(baseKeys, baseVectors, settings.Threads);
        var oursBuild = baseVectors.Length / Stopwatch.GetElapsedTime(started).TotalSeconds;
        Console.WriteLine($"  ours built: {oursBuild:N0} vectors/s, {ours.MemoryBytes / 1048576.0:F1} MB");
        foreach (var ef in settings.EfValues)
        {
            var recall = Recall(queries, truth, normalised, q => ours.Search(q, K, ef).Select(h => h.Key).ToArray());
            var latency = Measure(latencyQueries, settings.Warmup, q => ours.Search(q, K, ef));
            rows.Add(new Row(set, "ours HNSW (C#)", ef, oursBuild, ours.MemoryBytes, recall, latency));
            Console.WriteLine($"  ours ef {ef}: recall {recall:F4}, p99 {latency.P99:F0} µs");
        }

        // USearch, same M / efConstruction / ef.
        GC.Collect();
        var peer = UsearchPeer.Create(dimensions, settings.M, settings.EfConstruction, settings.DefaultEf, baseVectors.Length + extra.Length, settings.Threads);
        started = Stopwatch.GetTimestamp();
        peer.AddParallel(baseKeys, baseVectors, settings.Threads);
        var peerBuild = baseVectors.Length / Stopwatch.GetElapsedTime(started).TotalSeconds;
        Console.WriteLine($"  USearch built: {peerBuild:N0} vectors/s, {peer.MemoryBytes / 1048576.0:F1} MB, {peer.Size:N0} vectors");
        var found = new long[K];
        var similarities = new float[K];
        foreach (var ef in settings.EfValues)
        {
            peer.ExpansionSearch = ef;
            var honoured = peer.ExpansionSearch;
            var recall = Recall(queries, truth, normalised, q => PeerSearch(peer, q, found, similarities));
            var latency = Measure(latencyQueries, settings.Warmup, q => peer.Search(q, K, found, similarities));
            rows.Add(new Row(set, honoured == ef ? "USearch 2.26.6 (C++)" : $"USearch 2.26.6 (C++; expansion read back as {honoured})", ef, peerBuild, peer.MemoryBytes, recall, latency));
            Console.WriteLine($"  USearch ef {ef} (reads back {honoured}): recall {recall:F4}, p99 {latency.P99:F0} µs");
        }

        // Persistence and incremental inserts.
        var file = Path.Combine(Path.GetTempPath(), $"ep-bench-vector-search-{Environment.ProcessId}");
        try
        {
            started = Stopwatch.GetTimestamp();
            using (var stream = File.Create(file + ".hnsw"))
            {
                ours.Save(stream);
            }

            var saveMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            ours.Dispose();
            GC.Collect();
            started = Stopwatch.GetTimestamp();
            HnswIndex loaded;
            using (var stream = File.OpenRead(file + ".hnsw"))
            {
                loaded = HnswIndex.Load(stream);
            }

            var loadMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var asLoaded = Recall(queries, truth, normalised, q => loaded.Search(q, K).Select(h => h.Key).ToArray());
            started = Stopwatch.GetTimestamp();
            loaded.UpsertRange(extraKeys, extra, settings.Threads);
            var oursIncrement = extra.Length / Stopwatch.GetElapsedTime(started).TotalSeconds;

            for (var i = 0; i < extra.Length; i++)
            {
                exact.Upsert(extraKeys[i], extra[i]);
            }

            var truthAfter = queries.Select(q => exact.Search(q, K)).ToArray();
            var oursAfter = Recall(queries, truthAfter, normalised, q => loaded.Search(q, K).Select(h => h.Key).ToArray());
            persistence.Add(new PersistenceRow(set, "ours HNSW (C#)", new FileInfo(file + ".hnsw").Length, saveMs, loadMs, loaded.Options.EfSearch, asLoaded, oursIncrement, oursAfter));
            Console.WriteLine($"  ours save {saveMs:F0} ms, load {loadMs:F0} ms, recall as loaded {asLoaded:F4}, +{oursIncrement:N0} vectors/s, recall after {oursAfter:F4}");
            loaded.Dispose();

            peer.ExpansionSearch = settings.DefaultEf;
            started = Stopwatch.GetTimestamp();
            peer.Save(file + ".usearch");
            saveMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            peer.Dispose();
            GC.Collect();
            started = Stopwatch.GetTimestamp();
            using var peerLoaded = UsearchPeer.Load(file + ".usearch");
            loadMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var peerEf = peerLoaded.ExpansionSearch;
            var peerAsLoaded = Recall(queries, truth, normalised, q => PeerSearch(peerLoaded, q, found, similarities));
            peerLoaded.Reserve(baseVectors.Length + extra.Length, settings.Threads);
            peerLoaded.ExpansionSearch = settings.DefaultEf;
            started = Stopwatch.GetTimestamp();
            peerLoaded.AddParallel(extraKeys, extra, settings.Threads);
            var peerIncrement = extra.Length / Stopwatch.GetElapsedTime(started).TotalSeconds;
            var peerAfter = Recall(queries, truthAfter, normalised, q => PeerSearch(peerLoaded, q, found, similarities));
            persistence.Add(new PersistenceRow(set, "USearch", new FileInfo(file + ".usearch").Length, saveMs, loadMs, peerEf, peerAsLoaded, peerIncrement, peerAfter));
            Console.WriteLine($"  USearch save {saveMs:F0} ms, load {loadMs:F0} ms, expansion after load {peerEf}, recall as loaded {peerAsLoaded:F4}, +{peerIncrement:N0} vectors/s, recall after {peerAfter:F4}");
        }
        finally
        {
            File.Delete(file + ".hnsw");
            File.Delete(file + ".usearch");
        }
    }

    private static long[] PeerSearch(UsearchPeer peer, float[] query, long[] found, float[] similarities)
    {
        var n = peer.Search(query, K, found, similarities);
        return found[..n];
    }

    /// <summary>Mean recall@k; a returned key also counts when its true similarity ties the k-th exact one (within
    /// 1e-5), as ann-benchmarks does, so equally similar vectors are not held against either index.</summary>
    private static double Recall(float[][] queries, IReadOnlyList<VectorHit>[] truth, float[][] normalised, Func<float[], long[]> search)
    {
        var total = 0.0;
        for (var i = 0; i < queries.Length; i++)
        {
            var q = Normalised(queries[i]);
            var exactKeys = truth[i].Select(h => h.Key).ToHashSet();
            var threshold = truth[i][^1].Similarity - 1e-5f;
            var hits = 0;
            foreach (var key in search(queries[i]).Distinct())
            {
                if (exactKeys.Contains(key) || Dot(q, normalised[key]) >= threshold)
                {
                    hits++;
                }
            }

            total += Math.Min(hits, truth[i].Count) / (double)truth[i].Count;
        }

        return total / queries.Length;
    }

    private static Latency Measure(float[][] queries, int warmup, Action<float[]> search)
    {
        for (var i = 0; i < Math.Min(warmup, queries.Length); i++)
        {
            search(queries[i]);
        }

        var times = new List<double>(queries.Length);
        foreach (var q in queries)
        {
            var t0 = Stopwatch.GetTimestamp();
            search(q);
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }

        return Latency.Of(times);
    }

    private static float[] Normalised(float[] v)
    {
        var norm = MathF.Sqrt(Dot(v, v));
        return v.Select(x => x / norm).ToArray();
    }

    private static float Dot(float[] a, float[] b)
    {
        var s = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }
}
