using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace EdgeProfile.Bench.Knowledge;

/// <summary>Command-line flags.</summary>
internal sealed record BenchOptions(
    long Triples,
    int Customers,
    int RuleReps,
    int Queries,
    int Warmup,
    int Seed,
    string? DataDirectory,
    string Only,
    string? TempDirectory,
    string Flags)
{
    /// <summary>Parses <c>--name value</c> pairs; unknown flags are an error.</summary>
    public static BenchOptions Parse(string[] args)
    {
        var known = new HashSet<string>(StringComparer.Ordinal) { "--triples", "--customers", "--rule-reps", "--queries", "--warmup", "--seed", "--data", "--only", "--tmp" };
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!known.Contains(args[i]) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Unknown flag or missing value: '{args[i]}'. Flags: {string.Join(' ', known)}.");
            }

            values[args[i]] = args[++i];
        }

        long Long(string name, long fallback) => values.TryGetValue(name, out var v) ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;
        string? Text(string name) => values.TryGetValue(name, out var v) ? v : null;
        var o = new BenchOptions(
            Long("--triples", 10_000_000),
            (int)Long("--customers", 100_000),
            (int)Long("--rule-reps", 3),
            (int)Long("--queries", 2_500),
            (int)Long("--warmup", 200),
            (int)Long("--seed", 7),
            Text("--data"),
            Text("--only") ?? "rules,patterns",
            Text("--tmp"),
            "");
        return o with
        {
            Flags = $"--triples {o.Triples} --customers {o.Customers} --rule-reps {o.RuleReps} --queries {o.Queries} --warmup {o.Warmup} --seed {o.Seed} --only {o.Only}"
                + (o.DataDirectory is null ? "" : " --data " + o.DataDirectory) + (o.TempDirectory is null ? "" : " --tmp " + o.TempDirectory),
        };
    }
}

/// <summary>Finds the shared data files.</summary>
internal static class DataFiles
{
    /// <summary>The Google taxonomy file under <c>DIR/google-taxonomy</c> (or <c>…/shared/data/google-taxonomy</c> found by walking up from the binary).</summary>
    public static string FindTaxonomy(string? dataDirectory)
    {
        const string FileName = "taxonomy-with-ids.en-US.txt";
        if (dataDirectory is not null)
        {
            var direct = Path.Combine(dataDirectory, "google-taxonomy", FileName);
            return File.Exists(direct) ? direct : throw new FileNotFoundException("No taxonomy under --data.", direct);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "google-taxonomy", FileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("No shared/data/google-taxonomy above " + AppContext.BaseDirectory + "; pass --data DIR.");
    }
}

/// <summary>The settings line printed with every table.</summary>
internal static class Settings
{
    /// <summary>Date, cores, load average, runtime, SQLite version and flags.</summary>
    public static string Line(BenchOptions options, string taxonomyFile) =>
        $"settings: {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC, {Environment.ProcessorCount} cores, {Load()}, .NET {Environment.Version}, "
        + $"{RuntimeInformation.OSDescription}, SQLite {SqliteVersion()}, server GC {System.Runtime.GCSettings.IsServerGC}, flags: {options.Flags}, taxonomy: {taxonomyFile}";

    /// <summary>The first three fields of /proc/loadavg.</summary>
    public static string Load()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"load average {parts[0]} {parts[1]} {parts[2]}";
        }
        catch (IOException)
        {
            return "load average n/a";
        }
        catch (UnauthorizedAccessException)
        {
            return "load average n/a";
        }
    }

    private static string SqliteVersion()
    {
        SQLitePCL.Batteries_V2.Init();
        return SQLitePCL.raw.sqlite3_libversion().utf8_to_string();
    }
}

/// <summary>Latency samples in <see cref="Stopwatch"/> ticks.</summary>
internal sealed class Samples
{
    private readonly List<long> _ticks = [];

    /// <summary>Number of samples.</summary>
    public int Count => _ticks.Count;

    /// <summary>Adds one sample.</summary>
    public void Add(long ticks) => _ticks.Add(ticks);

    /// <summary>Adds all samples of another set.</summary>
    public void AddAll(Samples other) => _ticks.AddRange(other._ticks);

    /// <summary>The q-quantile (nearest rank) in milliseconds.</summary>
    public double Quantile(double q)
    {
        if (_ticks.Count == 0)
        {
            return double.NaN;
        }

        var sorted = _ticks.ToArray();
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(q * sorted.Length) - 1;
        return Ms(sorted[Math.Clamp(rank, 0, sorted.Length - 1)]);
    }

    /// <summary>The largest sample in milliseconds.</summary>
    public double Max => _ticks.Count == 0 ? double.NaN : Ms(_ticks.Max());

    /// <summary>Stopwatch ticks to milliseconds.</summary>
    public static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

/// <summary>Number formatting for the tables.</summary>
internal static class Fmt
{
    /// <summary>Milliseconds with 3 significant decimals.</summary>
    public static string Ms(double ms) => ms.ToString(ms < 10 ? "0.000" : "0.0", CultureInfo.InvariantCulture);

    /// <summary>A ratio such as 12.3×.</summary>
    public static string Ratio(double r) => r.ToString(r < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + "×";

    /// <summary>A count with thousands separators.</summary>
    public static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
