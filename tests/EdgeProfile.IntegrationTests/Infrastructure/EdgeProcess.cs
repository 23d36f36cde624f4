using System.Collections.Concurrent;
using System.Diagnostics;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>
/// The real <c>edgeprofile-edge</c> executable as a child process (<c>dotnet edgeprofile-edge.dll ...</c>). The dotnet
/// muxer runs the app in its own process, so <see cref="Process.Id"/> is the agent itself and
/// <see cref="KillHard"/> is a SIGKILL of the agent. Output is drained continuously (a full pipe would stall the
/// agent's logging) and kept for diagnostics.
/// </summary>
public sealed class EdgeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    private EdgeProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The agent next to the tests (the test project references EdgeProfile.Edge.Agent).</summary>
    public static string AgentDll
    {
        get
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "edgeprofile-edge.dll");
            if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
            {
                return beside;
            }

            throw new FileNotFoundException($"edgeprofile-edge.dll (with its runtimeconfig) not found in {AppContext.BaseDirectory}; build the test project");
        }
    }

    /// <summary>The dotnet host running these tests (DOTNET_HOST_PATH under dotnet test), else dotnet on PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Raised for every line the agent writes to stdout (on the reader's thread).</summary>
    public event Action<string>? Line;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string StandardError => string.Join('\n', _stderr);

    /// <summary>The last lines of both streams, for failure messages.</summary>
    public string Tail(int lines = 40) =>
        "--- stdout ---\n" + string.Join('\n', _stdout.TakeLast(lines)) + "\n--- stderr ---\n" + string.Join('\n', _stderr.TakeLast(lines));

    public static EdgeProcess Start(IEnumerable<string> args, string workingDirectory)
    {
        var psi = new ProcessStartInfo(DotnetHost)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(AgentDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // A plain production-like start: no inherited URLs or environment from the test host.
        psi.Environment.Remove("ASPNETCORE_URLS");
        psi.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        psi.Environment.Remove("DOTNET_ENVIRONMENT");

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var edge = new EdgeProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                edge._stdout.Enqueue(e.Data);
                Trim(edge._stdout);
                edge.Line?.Invoke(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                edge._stderr.Enqueue(e.Data);
                Trim(edge._stderr);
            }
        };
        if (!process.Start())
        {
            throw new InvalidOperationException("could not start " + psi.FileName);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return edge;
    }

    /// <summary>The command line of the process as the kernel sees it (Linux), to check what we are about to kill.</summary>
    public string CommandLine()
    {
        var path = $"/proc/{_process.Id}/cmdline";
        return File.Exists(path) ? File.ReadAllText(path).Replace('\0', ' ') : "";
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a power cut for the process (not for the disk).</summary>
    public void KillHard() => _process.Kill(entireProcessTree: false);

    /// <summary>SIGTERM, then wait for a graceful exit; returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })
                ?? throw new InvalidOperationException("could not run kill");
            await kill.WaitForExitAsync();
        }

        return await WaitForExitAsync(timeout);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"edge process {_process.Id} did not exit within {timeout.TotalSeconds} s\n{Tail()}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }

        _process.Dispose();
    }

    private static void Trim(ConcurrentQueue<string> queue)
    {
        while (queue.Count > 2000 && queue.TryDequeue(out _))
        {
        }
    }
}
