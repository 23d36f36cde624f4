using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EdgeProfile.Bench.HubReads;

/// <summary>
/// What the load generator measured: latency and rate, answers by status, CPU per request of the hub and of this
/// process, and how busy the whole machine was (cores) over the measured window.
/// </summary>
internal sealed record LoadResult(Percentiles Latency, long Errors, string Statuses, int Connections, double MeanBytes, double HubCpuMicros, double ClientCpuMicros, double HubCores, double ClientCores, double MachineCores);

/// <summary>
/// A closed loop of <see cref="Settings.Connections"/> HTTP/1.1 keep-alive connections: one <see cref="SocketsHttpHandler"/>
/// allowing that many connections and one loop per connection, each sending its next GET as soon as the last answer
/// is read. Requests started during the warm-up are not counted; latency runs from before the send to the last byte.
/// </summary>
internal static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(HubProcess hub, Func<Random, Uri> pick, Settings s, int seconds)
    {
        var opened = 0;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = s.Connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (context, ct) =>
            {
                Interlocked.Increment(ref opened);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        using var http = Seeder.OperatorClient(hub, handler);
        http.DefaultRequestVersion = HttpVersion.Version11;
        http.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        http.Timeout = TimeSpan.FromSeconds(30);

        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (s.WarmupSeconds * Stopwatch.Frequency);
        var end = measureFrom + (seconds * Stopwatch.Frequency);
        var loops = Enumerable.Range(0, s.Connections)
            .Select(i => Task.Run(() => LoopAsync(http, pick, new Random(s.Seed + i), measureFrom, end)))
            .ToArray();

        await Task.Delay(Until(measureFrom));
        var hubCpu0 = hub.CpuSeconds();
        var clientCpu0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var machine0 = ProcStat.MachineBusySeconds();
        await Task.Delay(Until(end));
        var hubCpu = hub.CpuSeconds() - hubCpu0;
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - clientCpu0;
        var machine = ProcStat.MachineBusySeconds() - machine0;
        var results = await Task.WhenAll(loops);

        var samples = new List<double>(results.Sum(r => r.Samples.Count));
        foreach (var r in results)
        {
            samples.AddRange(r.Samples);
        }

        var statuses = results.SelectMany(r => r.Statuses).GroupBy(kv => kv.Key).OrderBy(g => g.Key)
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key}: {g.Sum(kv => kv.Value):N0}"));
        var failures = results.Sum(r => r.Failures);
        var errors = failures + results.Sum(r => r.Statuses.Where(kv => kv.Key != (int)HttpStatusCode.OK).Sum(kv => kv.Value));
        var count = Math.Max(1, samples.Count);
        return new LoadResult(
            Percentiles.Of(samples, seconds),
            errors,
            string.Join(", ", statuses) + (failures > 0 ? string.Create(CultureInfo.InvariantCulture, $", failed without an answer: {failures:N0}") : ""),
            opened,
            (double)results.Sum(r => r.Bytes) / count,
            hubCpu / count * 1e6,
            clientCpu / count * 1e6,
            hubCpu / seconds,
            clientCpu / seconds,
            machine / seconds);
    }

    private static TimeSpan Until(long timestamp)
    {
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private static async Task<LoopResult> LoopAsync(HttpClient http, Func<Random, Uri> pick, Random random, long measureFrom, long end)
    {
        var result = new LoopResult();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var url = pick(random);
            var t0 = Stopwatch.GetTimestamp();
            if (t0 >= end)
            {
                return result;
            }

            var measured = t0 >= measureFrom;
            try
            {
                using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
                await using var body = await response.Content.ReadAsStreamAsync();
                long bytes = 0;
                int n;
                while ((n = await body.ReadAsync(buffer)) > 0)
                {
                    bytes += n;
                }

                if (measured)
                {
                    result.Samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    result.Bytes += bytes;
                    var status = (int)response.StatusCode;
                    result.Statuses[status] = result.Statuses.GetValueOrDefault(status) + 1;
                }
            }
            catch (Exception ex) when (measured && ex is HttpRequestException or TaskCanceledException)
            {
                result.Failures++;
            }
        }
    }

    private sealed class LoopResult
    {
        public List<double> Samples { get; } = new(100_000);

        public Dictionary<int, long> Statuses { get; } = [];

        public long Failures { get; set; }

        public long Bytes { get; set; }
    }
}
