using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EdgeProfile.Bench.RulePublish;

/// <summary>A child process (hub, edge, CLI or mosquitto) with its output kept for failure messages.</summary>
internal sealed class Child : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private Child(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    public static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Starts <paramref name="exe"/> (a dll runs under the dotnet host).</summary>
    public static Child Start(string name, string exe, IEnumerable<string> args, string? workingDirectory = null)
    {
        var dll = exe.EndsWith(".dll", StringComparison.Ordinal);
        var psi = new ProcessStartInfo(dll ? DotnetHost : exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        if (dll)
        {
            psi.ArgumentList.Add(exe);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("ASPNETCORE_URLS");
        psi.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        psi.Environment.Remove("DOTNET_ENVIRONMENT");
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"{exe} did not start");
        var child = new Child(process, name);
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a command to its end; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string exe, IEnumerable<string> args, TimeSpan timeout)
    {
        await using var child = Start(Path.GetFileNameWithoutExtension(exe), exe, args);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await child._process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{exe} {string.Join(' ', args)} did not finish in {timeout.TotalSeconds:F0} s:\n{child.Tail()}");
        }

        // WaitForExitAsync also waits for the redirected streams to reach their end.
        return (child._process.ExitCode, child.Tail(int.MaxValue));
    }

    public string Tail(int lines = 30) => string.Join('\n', _lines.TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        while (_lines.Count > 400)
        {
            _lines.TryDequeue(out _);
        }
    }
}
