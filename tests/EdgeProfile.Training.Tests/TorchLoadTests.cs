using TorchSharp;

namespace EdgeProfile.Training.Tests;

[Collection(TorchCollection.Name)]
public sealed class TorchLoadTests
{
    [Fact]
    public void Torch_loads_and_computes()
    {
        // Fails with "doesn't contain a reference to libtorch-cpu-linux-x64" on Debian 12 unless the build step
        // (build/EdgeProfile.TorchSharpFix.targets) marked GLIBCXX_3.4.32 weak in the output's libLibTorchSharp.so.
        using var scope = torch.NewDisposeScope();
        var x = torch.ones(3, 4);
        Assert.Equal(12f, x.sum().item<float>());
    }

    [Fact]
    public void Prepare_asks_libgomp_for_a_short_spin_and_fixes_the_malloc_thresholds()
    {
        TorchEnvironment.Prepare();

        // What libtorch's OpenMP reads is the native environment, not .NET's copy of it.
        Assert.Equal(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"), NativeEnvironment("OMP_WAIT_POLICY"));
        if (string.Equals(NativeEnvironment("OMP_WAIT_POLICY"), "PASSIVE", StringComparison.OrdinalIgnoreCase))
        {
            var spin = NativeEnvironment("GOMP_SPINCOUNT");
            Assert.NotNull(spin);
            Assert.True(long.Parse(spin, System.Globalization.CultureInfo.InvariantCulture) > 0, $"GOMP_SPINCOUNT={spin}");
        }

        bool operatorSet = Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null;
        Assert.Equal(!operatorSet, TorchEnvironment.MallocThresholdsFixed);
    }

    private static string? NativeEnvironment(string name) =>
        System.Runtime.InteropServices.Marshal.PtrToStringUTF8(GetEnv(name));

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getenv")]
    private static extern nint GetEnv([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string name);

    [Fact]
    public void Output_copy_of_libLibTorchSharp_is_patched_and_the_package_cache_is_not()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        // Flat with a RuntimeIdentifier (this project), under runtimes/ without one.
        var output = new[] { "libLibTorchSharp.so", Path.Combine("runtimes", "linux-x64", "native", "libLibTorchSharp.so") }
            .Select(p => Path.Combine(AppContext.BaseDirectory, p))
            .First(File.Exists);
        // -1 would mean a libLibTorchSharp.so that does not ask for GLIBCXX_3.4.32 at all (a newer TorchSharp build).
        Assert.Equal(0x2, GlibcxxFlags(output) & 0x2);
        var cache = Path.Combine(
            Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            "torchsharp", typeof(torch).Assembly.GetName().Version!.ToString(3), "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (File.Exists(cache))
        {
            Assert.Equal(0, GlibcxxFlags(cache) & 0x2);
        }
    }

    /// <summary>vna_flags of the Vernaux entry named GLIBCXX_3.4.32 (-1 when absent): a second, independent ELF reader.</summary>
    private static int GlibcxxFlags(string path)
    {
        var b = File.ReadAllBytes(path);
        var shoff = (int)BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3a), shnum = BitConverter.ToUInt16(b, 0x3c);
        for (var i = 0; i < shnum; i++)
        {
            var sh = shoff + i * shentsize;
            if (BitConverter.ToUInt32(b, sh + 4) != 0x6ffffffe)
            {
                continue;
            }
            var off = (int)BitConverter.ToUInt64(b, sh + 0x18);
            var str = (int)BitConverter.ToUInt64(b, shoff + (int)BitConverter.ToUInt32(b, sh + 0x28) * shentsize + 0x18);
            for (int vn = off, n = 0; n < (int)BitConverter.ToUInt32(b, sh + 0x2c); n++, vn += (int)BitConverter.ToUInt32(b, vn + 12))
            {
                var vna = vn + (int)BitConverter.ToUInt32(b, vn + 8);
                for (var a = 0; a < BitConverter.ToUInt16(b, vn + 2); a++, vna += (int)BitConverter.ToUInt32(b, vna + 12))
                {
                    var name = str + (int)BitConverter.ToUInt32(b, vna + 8);
                    var end = Array.IndexOf(b, (byte)0, name);
                    if (System.Text.Encoding.ASCII.GetString(b, name, end - name) == "GLIBCXX_3.4.32")
                    {
                        return BitConverter.ToUInt16(b, vna + 4);
                    }
                }
            }
        }
        return -1;
    }
}
