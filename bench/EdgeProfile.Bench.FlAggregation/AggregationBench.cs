using System.Diagnostics;
using System.Text;
using EdgeProfile.Federated;
using EdgeProfile.Federated.Aggregation;
using EdgeProfile.Federated.Compression;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.SecureAggregation;

namespace EdgeProfile.Bench.FlAggregation;

/// <summary>
/// Times the hub's combiners on <c>clients</c> updates of <c>parameters</c> floats against a plain copy of the same
/// bytes into one destination (the memory-bandwidth limit: every update must be read once), and reports what an update
/// costs on the wire with and without int8 compression. Every figure is the median of the repetitions, after one
/// untimed warm-up.
/// </summary>
public static class AggregationBench
{
    public static string Run(BenchSettings settings)
    {
        var report = new StringBuilder();
        var updates = MakeUpdates(settings.Clients, settings.Parameters, settings.Seed);
        var bytes = (long)settings.Clients * settings.Parameters * sizeof(float);
        report.AppendLine($"{settings.Clients} updates × {settings.Parameters:N0} float32 parameters ({bytes / 1e6:F0} MB); {Environment.ProcessorCount} cores; median of {settings.Repetitions} runs");
        report.AppendLine();

        var destination = new float[settings.Parameters];
        var copySerial = Measure(settings.Repetitions, () =>
        {
            foreach (var u in updates)
            {
                u.Delta.AsSpan().CopyTo(destination);
            }
        });
        var copyParallel = Measure(settings.Repetitions, () => Parallel.For(0, Environment.ProcessorCount, part =>
        {
            var (start, count) = Slice(settings.Parameters, Environment.ProcessorCount, part);
            foreach (var u in updates)
            {
                u.Delta.AsSpan(start, count).CopyTo(destination.AsSpan(start, count));
            }
        }));
        var memcpy = Math.Min(copySerial.Wall, copyParallel.Wall);

        var fedAvgTimes = Measure(settings.Repetitions, () => new FedAvgCombiner().Combine(updates));
        var fedAvg = fedAvgTimes.Wall;
        var median = Measure(settings.Repetitions, () => new CoordinateMedianCombiner().Combine(updates));
        var trimmed = Measure(settings.Repetitions, () => new TrimmedMeanCombiner(0.1).Combine(updates));
        var f = settings.Clients / 10;
        var krumUpdates = settings.KrumParameters == settings.Parameters
            ? updates
            : updates.Select(u => u with { Delta = u.Delta[..settings.KrumParameters] }).ToArray();
        var krum = Measure(settings.Repetitions, () => new KrumCombiner(f).Combine(krumUpdates));
        var scale = (double)settings.Parameters / settings.KrumParameters;
        var krumScaled = (krum.Wall * scale, krum.Cpu * scale);

        report.AppendLine("| step | seconds | × memcpy | GB/s read | CPU seconds (all threads) |");
        report.AppendLine("|---|---:|---:|---:|---:|");
        void Row(string name, (double Wall, double Cpu) t, long read) =>
            report.AppendLine($"| {name} | {t.Wall:F4} | {t.Wall / memcpy:F2} | {read / t.Wall / 1e9:F1} | {t.Cpu:F3} |");
        Row($"memcpy, 1 thread ({settings.Clients} × CopyTo into one destination)", copySerial, bytes);
        Row($"memcpy, {Environment.ProcessorCount} threads (same bytes, destination split)", copyParallel, bytes);
        Row("FedAvg (sample-weighted mean)", fedAvgTimes, bytes);
        Row("coordinate median", median, bytes);
        Row("trimmed mean (β = 0.1)", trimmed, bytes);
        var krumName = settings.KrumParameters == settings.Parameters
            ? $"Krum (f = {f})"
            : $"Krum (f = {f}) on {settings.KrumParameters:N0} params, scaled ×{(double)settings.Parameters / settings.KrumParameters:F1} (O(n²·d))";
        Row(krumName, krumScaled, bytes);
        report.AppendLine();
        report.AppendLine($"goal FedAvg ≤ 2× memcpy: {(fedAvg <= 2 * memcpy ? "met" : "NOT met")} ({fedAvg / memcpy:F2}×)");

        if (settings.SecAgg)
        {
            // Both rings the hub uses: 64-bit for sample-weighted updates, 32-bit for the DP rounds' clipped updates
            // (these inputs are within ±1, clipped at norm 1); none dropped, then the --drop fraction.
            var drops = settings.DropFraction > 0 ? new[] { 0.0, settings.DropFraction } : [0.0];
            foreach (var ringBits in settings.Rings)
            {
                foreach (var drop in drops)
                {
                    var (secAgg, adding, unmasking) = SecAggUnmaskBench.RunParts(settings.Clients, settings.Parameters, drop, settings.Seed, ringBits);
                    var what = ringBits == 64 ? "64-bit ring, weighted updates" : "32-bit ring, clipped (DP) updates";
                    report.AppendLine($"SecAgg unmask + sum ({what}; {settings.Clients} clients, {drop:P0} dropped; SecAggUnmaskBench): {secAgg:F3} s = {secAgg / fedAvg:F2}× FedAvg, {secAgg / memcpy:F2}× memcpy "
                        + $"(adding the masked inputs {adding:F3} s, unmasking {unmasking:F3} s); goal ≤ 3× FedAvg: {(secAgg <= 3 * fedAvg ? "met" : "NOT met")}");
                }
            }
        }
        else
        {
            report.AppendLine("SecAgg unmask: skipped (--no-secagg)");
        }

        report.AppendLine();
        report.AppendLine(Wire(settings.Parameters, settings.Seed, settings.Repetitions));
        return report.ToString();
    }

