using System.Runtime.InteropServices;

namespace EdgeProfile.Bench.ModelScoring;

/// <summary>The one Markdown table, the goal lines, the equivalence check and the settings.</summary>
public static class Report
{
    /// <summary>Largest accepted |fp32 ORT − TorchSharp| on any output.</summary>
    public const double EquivalenceTolerance = 1e-4;

    /// <summary>Everything measured.</summary>
    /// <param name="Rows">int8, fp32, eager; the same three with the SQLite read; the read alone.</param>
    /// <param name="Batches">int8, fp32, eager.</param>
    public sealed record Inputs(
        Settings Settings, Latency[] Rows, Latency[] Batches, Latency OurSteps, double OurFirstLoss, PeerResult? Peer, string PeerError,
        double Fp32VsEager, double Int8VsFp32Batch, string Int8VsFp32PerTask, double Int8VsFp32Row, long Int8Bytes, long Fp32Bytes, long Parameters, ComputeCeiling Ceiling,
        string? WaitPolicy, string LoadBefore, string LoadAfter, TimeSpan Elapsed);

    /// <summary>Prints the report to standard output.</summary>
    public static void Print(Inputs x)
    {
        var s = x.Settings;
        var (i8, f32, eager) = (x.Rows[0], x.Rows[1], x.Rows[2]);
        var (i8Read, f32Read, eagerRead, readAlone) = (x.Rows[3], x.Rows[4], x.Rows[5], x.Rows[6]);
        var (bi8, bf32, beager) = (x.Batches[0], x.Batches[1], x.Batches[2]);
        double Rps(Latency l) => l.Count * s.BatchSize / l.TotalSeconds;
        var peer = x.Peer;

        Console.WriteLine($"| MMoE {BenchModel.Features} features, 8 experts [256], towers [64], 4 tasks / {BenchModel.OutputWidth} outputs, {x.Parameters:N0} parameters; seed {s.Seed} "
            + "| int8 ONNX Runtime | fp32 ONNX Runtime | TorchSharp eager | PyTorch (Debian python3-torch) | speed ratio |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|");
        foreach (var (label, p, withRead) in new[]
        {
            ("single customer p50, features in memory", 50.0, false), ("single customer p99, features in memory", 99.0, false),
            ("single customer max, features in memory", 100.0, false), ("single customer p50, incl. SQLite online-feature read", 50.0, true),
            ("single customer p99, incl. SQLite online-feature read", 99.0, true), ("single customer max, incl. SQLite online-feature read", 100.0, true),
        })
        {
            var (a, b, c) = withRead ? (i8Read, f32Read, eagerRead) : (i8, f32, eager);
            var (va, vb, vc) = (a.Percentile(p), b.Percentile(p), c.Percentile(p));
            Console.WriteLine($"| {label} | {Ms(va)} | {Ms(vb)} | {Ms(vc)} | | {Speedups(vb / va, vc / va, vc / vb)} |");
        }

        Console.WriteLine($"| SQLite online-feature read alone (prepared SELECT of one 1,280-byte BLOB by TEXT key) p50 / p99 / max | | | | | "
            + $"{Ms(readAlone.Percentile(50))} / {Ms(readAlone.Percentile(99))} / {Ms(readAlone.Max)} |");
        Console.WriteLine($"| batch {s.BatchSize} throughput, rows/s ({s.Threads} threads) | {Rps(bi8):N0} | {Rps(bf32):N0} | {Rps(beager):N0} | | "
            + $"{Speedups(Rps(bi8) / Rps(bf32), Rps(bi8) / Rps(beager), Rps(bf32) / Rps(beager))} |");
        Console.WriteLine($"| batch {s.BatchSize} time per batch p50 / p99 | {Ms(bi8.Percentile(50))} / {Ms(bi8.Percentile(99))} | {Ms(bf32.Percentile(50))} / {Ms(bf32.Percentile(99))} "
            + $"| {Ms(beager.Percentile(50))} / {Ms(beager.Percentile(99))} | | |");
        var peerCell = (Func<PeerResult, double> f) => peer is null ? "n/a" : Ms(f(peer));
        var ratio = (double ours, Func<PeerResult, double> theirs) => peer is null ? "n/a" : $"TorchSharp {theirs(peer) / ours:F2}x PyTorch";
        var ourSteps = x.OurSteps;
        Console.WriteLine($"| training step (forward + backward + Adam), batch {s.BatchSize}, {s.Threads} threads: mean | | | {Ms(ourSteps.Mean)} | {peerCell(p => p.MeanMs)} | {ratio(ourSteps.Mean, p => p.MeanMs)} |");
        Console.WriteLine($"| training step p50 | | | {Ms(ourSteps.Percentile(50))} | {peerCell(p => p.P50Ms)} | {ratio(ourSteps.Percentile(50), p => p.P50Ms)} |");
        Console.WriteLine($"| training step p99 | | | {Ms(ourSteps.Percentile(99))} | {peerCell(p => p.P99Ms)} | |");
        Console.WriteLine($"| training steps/s (from the mean) | | | {1000 / ourSteps.Mean:F1} | {(peer is null ? "n/a" : (1000 / peer.MeanMs).ToString("F1"))} | |");
        Console.WriteLine($"| first step's loss (same initial weights, same batch) | | | {x.OurFirstLoss:F6} | {(peer is null ? "n/a" : peer.FirstLoss.ToString("F6"))} "
            + $"| {(peer is null ? "" : $"difference {Math.Abs(x.OurFirstLoss - peer.FirstLoss):E1}")} |");
        Console.WriteLine($"| model file size | {x.Int8Bytes / 1024.0:N0} KiB | {x.Fp32Bytes / 1024.0:N0} KiB | | | int8 {(double)x.Fp32Bytes / x.Int8Bytes:F2}x smaller |");
        Console.WriteLine();

        var goal1 = i8Read.Percentile(99) <= 0.5;
        Console.WriteLine($"Goal: single-customer p99 <= 0.5 ms including the online-feature read (int8 ORT, the serving path): {Met(goal1)} "
            + $"(int8 {Ms(i8Read.Percentile(99))}; fp32 {Ms(f32Read.Percentile(99))}; TorchSharp eager {Ms(eagerRead.Percentile(99))})");
        Console.WriteLine($"Goal: int8 >= 1.3x fp32 at batch {s.BatchSize}: {Met(Rps(bi8) / Rps(bf32) >= 1.3)} ({Rps(bi8) / Rps(bf32):F2}x)");
        Console.WriteLine($"Goal: int8 and fp32 ORT both >= 5x TorchSharp eager at batch {s.BatchSize}: {Met(Rps(bi8) / Rps(beager) >= 5 && Rps(bf32) / Rps(beager) >= 5)} "
            + $"(int8 {Rps(bi8) / Rps(beager):F2}x, fp32 {Rps(bf32) / Rps(beager):F2}x)");
        var ceiling = x.Ceiling;
        var needed = ceiling.Gflops(5 * Rps(beager));
        Console.WriteLine($"  Compute needed for it: the model does {ceiling.MacsPerRow:N0} multiply-adds per row, so TorchSharp eager's {Rps(beager):N0} rows/s are "
            + $"{ceiling.Gflops(Rps(beager)):F1} GFLOP/s and fp32 ORT's {Rps(bf32):N0} rows/s {ceiling.Gflops(Rps(bf32)):F1} GFLOP/s; 5x eager in fp32 needs {needed:F1} GFLOP/s, "
            + $"{needed / ceiling.BestGemmGflops:F2}x the best this machine did in the same run ({ceiling.BestGemmGflops:F1} GFLOP/s, median {ceiling.MedianGemmGflops:F1}: "
            + $"libtorch fp32 {ceiling.Size}x{ceiling.Size} GEMM on {s.Threads} threads){(needed > ceiling.BestGemmGflops ? " — above the machine's fp32 ceiling, so the fp32 half of this goal cannot be met here" : "")}; "
            + $"int8 at 5x needs {ceiling.Gflops(5 * Rps(beager)) / 2:F1} G multiply-adds/s of u8·s8 (int8 ORT now: {ceiling.Gflops(Rps(bi8)) / 2:F1}).");
        Console.WriteLine($"Goal, read per single customer (p50, features in memory): int8 and fp32 ORT both >= 5x TorchSharp eager: "
            + $"{Met(eager.Percentile(50) / i8.Percentile(50) >= 5 && eager.Percentile(50) / f32.Percentile(50) >= 5)} "
            + $"(int8 {eager.Percentile(50) / i8.Percentile(50):F2}x, fp32 {eager.Percentile(50) / f32.Percentile(50):F2}x)");
        Console.WriteLine(peer is null
            ? $"Goal: training step >= 0.9x PyTorch: not measured (peer failed: {x.PeerError})"
            : $"Goal: training step >= 0.9x PyTorch (steps/s, p50 step time): {Met(peer.P50Ms / ourSteps.Percentile(50) >= 0.9)} "
                + $"({peer.P50Ms / ourSteps.Percentile(50):F2}x at p50, {peer.MeanMs / ourSteps.Mean:F2}x at the mean)");
        Console.WriteLine();
        Console.WriteLine($"Equivalence: max |fp32 ORT - TorchSharp eager| = {x.Fp32VsEager:E2} over a batch of {s.BatchSize} and 200 single rows x {BenchModel.OutputWidth} outputs "
            + $"({(x.Fp32VsEager <= EquivalenceTolerance ? "within" : "NOT within")} {EquivalenceTolerance:E0}); "
            + $"int8 vs fp32 (dynamic quantization, for information): {x.Int8VsFp32Row:E2} single rows, {x.Int8VsFp32Batch:E2} batch of {s.BatchSize} ({x.Int8VsFp32PerTask}).");
        Console.WriteLine($"Settings: int8 = dynamic int8 export, weights {(s.Int8Signed == 1 ? "ZeroCentered (int8, zero point 0: u8·s8 kernels)" : (EdgeProfile.Models.Scoring.Int8Kernels.SignedIsExact ? "Offset128 (the exporter's default: uint8, zero point 128), re-encoded by OnnxScorer at load as int8 with zero point 0 for the u8·s8 kernels, exact on this CPU (VNNI); same scores" : "Offset128 (uint8, zero point 128: u8·u8 kernels; the exporter's default; this CPU has no VNNI, so OnnxScorer keeps them)"))}, per-tensor scales; single customer {s.Iterations:N0} timed calls per variant after {s.Warmup:N0} warm-up, {s.Rounds} interleaved rounds, 1 intra-op thread for each engine "
            + $"(OnnxScorer's default; torch.set_num_threads(1)), OnnxRowScorer (pinned, 0 B/call) for ORT, one [1, {BenchModel.Features}] tensor under no_grad for TorchSharp; random customers out of "
            + $"{s.Customers:N0}; batch {s.BatchSize}: {s.Batches} timed batches per variant (OnnxScorer.ScoreBatch with IntraOpNumThreads = {s.Threads}; TorchSharp {s.Threads} threads); "
            + $"training: {s.TrainSteps} timed steps per side (PyTorch: after {TrainingStepBench.WarmupSteps} warm-up; TorchSharp: two halves before and after the peer, "
            + $"each after {TrainingStepBench.WarmupSteps} warm-up with a fresh Adam), 8 distinct batches, Adam lr {TrainingStepBench.LearningRate}, BCE-with-logits + MSE, torch threads {s.Threads}.");
        Console.WriteLine($"Peer: {(peer is null ? $"failed ({x.PeerError})" : $"/usr/bin/python3, torch {peer.Version}, {peer.Threads} threads, BLAS {peer.Blas}, {peer.Parameters:N0} parameters")}, "
            + $"OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = {s.Threads}; TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version} (libtorch-cpu 2.10.0); "
            + $"OMP_WAIT_POLICY={x.WaitPolicy ?? "unset"} on both sides, GOMP_SPINCOUNT={Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") ?? "unset"} for TorchSharp (the peer ran with and without it; the faster compared); ONNX Runtime {typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version} "
            + $"(batch sessions: session.intra_op.allow_spinning = {(s.Spin == 0 ? 0 : 1)}); "
            + $".NET {Environment.Version}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores; load average before {x.LoadBefore}, after {x.LoadAfter}; run took {x.Elapsed.TotalSeconds:F0} s.");
    }

    private static string Ms(double ms) => ms >= 10 ? $"{ms:F1} ms" : ms >= 1 ? $"{ms:F2} ms" : $"{ms:F3} ms";

    private static string Speedups(double int8OverFp32, double int8OverEager, double fp32OverEager) =>
        $"int8 {int8OverFp32:F2}x fp32; int8 {int8OverEager:F2}x eager; fp32 {fp32OverEager:F2}x eager";

    private static string Met(bool met) => met ? "met" : "NOT met";
}
