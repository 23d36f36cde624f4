using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EdgeProfile.Bench.HubReads;

/// <summary>What redis-benchmark reported, the CPU redis-server and redis-benchmark used for it, and how busy the machine was (cores).</summary>
internal sealed record RedisResult(Percentiles Latency, double ServerCpuMicros, double ClientCpuMicros, double Seconds, double ServerCores, double ClientCores, double MachineCores);

/// <summary>
/// The peer: Debian's redis-server on a free loopback port (no persistence), one 512-byte value stored first (else
/// GET reads a missing key), then <c>redis-benchmark -t get -c CONNECTIONS -n N -d 512</c>.
/// </summary>
internal static class Redis
{
    private const string Server = "/usr/bin/redis-server";
    private const string Benchmark = "/usr/bin/redis-benchmark";

    public static async Task<RedisResult?> GetAsync(int connections, int requests)
    {
        if (!File.Exists(Server) || !File.Exists(Benchmark))
        {
            return null;
        }

        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }

        using var server = Process.Start(new ProcessStartInfo(Server)
        {
            ArgumentList = { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        server.OutputDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        try
        {
            await WaitListeningAsync(port);
            await RunAsync($"-p {port} -t set -n 1000 -d 512 -q");
            var serverCpu0 = ProcStat.CpuSeconds(server.Id);
            var clientCpu0 = ProcStat.WaitedChildrenCpuSeconds();
            var machine0 = ProcStat.MachineBusySeconds();
            var watch = Stopwatch.StartNew();
            var output = await RunAsync($"-p {port} -t get -c {connections} -n {requests} -d 512");
            var seconds = watch.Elapsed.TotalSeconds;
            var serverCpu = ProcStat.CpuSeconds(server.Id) - serverCpu0;
            var clientCpu = ProcStat.WaitedChildrenCpuSeconds() - clientCpu0;
            var machine = ProcStat.MachineBusySeconds() - machine0;

            // "latency summary (msec):" then a header line "avg min p50 p95 p99 max" and a values line.
            var lines = output.Split('\n', StringSplitOptions.TrimEntries);
            var at = Array.FindIndex(lines, l => l.StartsWith("latency summary", StringComparison.Ordinal));
            if (at < 0)
            {
                throw new InvalidOperationException($"redis-benchmark printed no latency summary:\n{output}");
            }

            var header = lines[at + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = lines[at + 2].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            double Col(string name) => values[Array.IndexOf(header, name)];
            var throughputLine = lines.First(l => l.StartsWith("throughput summary", StringComparison.Ordinal));
            var ops = double.Parse(throughputLine.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            return new RedisResult(new Percentiles(requests, Col("p50"), Col("p99"), Col("max"), ops), serverCpu / requests * 1e6, clientCpu / requests * 1e6, seconds,
                serverCpu / seconds, clientCpu / seconds, machine / seconds);
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    private static async Task WaitListeningAsync(int port)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new InvalidOperationException($"redis-server did not listen on {port}");
    }

    private static async Task<string> RunAsync(string args)
    {
        using var p = Process.Start(new ProcessStartInfo(Benchmark, args) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var text = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-benchmark {args} exited with {p.ExitCode}:\n{text}");
        }

        return text.Replace('\r', '\n');
    }
}