    /// <summary>Bytes on the wire per client per round for one delta, float32 vs int8 (and the cost to encode it).</summary>
    private static string Wire(int parameters, int seed, int repetitions)
    {
        // A trained delta is roughly bell-shaped around 0; N(0, 0.01²) stands in for it.
        var random = new Random(seed);
        var delta = new float[parameters];
        for (var i = 0; i < delta.Length; i++)
        {
            delta[i] = (float)(0.01 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        var sb = new StringBuilder();
        sb.AppendLine($"| delta on the wire ({parameters:N0} params, N(0, 0.01²)) | bytes | ratio | relative L2 error | encode s | decode s |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        var raw = (long)parameters * sizeof(float);
        sb.AppendLine($"| float32 | {raw:N0} | 1.000 | 0 | | |");
        foreach (var (chunk, stochastic) in new[] { (Int8Delta.DefaultChunkSize, false), (Int8Delta.DefaultChunkSize, true), (int.MaxValue, false) })
        {
            int? rounding = stochastic ? seed : null;
            var encoded = Int8Delta.Encode(delta, chunk, rounding);
            var decoded = Int8Delta.Decode(encoded);
            var encode = Median(repetitions, () => Int8Delta.Encode(delta, chunk, rounding));
            var decode = Median(repetitions, () => Int8Delta.Decode(encoded));
            var name = $"int8, {(chunk == int.MaxValue ? "one scale per tensor" : $"scale per {chunk} values")}{(stochastic ? ", stochastic rounding" : "")}";
            sb.AppendLine($"| {name} | {encoded.Length:N0} | {encoded.Length / (double)raw:F4} | {RelativeError(delta, decoded):E2} | {encode:F4} | {decode:F4} |");
        }
        // Under secure aggregation a participant sends [w·Δ, w] masked, one ring element per value (no int8).
        foreach (var (bits, scale, what) in new[] { (64, SecAggWire.UpdateScale, "weighted updates"), (32, SecAggWire.ForClippedUpdates(100, 1.0).Scale, "DP rounds, 100 participants, clip 1") })
        {
            var fixedPoint = new FixedPoint(scale, bits);
            var bytes = fixedPoint.EncodeBytes(delta);
            var back = fixedPoint.DecodeSumBytes(bytes).Select(v => (float)v).ToArray();
            var length = (long)(parameters + 1) * fixedPoint.ElementBytes;
            sb.AppendLine($"| secure aggregation, masked input in the {bits}-bit ring ({what}; values + weight) | {length:N0} | {length / (double)raw:F4} | {RelativeError(delta, back):E2} | | |");
        }
        return sb.ToString();
    }

    private static ClientUpdate[] MakeUpdates(int clients, int parameters, int seed)
    {
        var updates = new ClientUpdate[clients];
        Parallel.For(0, clients, k =>
        {
            var random = new Random(seed + (k * 7919));
            var delta = new float[parameters];
            for (var i = 0; i < delta.Length; i++)
            {
                delta[i] = (float)((random.NextDouble() * 2) - 1) * 0.01f;
            }
            updates[k] = new ClientUpdate($"client-{k:D3}", delta, 100 + random.Next(1000));
        });
        return updates;
    }

    private static (int Start, int Count) Slice(int length, int parts, int part)
    {
        var size = (length + parts - 1) / parts;
        var start = Math.Min(part * size, length);
        return (start, Math.Min(size, length - start));
    }

    private static double Median(int repetitions, Action action) => Measure(repetitions, action).Wall;

    /// <summary>Median wall seconds and median process CPU seconds (all threads) of the repetitions.</summary>
    private static (double Wall, double Cpu) Measure(int repetitions, Action action)
    {
        action();
        var wall = new double[repetitions];
        var cpu = new double[repetitions];
        using var process = Process.GetCurrentProcess();
        for (var r = 0; r < repetitions; r++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            action();
            wall[r] = sw.Elapsed.TotalSeconds;
            process.Refresh();
            cpu[r] = (process.TotalProcessorTime - cpu0).TotalSeconds;
        }
        return (MedianOf(wall), MedianOf(cpu));
    }

    private static double MedianOf(double[] values)
    {
        Array.Sort(values);
        var n = values.Length;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    private static double RelativeError(float[] original, float[] decoded)
    {
        double num = 0;
        double den = 0;
        for (var i = 0; i < original.Length; i++)
        {
            double d = decoded[i] - original[i];
            num += d * d;
            den += (double)original[i] * original[i];
        }
        return Math.Sqrt(num / den);
    }
}
