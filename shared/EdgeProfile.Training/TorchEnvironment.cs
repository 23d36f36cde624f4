using System.Runtime.InteropServices;

namespace EdgeProfile.Training;

/// <summary>
/// Process settings libtorch reads once, when it loads (at the first torch call). <c>OMP_WAIT_POLICY=PASSIVE</c>, so
/// that OpenMP's idle worker threads sleep instead of spinning — measured on a busy 2-core box (bench-model-scoring):
/// a training step took 155–1,240 ms with spinning workers and 21–77 ms without. And, with it, a short spin before a
/// worker sleeps, <c>GOMP_SPINCOUNT=</c><see cref="SpinCount"/> (libtorch's OpenMP is GNU libgomp, which reads it after
/// the wait policy): a step's hundreds of small parallel regions then find the worker still awake instead of waking
/// it through the kernel each time. Measured 2026-12-02 on the 2-vCPU AMD EPYC (MMoE 320 features, 8 experts [256],
/// batch 256, Adam, 2 threads): 57–85 ms per step with PASSIVE alone, 32–35 ms with the spin (1 thread: 37 ms). .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string?)"/> changes only the managed copy on Linux, so this
/// calls <c>setenv</c>. A value the operator set is left alone, and an operator's ACTIVE policy gets no spin cap.
/// </summary>
public static partial class TorchEnvironment
{
    private static int _prepared;

    /// <summary>Applies the settings (once per process; no effect if libtorch is already loaded).</summary>
    public static void Prepare()
    {
        if (Interlocked.Exchange(ref _prepared, 1) == 1)
        {
            return;
        }

        SetIfUnset("OMP_WAIT_POLICY", "PASSIVE");
        if (string.Equals(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"), "PASSIVE", StringComparison.OrdinalIgnoreCase))
        {
            SetIfUnset("GOMP_SPINCOUNT", SpinCount);
        }
    }

    /// <summary>Spins (busy-wait iterations) of an idle OpenMP worker before it sleeps, under the passive policy.</summary>
    public const string SpinCount = "10000";

    /// <summary>Sets <paramref name="name"/> for this process (native and managed views) unless already set.</summary>
    public static void SetIfUnset(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is not null)
        {
            return;
        }

        if (OperatingSystem.IsLinux() && SetEnv(name, value, 0) != 0)
        {
            throw new InvalidOperationException($"setenv({name}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        Environment.SetEnvironmentVariable(name, value);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
