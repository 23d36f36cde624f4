using System.Diagnostics;
using static TorchSharp.torch;

namespace EdgeProfile.Bench.ModelScoring;

/// <summary>
/// What the batch goal asks of the machine: the model's multiply-adds per row (every weight matrix is used once per
/// row: dense experts, gates and towers), and the fp32 matrix-product rate this machine reaches at its best — a large
/// square GEMM in libtorch on the benchmark's threads, far easier to run near peak than the model's thin layers.
/// </summary>
public sealed record ComputeCeiling(long MacsPerRow, int Size, double BestGemmGflops, double MedianGemmGflops)
{
    /// <summary>Multiply-adds per row: the sum of the weight matrices' sizes (biases are additions only).</summary>
    public static long CountMacs(IEnumerable<Tensor> parameters) =>
        parameters.Where(p => p.dim() == 2).Sum(p => p.numel());

    /// <summary>Times <paramref name="reps"/> products of two <paramref name="size"/>² fp32 matrices on the current torch threads.</summary>
    public static ComputeCeiling Measure(long macsPerRow, int size = 1536, int reps = 30)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(1);
        var a = randn([size, size], generator: generator);
        var b = randn([size, size], generator: generator);
        for (var i = 0; i < 3; i++)
        {
            a.mm(b).Dispose();
        }

        var gflops = new double[reps];
        for (var i = 0; i < reps; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using var product = a.mm(b);
            gflops[i] = 2.0 * size * size * size / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9;
        }

        Array.Sort(gflops);
        return new ComputeCeiling(macsPerRow, size, gflops[^1], gflops[reps / 2]);
    }

    /// <summary>fp32 GFLOP/s of a throughput of <paramref name="rowsPerSecond"/> rows of this model.</summary>
    public double Gflops(double rowsPerSecond) => 2.0 * MacsPerRow * rowsPerSecond / 1e9;
}
