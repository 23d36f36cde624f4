using System.Runtime.InteropServices;

namespace EdgeProfile.Bench.ModelScoring;

/// <summary>
/// Sets a variable in the process's native environment. .NET's <see cref="Environment.SetEnvironmentVariable(string, string?)"/>
/// changes only the managed copy on Linux, but libtorch's OpenMP runtime reads <c>OMP_WAIT_POLICY</c> from the native
/// one when it loads (at the first torch call), so the bench sets it here first, as it does for the PyTorch peer.
/// </summary>
internal static partial class NativeEnvironment
{
    /// <summary>Sets <paramref name="name"/> for this process (managed and native views) unless already set.</summary>
    public static void SetIfUnset(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is not null)
        {
            return;
        }

        if (SetEnv(name, value, 0) != 0)
        {
            throw new InvalidOperationException($"setenv({name}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        Environment.SetEnvironmentVariable(name, value);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
