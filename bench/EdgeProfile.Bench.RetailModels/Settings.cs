using System.Globalization;

namespace EdgeProfile.Bench.RetailModels;

/// <summary>Command-line settings of bench-retail-models.</summary>
internal sealed record Settings
{
    public const string Usage = "--data FILE.csv.gz --out DIR --seeds 1,2,3 --threads 2 --step-days 7 --from 2011-01-01 --split 2011-09-01 --customers N --epochs 30 --in-flight 256";

    /// <summary>online_retail_clean.csv.gz; default found beside the repository (../shared/data/online-retail).</summary>
    public string? Data { get; init; }

    /// <summary>Where the edge data dir, training sets, models and xgboost output go; default a temp dir, deleted after.</summary>
    public string? Out { get; init; }

    public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3];

    /// <summary>Threads for xgboost (the product pipeline trains with its own default of 2 torch threads).</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Days between cutoffs; the grid is anchored at <see cref="Split"/>.</summary>
    public int StepDays { get; init; } = 7;

    /// <summary>Earliest cutoff (a month of history before it).</summary>
    public DateTimeOffset From { get; init; } = new(2011, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Test rows: cutoff at or after this.</summary>
    public DateTimeOffset Split { get; init; } = new(2011, 9, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Sub-sample this many customers (seeded); 0 = all.</summary>
    public int Customers { get; init; }

    public int Epochs { get; init; } = 30;

    /// <summary>Unacknowledged MQTT publishes during the replay.</summary>
    public int InFlight { get; init; } = 256;

    public static Settings Parse(string[] args)
    {
        var s = new Settings();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{args[i]} needs a value ({Usage})");
            }

            var v = args[i + 1];
            s = args[i] switch
            {
                "--data" => s with { Data = v },
                "--out" => s with { Out = v },
                "--seeds" => s with { Seeds = [.. v.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture))] },
                "--threads" => s with { Threads = int.Parse(v, CultureInfo.InvariantCulture) },
                "--step-days" => s with { StepDays = int.Parse(v, CultureInfo.InvariantCulture) },
                "--from" => s with { From = Date(v) },
                "--split" => s with { Split = Date(v) },
                "--customers" => s with { Customers = int.Parse(v, CultureInfo.InvariantCulture) },
                "--epochs" => s with { Epochs = int.Parse(v, CultureInfo.InvariantCulture) },
                "--in-flight" => s with { InFlight = int.Parse(v, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown option {args[i]} ({Usage})"),
            };
        }

        return s.StepDays < 1 || s.Threads < 1 || s.Epochs < 1 || s.InFlight < 1 || s.Seeds.Count == 0
            ? throw new ArgumentException($"--step-days, --threads, --epochs, --in-flight must be ≥ 1 and --seeds non-empty ({Usage})")
            : s;
    }

    private static DateTimeOffset Date(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
