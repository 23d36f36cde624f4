using System.Globalization;

namespace EdgeProfile.Bench.HubReads;

/// <summary>The run's settings, from <c>--name value</c> pairs (and the flag <c>--no-build</c>).</summary>
internal sealed record Settings(
    int Customers,
    int Stores,
    int SharedPercent,
    int Batch,
    int Connections,
    int WarmupSeconds,
    int DurationSeconds,
    int HealthSeconds,
    int EpSample,
    int RedisRequests,
    int Seed,
    string Storage,
    string Postgres,
    bool Build)
{
    private const string Usage = "--customers --stores --shared-percent --batch --connections --warmup --duration --health-duration --ep-sample --redis-requests --seed --storage sqlite,postgres|sqlite|postgres --postgres CONNECTION-STRING --no-build";

    /// <summary>The PostgreSQL the tests use too (.ci/run creates the role and database).</summary>
    public const string DefaultPostgres = "Host=127.0.0.1;Port=5432;Database=edgeprofile;Username=edgeprofile;Password=edgeprofile";

    /// <summary>The storages to measure, in order.</summary>
    public IReadOnlyList<string> Storages => Storage.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static Settings Parse(string[] args)
    {
        var s = new Settings(50_000, 4, 20, 2_500, 50, 3, 20, 10, 5_000, 2_000_000, 42, "sqlite,postgres",
            Environment.GetEnvironmentVariable("EDGEPROFILE_TEST_POSTGRES") is { Length: > 0 } pg ? pg : DefaultPostgres, Build: true);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--no-build")
            {
                s = s with { Build = false };
                continue;
            }

            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{args[i]} needs a value ({Usage})");
            }

            var text = args[++i];
            int Int() => int.Parse(text, CultureInfo.InvariantCulture);
            s = args[i - 1] switch
            {
                "--customers" => s with { Customers = Int() },
                "--stores" => s with { Stores = Int() },
                "--shared-percent" => s with { SharedPercent = Int() },
                "--batch" => s with { Batch = Int() },
                "--connections" => s with { Connections = Int() },
                "--warmup" => s with { WarmupSeconds = Int() },
                "--duration" => s with { DurationSeconds = Int() },
                "--health-duration" => s with { HealthSeconds = Int() },
                "--ep-sample" => s with { EpSample = Int() },
                "--redis-requests" => s with { RedisRequests = Int() },
                "--seed" => s with { Seed = Int() },
                "--storage" => s with { Storage = text },
                "--postgres" => s with { Postgres = text },
                _ => throw new ArgumentException($"unknown option {args[i - 1]} ({Usage})"),
            };
        }

        if (s.Storages.Count == 0 || s.Storages.Any(x => x is not ("sqlite" or "postgres")))
        {
            throw new ArgumentException($"--storage takes sqlite, postgres or both comma-separated ({Usage})");
        }

        if (s.Stores < 2 || s.Customers < s.Stores || s.Connections < 1 || s.DurationSeconds < 1 || s.Batch is < 1 or > 10_000)
        {
            throw new ArgumentException($"need --stores >= 2, --customers >= --stores, --connections >= 1, --duration >= 1, --batch 1..10000 ({Usage})");
        }

        return s;
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Customers:N0} customers over {Stores} stores ({SharedPercent}% also at a second store), storage {Storage} (in turn, one hub at a time); {Connections} HTTP/1.1 keep-alive connections, {WarmupSeconds} s warm-up + {DurationSeconds} s measured (GET /api/health control: {HealthSeconds} s); redis-benchmark -c {Connections} -n {RedisRequests:N0} -d 512; seed {Seed}");
}
