using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>
/// The local training step both experiments repeat, beside PyTorch in the same run: <see cref="SimpleCnn"/> at batch 64
/// with SGD (lr 0.01, momentum 0.9, weight decay 1e-5), one libtorch thread, timed over the same steps as
/// <c>bench/models/torch_lenet_step.py</c> times Debian's python3-torch (one thread). From it, the CPU time experiment
/// (A) needs and its wall time on the box's cores at best.
/// </summary>
internal static class StepPeer
{
    private const int Batch = 64;

    public static void Run(string root, Settings s)
    {
        const int Warmup = 20;
        const int Steps = 300;
        double ours;
        using (var scope = NewDisposeScope())
        {
            manual_seed(s.Seed);
            using var model = new SimpleCnn();
            using var optimizer = optim.SGD(model.parameters(), 0.01, momentum: 0.9, weight_decay: 1e-5);
            var x = rand(Batch, 1, FashionMnist.Side, FashionMnist.Side);
            var y = randint(0, FashionMnist.Classes, [Batch]);
            void Step()
            {
                using var step = NewDisposeScope();
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.call(x), y).backward();
                optimizer.step();
            }

            for (var i = 0; i < Warmup; i++)
            {
                Step();
            }

            var clock = Stopwatch.StartNew();
            for (var i = 0; i < Steps; i++)
            {
                Step();
            }

            ours = clock.Elapsed.TotalMicroseconds / (Steps * Batch);
        }

        var (peer, error) = RunPython(Path.Combine(root, "bench", "models", "torch_lenet_step.py"), Warmup, Steps, s.Seed);
        // (A): 50 rounds × 10 parties × 10 local epochs × 6,000 rows.
        const double Samples = 50.0 * 10 * 10 * 6000;
        Console.WriteLine($"training step (SimpleCnn, batch {Batch}, SGD, 1 libtorch thread), {Steps} steps after {Warmup}:");
        Console.WriteLine($"| | EdgeProfile (TorchSharp) | PyTorch {(peer is null ? "" : peer["torch"])} | ratio |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine(peer is null
            ? $"| µs per sample | {ours:F1} | not run: {error} | |"
            : $"| µs per sample | {ours:F1} | {peer["us_per_sample"]!.GetValue<double>():F1} | {ours / peer["us_per_sample"]!.GetValue<double>():F2}x |");
        Console.WriteLine($"| (A) at this rate: CPU time, and wall time on {Environment.ProcessorCount} cores at best | {Samples * ours / 6e7:F0} min, {Samples * ours / 6e7 / Environment.ProcessorCount:F0} min |"
            + (peer is null ? " | |" : $" {Samples * peer["us_per_sample"]!.GetValue<double>() / 6e7:F0} min, {Samples * peer["us_per_sample"]!.GetValue<double>() / 6e7 / Environment.ProcessorCount:F0} min | |"));
    }

    private static (JsonNode? Result, string? Error) RunPython(string script, int warmup, int steps, int seed)
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            return (null, "/usr/bin/python3 not found");
        }

        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, "--threads", "1", "--warmup", warmup.ToString(CultureInfo.InvariantCulture), "--steps", steps.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment["OPENBLAS_NUM_THREADS"] = "1";
        psi.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            var last = stderr.Trim().Split('\n').LastOrDefault() ?? "";
            return (null, last.Contains("No module named 'torch'", StringComparison.Ordinal)
                ? "python3-torch is not installed (apt-get install -y python3-torch libopenblas0-pthread)"
                : $"exit {process.ExitCode}: {last}");
        }

        return (JsonNode.Parse(output.Trim().Split('\n')[^1]), null);
    }
}
