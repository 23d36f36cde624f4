using System.Globalization;

namespace EdgeProfile.Bench.FederatedRetail;

/// <summary>Command-line settings of bench-fl-retail.</summary>
internal sealed record Settings
{
    public const string Usage = "--data DIR (the shared/data folder) --datasets completejourney,online-retail --specs lr,mmoe --seeds 1,2 " +
        "--rounds 20 --local-epochs 1 --max-epochs 100 --batch 128 --lr 0.003 --server-lr 1 --prox-mu 0 --edges 6 --step-days 14 --threads 2";

    /// <summary>The folder holding completejourney/ and online-retail/; default found above the working directory.</summary>
    public string? Data { get; init; }

    public IReadOnlyList<string> Datasets { get; init; } = ["completejourney", "online-retail"];

    public IReadOnlyList<string> Specs { get; init; } = ["lr", "mmoe"];

    public IReadOnlyList<int> Seeds { get; init; } = [1, 2];

    /// <summary>FedAvg rounds; central and local "same budget" models train Rounds × LocalEpochs epochs.</summary>
    public int Rounds { get; init; } = 20;

    public int LocalEpochs { get; init; } = 1;

    /// <summary>Epoch cap of the early-stopped (MmoeTrainer) baselines; patience 5.</summary>
    public int MaxEpochs { get; init; } = 100;

    public int BatchSize { get; init; } = 128;

    /// <summary>Adam learning rate, for every method.</summary>
    public double LearningRate { get; init; } = 3e-3;

    public double ServerLearningRate { get; init; } = 1;

    /// <summary>FedProx μ of an extra federated run (0 = no FedProx run).</summary>
    public double ProxMu { get; init; }

    /// <summary>Edges the completejourney stores are grouped into (≥ 5).</summary>
    public int Edges { get; init; } = 6;

    /// <summary>Days between train cutoffs.</summary>
    public int StepDays { get; init; } = 14;

    public int Threads { get; init; } = 2;

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
                "--datasets" => s with { Datasets = v.Split(',') },
                "--specs" => s with { Specs = v.Split(',') },
                "--seeds" => s with { Seeds = [.. v.Split(',').Select(Int)] },
                "--rounds" => s with { Rounds = Int(v) },
                "--local-epochs" => s with { LocalEpochs = Int(v) },
                "--max-epochs" => s with { MaxEpochs = Int(v) },
                "--batch" => s with { BatchSize = Int(v) },
                "--lr" => s with { LearningRate = Double(v) },
                "--server-lr" => s with { ServerLearningRate = Double(v) },
                "--prox-mu" => s with { ProxMu = Double(v) },
                "--edges" => s with { Edges = Int(v) },
                "--step-days" => s with { StepDays = Int(v) },
                "--threads" => s with { Threads = Int(v) },
                _ => throw new ArgumentException($"unknown option {args[i]} ({Usage})"),
            };
        }
        if (s.Rounds < 1 || s.LocalEpochs < 1 || s.MaxEpochs < 1 || s.BatchSize < 1 || s.Edges < 5 || s.StepDays < 1 || s.Threads < 1 ||
            s.Seeds.Count == 0 || !(s.LearningRate > 0) || !(s.ServerLearningRate > 0) || s.ProxMu < 0 ||
            s.Datasets.Any(d => d is not ("completejourney" or "online-retail")) || s.Specs.Any(x => x is not ("lr" or "mmoe")))
        {
            throw new ArgumentException($"settings out of range (edges ≥ 5; datasets completejourney|online-retail; specs lr|mmoe): {Usage}");
        }
        return s;
    }

    private static int Int(string v) => int.Parse(v, CultureInfo.InvariantCulture);

    private static double Double(string v) => double.Parse(v, CultureInfo.InvariantCulture);
}
