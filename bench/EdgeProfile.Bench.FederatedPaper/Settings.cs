using System.Globalization;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>Command-line settings of bench-fl-paper; defaults are the papers' settings.</summary>
internal sealed record Settings
{
    public const string Usage = "--experiment a|b|all --rounds N --parties N --quick --seed 0 --threads 1 --workers <cores> --data DIR "
        + "--local-epochs 10 --noise 0.1 --lr-b 0.05 --momentum-b 0 --mu 0.01 --eval-every 1 --central-epochs 5 --run-all-rounds";

    /// <summary>a (NIID-Bench noise skew), b (McMahan et al.'s pathological split), or all.</summary>
    public string Experiment { get; init; } = "all";

    /// <summary>Communication rounds; default 50 for (A), 300 (the maximum) for (B).</summary>
    public int? Rounds { get; init; }

    /// <summary>Parties; default 10 for (A), 100 for (B).</summary>
    public int? Parties { get; init; }

    /// <summary>A small configuration that only checks the code path (~1–2 min).</summary>
    public bool Quick { get; init; }

    /// <summary>NIID-Bench's init_seed (its runs use 0, 1, 2).</summary>
    public int Seed { get; init; }

    /// <summary>libtorch threads per party.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Parties trained concurrently in a round (default: one per core).</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Directory of the IDX gz files; default ../shared/data/fashion-mnist found above the working directory.</summary>
    public string? Data { get; init; }

    /// <summary>(A) local epochs per round.</summary>
    public int LocalEpochs { get; init; } = 10;

    /// <summary>(A) the largest party's noise level (NIID-Bench --noise); party i gets noise·i/(N−1).</summary>
    public double Noise { get; init; } = 0.1;

    /// <summary>(B) client and centralised SGD learning rate.</summary>
    public double LearningRateB { get; init; } = 0.05;

    /// <summary>(B) SGD momentum (McMahan et al. use plain SGD).</summary>
    public double MomentumB { get; init; }

    /// <summary>(B) FedProx proximal weight μ.</summary>
    public double Mu { get; init; } = 0.01;

    /// <summary>(B) evaluate the global model every this many rounds.</summary>
    public int EvalEvery { get; init; } = 1;

    /// <summary>(B) epochs of centralised training (the ceiling).</summary>
    public int CentralEpochs { get; init; } = 5;

    /// <summary>(B) keep training after every target is reached (default: stop a run there).</summary>
    public bool RunAllRounds { get; init; }

    public bool RunA => Experiment is "a" or "all";

    public bool RunB => Experiment is "b" or "all";

    public static Settings Parse(string[] args)
    {
        var s = new Settings();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    s = s with { Quick = true };
                    continue;
                case "--run-all-rounds":
                    s = s with { RunAllRounds = true };
                    continue;
                case "--help" or "-h":
                    throw new ArgumentException($"usage: bench-fl-paper {Usage}");
            }

            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{args[i]} needs a value ({Usage})");
            }

            var v = args[++i];
            s = args[i - 1] switch
            {
                "--experiment" => s with { Experiment = v is "a" or "b" or "all" ? v : throw new ArgumentException($"--experiment {v}: a, b or all") },
                "--rounds" => s with { Rounds = Positive(v, "--rounds") },
                "--parties" => s with { Parties = Positive(v, "--parties") },
                "--seed" => s with { Seed = int.Parse(v, CultureInfo.InvariantCulture) },
                "--threads" => s with { Threads = Positive(v, "--threads") },
                "--workers" => s with { Workers = Positive(v, "--workers") },
                "--data" => s with { Data = v },
                "--local-epochs" => s with { LocalEpochs = Positive(v, "--local-epochs") },
                "--noise" => s with { Noise = double.Parse(v, CultureInfo.InvariantCulture) },
                "--lr-b" => s with { LearningRateB = double.Parse(v, CultureInfo.InvariantCulture) },
                "--momentum-b" => s with { MomentumB = double.Parse(v, CultureInfo.InvariantCulture) },
                "--mu" => s with { Mu = double.Parse(v, CultureInfo.InvariantCulture) },
                "--eval-every" => s with { EvalEvery = Positive(v, "--eval-every") },
                "--central-epochs" => s with { CentralEpochs = Positive(v, "--central-epochs") },
                _ => throw new ArgumentException($"unknown option {args[i - 1]} ({Usage})"),
            };
        }

        return s;
    }

    private static int Positive(string v, string name)
    {
        var n = int.Parse(v, CultureInfo.InvariantCulture);
        return n > 0 ? n : throw new ArgumentException($"{name} must be positive, got {n}");
    }
}
