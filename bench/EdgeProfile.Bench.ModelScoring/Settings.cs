using System.Globalization;

namespace EdgeProfile.Bench.ModelScoring;

/// <summary>Command-line settings; every figure the table prints depends only on these (and the machine).</summary>
public sealed record Settings
{
    /// <summary>Intra-op threads for batch scoring and training: torch, ONNX Runtime and the PyTorch peer alike.</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Timed single-row calls per variant (after <see cref="Warmup"/> untimed ones).</summary>
    public int Iterations { get; init; } = 20_000;

    /// <summary>Untimed single-row calls per variant before timing.</summary>
    public int Warmup { get; init; } = 1_000;

    /// <summary>Seed for the weights, the data and the customer order.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Timed batches of <see cref="BatchSize"/> rows per variant.</summary>
    public int Batches { get; init; } = 300;

    /// <summary>Rows per batch for throughput and training.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Timed training steps per side (ours in two halves around the peer, each after 5 untimed ones).</summary>
    public int TrainSteps { get; init; } = 60;

    /// <summary>Customers in the SQLite online-feature file (and in memory for the no-read variants).</summary>
    public int Customers { get; init; } = 20_000;

    /// <summary>Interleaved rounds: each variant runs 1/Rounds of its calls per round, so a burst of load from
    /// other processes hits every variant alike.</summary>
    public int Rounds { get; init; } = 10;

    /// <summary>
    /// 0 (default): threads wait passively everywhere: <c>OMP_WAIT_POLICY=PASSIVE</c> for TorchSharp and the PyTorch peer
    /// (benchmarks.md: spin-waiting made PyTorch steps 30x slower on a busy box) and ONNX Runtime's intra-op spinning off.
    /// 1: spinning workers (<c>OMP_WAIT_POLICY=ACTIVE</c> on both sides — EdgeProfile.Training otherwise makes it
    /// PASSIVE — and ONNX Runtime's default spinning). An OMP_WAIT_POLICY already in the environment wins and is
    /// passed to the peer too.
    /// </summary>
    public int Spin { get; init; }

    /// <summary>1: export int8 weights as signed int8 with zero point 0 (<c>Int8WeightType.ZeroCentered</c>, ONNX Runtime's
    /// u8·s8 kernels, exact on VNNI CPUs); 0 (default): the exporter's default, uint8 with zero point 128, which
    /// OnnxScorer re-encodes at load for the u8·s8 kernels on VNNI CPUs (see Int8Kernels) and keeps (u8·u8) elsewhere.</summary>
    public int Int8Signed { get; init; }

    /// <summary>Parses <c>--name value</c> pairs.</summary>
    public static Settings Parse(string[] args)
    {
        var s = new Settings();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"option {args[i]} needs a value");
            }

            var v = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            s = args[i] switch
            {
                "--threads" => s with { Threads = v },
                "--iterations" => s with { Iterations = v },
                "--warmup" => s with { Warmup = v },
                "--seed" => s with { Seed = v },
                "--batches" => s with { Batches = v },
                "--train-steps" => s with { TrainSteps = v },
                "--customers" => s with { Customers = v },
                "--rounds" => s with { Rounds = v },
                "--spin" => s with { Spin = v },
                "--int8-signed" => s with { Int8Signed = v },
                _ => throw new ArgumentException(
                    $"unknown option {args[i]} (--threads 2 --iterations 20000 --warmup 1000 --seed 42 --batches 300 --train-steps 60 --customers 20000 --rounds 10 --spin 0 --int8-signed 0)"),
            };
        }

        if (s.Threads < 1 || s.Iterations < 100 || s.Warmup < 0 || s.Batches < 1 || s.TrainSteps < 2 || s.Customers < s.BatchSize || s.Rounds < 1 || s.Spin is not (0 or 1) || s.Int8Signed is not (0 or 1))
        {
            throw new ArgumentException($"settings out of range: {s}");
        }

        return s;
    }
}
