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

        FixMallocThresholds();
    }

    /// <summary>
    /// glibc serves a block above its mmap threshold (128 KiB at start) with a fresh mapping and unmaps it on free, and
    /// raises the threshold only as such blocks are freed; libtorch's activations and gradients (megabytes each) then
    /// take page faults and unmaps on every step until it has adapted. Measured on the bench's MMoE (2 threads): the
    /// first ~100–150 steps of a process ran at 23–32 ms, the rest at 14–20 ms; with the thresholds fixed from the start
    /// (mmap above <see cref="MmapThresholdBytes"/>, heap trimmed above <see cref="TrimThresholdBytes"/> — the range
    /// glibc's own adaptation reaches) every step ran at 17–23 ms. Set with <c>mallopt</c> (glibc reads its
    /// <c>MALLOC_*_</c> variables only at process start); an operator's <c>MALLOC_MMAP_THRESHOLD_</c> or
    /// <c>MALLOC_TRIM_THRESHOLD_</c> wins, and a C library without <c>mallopt</c> is left alone.
    /// </summary>
    private static void FixMallocThresholds()
    {
        if (!OperatingSystem.IsLinux()
            || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
        {
            return;
        }

        try
        {
            // mallopt returns 1 when it took the value.
            MallocThresholdsFixed = (MallOpt(MallocTrimThreshold, TrimThresholdBytes) == 1) & (MallOpt(MallocMmapThreshold, MmapThresholdBytes) == 1);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl has no mallopt): nothing to tune.
        }
    }

    /// <summary>Whether <see cref="Prepare"/> set glibc's mmap and trim thresholds (false: not Linux/glibc, or the
    /// operator set them).</summary>
    public static bool MallocThresholdsFixed { get; private set; }

    /// <summary>Blocks at least this large get their own mapping (glibc's largest adaptive value on 64-bit).</summary>
    public const int MmapThresholdBytes = 32 * 1024 * 1024;

    /// <summary>Free memory at the top of the heap beyond this is returned to the system.</summary>
    public const int TrimThresholdBytes = 64 * 1024 * 1024;

    private const int MallocTrimThreshold = -1;
    private const int MallocMmapThreshold = -3;

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);

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
