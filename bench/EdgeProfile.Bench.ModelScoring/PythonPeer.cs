using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace EdgeProfile.Bench.ModelScoring;

/// <summary>What <c>bench/models/torch_train_step.py</c> reported.</summary>
public sealed record PeerResult(string Version, int Threads, string Blas, int Steps, double MeanMs, double P50Ms, double P99Ms, double FirstLoss, long Parameters);

/// <summary>Runs Debian's python3-torch on the inputs <see cref="TrainingStepBench.WritePeerInputs"/> wrote.</summary>
public static class PythonPeer
{
    /// <summary>Python used: Debian's, explicitly (python3-torch is installed for it).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>Runs the script with the same thread count, warm-up and steps; returns null and the reason on failure.
    /// Passes the bench's own <c>OMP_WAIT_POLICY</c> (PASSIVE by default, as shared/docs/benchmarks.md asks) and sets
    /// <c>OMP/OPENBLAS_NUM_THREADS</c> to the thread count; <c>GOMP_SPINCOUNT</c> is <paramref name="spinCount"/> (null:
    /// unset).</summary>
    public static async Task<(PeerResult? Result, string Error)> RunAsync(string script, string directory, int threads, int steps, int seed, string? waitPolicy, string? spinCount)
    {
        var t = threads.ToString(CultureInfo.InvariantCulture);
        var psi = new ProcessStartInfo(Python, [script, directory, "--threads", t, "--warmup", TrainingStepBench.WarmupSteps.ToString(CultureInfo.InvariantCulture),
            "--steps", steps.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (waitPolicy is null)
        {
            psi.Environment.Remove("OMP_WAIT_POLICY");
        }
        else
        {
            psi.Environment["OMP_WAIT_POLICY"] = waitPolicy;
        }

        if (spinCount is null)
        {
            psi.Environment.Remove("GOMP_SPINCOUNT");
        }
        else
        {
            psi.Environment["GOMP_SPINCOUNT"] = spinCount;
        }

        psi.Environment["OMP_NUM_THREADS"] = t;
        psi.Environment["OPENBLAS_NUM_THREADS"] = t;
        try
        {
            using var process = Process.Start(psi)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (process.ExitCode != 0 || lines.Length == 0)
            {
                return (null, $"exit {process.ExitCode}: {(await stderr).Trim()} (apt-get install -y python3-torch libopenblas0-pthread)");
            }

            var json = JsonDocument.Parse(lines[^1]).RootElement;
            return (new PeerResult(
                json.GetProperty("torch").GetString()!,
                json.GetProperty("threads").GetInt32(),
                json.GetProperty("blas").GetString()!,
                json.GetProperty("steps").GetInt32(),
                json.GetProperty("mean_ms").GetDouble(),
                json.GetProperty("p50_ms").GetDouble(),
                json.GetProperty("p99_ms").GetDouble(),
                json.GetProperty("first_loss").GetDouble(),
                json.GetProperty("parameters").GetInt64()), "");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (null, $"{Python} not found: {ex.Message}");
        }
    }
}
