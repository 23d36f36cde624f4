using System.Collections.Concurrent;
using System.Diagnostics;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>
/// Debian's mosquitto on a free loopback port, configured neither to drop nor to persist (docs/benchmarks.md), with a
/// 100-message in-flight window. Debian's package does not start a broker in a container: the test starts it and
/// stops it by its PID.
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    public const string Executable = "/usr/sbin/mosquitto";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log;

    private MosquittoBroker(Process process, int port, ConcurrentQueue<string> log)
    {
        _process = process;
        Port = port;
        _log = log;
    }

    public int Port { get; }

    public string Log => string.Join('\n', _log.TakeLast(60));

    public static async Task<MosquittoBroker> StartAsync(string directory)
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing (apt-get install mosquitto)");
        var port = Ports.Free();
        var conf = Path.Combine(directory, "mosquitto.conf");
        await File.WriteAllTextAsync(conf, $"""
            listener {port} 127.0.0.1
            allow_anonymous true
            persistence false
            max_queued_messages 1000000
            max_inflight_messages 100
            log_dest stderr
            log_type error
            log_type warning
            log_type notice

            """);
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(conf);
        var log = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var broker = new MosquittoBroker(process, port, log);
        try
        {
            await Poll.UntilAsync(
                async () => process.HasExited ? throw new Xunit.Sdk.XunitException("mosquitto exited: " + broker.Log) : await Ports.AcceptsAsync(port),
                TimeSpan.FromSeconds(15),
                $"mosquitto to listen on 127.0.0.1:{port}");
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }

        return broker;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}
