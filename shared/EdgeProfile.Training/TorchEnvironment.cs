using System.Runtime.InteropServices;

namespace EdgeProfile.Training;

/// <summary>
/// Process settings libtorch reads once, when it loads (at the first torch call). The one that matters here:
/// <c>OMP_WAIT_POLICY=PASSIVE</c>, so that OpenMP's idle worker threads sleep instead of spinning — measured on a busy
/// 2-core box (bench-model-scoring): a training step took 155–1,240 ms with spinning workers and 21–77 ms without.
/// .NET's <see cref="Environment.SetEnvironmentVariable(string, string?)"/> changes only the managed copy on Linux, so
/// this calls <c>setenv</c>. A value the operator set is left alone.
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
    }

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
