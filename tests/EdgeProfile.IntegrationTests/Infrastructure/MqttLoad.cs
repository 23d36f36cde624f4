using System.Collections.Concurrent;
using System.Diagnostics;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>How to drive a broker: which events, over how many connections, how many unacknowledged at once.</summary>
public sealed record LoadPlan(string Host, int Port, string Topic, IReadOnlyList<TestEvent> Events)
{
    public int Clients { get; init; } = 4;

    public int InflightPerClient { get; init; } = 16;

    public string ClientIdPrefix { get; init; } = "it-pub";

    /// <summary>Messages per second over all clients; null publishes as fast as acknowledgements allow.</summary>
    public double? RatePerSecond { get; init; }

    public MqttProtocolVersion Protocol { get; init; } = MqttProtocolVersion.V311;

    /// <summary>Checked before each publish: true ends the load early (publishes in flight still complete).</summary>
    public Func<bool>? Stop { get; init; }

    /// <summary>Called on the publishing thread for every acknowledged event id.</summary>
    public Action<string>? OnAck { get; init; }
}

/// <summary>What happened to a load: which event ids the broker acknowledged (PUBACK, success) and which failed.</summary>
public sealed class LoadReport
{
    private int _attempted;
    private int _failed;

    public ConcurrentQueue<string> Acked { get; } = new();

    /// <summary>Publishes started (PUBLISH packets that may have reached the broker).</summary>
    public int Attempted => Volatile.Read(ref _attempted);

    public int Failed => Volatile.Read(ref _failed);

    public Exception? FirstError { get; private set; }

    public TimeSpan Elapsed { get; internal set; }

    internal void Attempt() => Interlocked.Increment(ref _attempted);

    internal void Fail(Exception? error)
    {
        Interlocked.Increment(ref _failed);
        if (error is not null && FirstError is null)
        {
            FirstError = error;
        }
    }

    public override string ToString() =>
        $"attempted {Attempted}, acked {Acked.Count}, failed {Failed} in {Elapsed.TotalSeconds:0.0} s"
        + (FirstError is null ? "" : $" (first error {FirstError.GetType().Name}: {FirstError.Message})");
}

/// <summary>
/// QoS 1 publishing with MQTTnet clients: several connections, each with several publishes awaiting their PUBACK at
/// once. An event counts as acknowledged only when PublishAsync completed with a success reason code. A worker stops
/// at its first failure (the connection is gone), so after a crash the report says exactly what was confirmed.
/// </summary>
public static class MqttLoad
{
    public static async Task<LoadReport> RunAsync(LoadPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var report = new LoadReport();
        var clients = new List<IMqttClient>();
        var factory = new MqttClientFactory();
        var watch = Stopwatch.StartNew();
        try
        {
            for (var c = 0; c < plan.Clients; c++)
            {
                var client = factory.CreateMqttClient();
                clients.Add(client);
                var options = new MqttClientOptionsBuilder()
                    .WithTcpServer(plan.Host, plan.Port)
                    .WithClientId($"{plan.ClientIdPrefix}-{c}")
                    .WithCleanSession(true)
                    .WithProtocolVersion(plan.Protocol)
                    .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
                    .WithTimeout(TimeSpan.FromSeconds(30))
                    .Build();
                await client.ConnectAsync(options, cancellationToken);
            }

            var next = -1;
            var workers = new List<Task>();
            foreach (var client in clients)
            {
                for (var w = 0; w < plan.InflightPerClient; w++)
                {
                    workers.Add(Task.Run(() => WorkAsync(client), cancellationToken));
                }
            }

            await Task.WhenAll(workers);

            async Task WorkAsync(IMqttClient client)
            {
                while (true)
                {
                    if (plan.Stop?.Invoke() == true)
                    {
                        return;
                    }

                    var i = Interlocked.Increment(ref next);
                    if (i >= plan.Events.Count || cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }

                    if (plan.RatePerSecond is { } rate)
                    {
                        var due = TimeSpan.FromSeconds(i / rate) - watch.Elapsed;
                        if (due > TimeSpan.Zero)
                        {
                            await Task.Delay(due, cancellationToken);
                        }
                    }

                    var e = plan.Events[i];
                    var message = new MqttApplicationMessageBuilder()
                        .WithTopic(plan.Topic)
                        .WithPayload(e.Payload)
                        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                        .Build();
                    report.Attempt();
                    try
                    {
                        var result = await client.PublishAsync(message, cancellationToken);
                        if (IsAcknowledged(result))
                        {
                            report.Acked.Enqueue(e.EventId);
                            plan.OnAck?.Invoke(e.EventId);
                        }
                        else
                        {
                            report.Fail(new InvalidOperationException($"PUBACK {result.ReasonCode} for {e.EventId}"));
                        }
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        report.Fail(ex);
                        return;
                    }
                }
            }
        }
        finally
        {
            report.Elapsed = watch.Elapsed;
            foreach (var client in clients)
            {
                try
                {
                    if (client.IsConnected)
                    {
                        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The broker is gone (the crash test kills it); nothing to close.
                }

                client.Dispose();
            }
        }

        return report;
    }

    /// <summary>
    /// A PUBACK with a success reason code. MQTT 5 reason codes below 0x80 are successes (0x10, "no matching
    /// subscribers", still means the broker accepted the message); MQTT 3.1.1 PUBACKs carry none and read as Success.
    /// </summary>
    public static bool IsAcknowledged(MqttClientPublishResult result) =>
        result is not null && (int)result.ReasonCode < 0x80;
}
