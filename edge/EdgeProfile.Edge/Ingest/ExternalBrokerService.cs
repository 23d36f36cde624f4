using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeProfile.Edge.Ingest;

/// <summary>
/// External-broker mode: subscribes at QoS 1 with a persistent session (clean session off, fixed client id), so
/// the broker keeps messages while the agent is down. A message is acknowledged to the broker only after the log
/// has committed it, in the order received.
/// </summary>
public sealed partial class ExternalBrokerService(IngestPipeline pipeline, IOptions<EdgeOptions> options, ILogger<ExternalBrokerService> logger)
    : BackgroundService
{
    private readonly Channel<(MqttApplicationMessageReceivedEventArgs Args, Task Durable, int Generation)> _acks =
        Channel.CreateUnbounded<(MqttApplicationMessageReceivedEventArgs, Task, int)>(new UnboundedChannelOptions { SingleReader = true });

    // Bumped on every (re)connect: an acknowledgement for a message of an older connection is skipped, the broker
    // redelivers that message on the new one.
    private int _generation;

    /// <summary>True while connected to the broker.</summary>
    public bool Connected { get; private set; }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var m = o.Mqtt;
        var clientId = string.IsNullOrWhiteSpace(m.ClientId) ? "edgeprofile-edge-" + o.StoreId : m.ClientId;
        using var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(m.Host, m.Port)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession(false)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
            .WithTimeout(TimeSpan.FromSeconds(10));
        if (!string.IsNullOrEmpty(m.Username))
        {
            builder = builder.WithCredentials(m.Username, m.Password);
        }

        var clientOptions = builder.Build();
        client.ApplicationMessageReceivedAsync += e => OnMessageAsync(e, stoppingToken);
        var ackLoop = AckLoopAsync(client, stoppingToken);
        var backoff = TimeSpan.FromMilliseconds(200);
        var wasDown = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!client.IsConnected)
                {
                    Interlocked.Increment(ref _generation);
                    var result = await client.ConnectAsync(clientOptions, stoppingToken).ConfigureAwait(false);
                    var subscribe = new MqttClientSubscribeOptionsBuilder();
                    foreach (var topic in TopicRouter.Subscriptions(o.StoreId))
                    {
                        subscribe.WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce);
                    }

                    await client.SubscribeAsync(subscribe.Build(), stoppingToken).ConfigureAwait(false);
                    Connected = true;
                    backoff = TimeSpan.FromMilliseconds(200);
                    LogConnected(logger, m.Host, m.Port, clientId, result.IsSessionPresent);
                    wasDown = false;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is MqttCommunicationException or InvalidOperationException or IOException or System.Net.Sockets.SocketException)
            {
                Connected = false;
                if (!wasDown)
                {
                    LogDisconnected(logger, m.Host, m.Port, ex.Message);
                    wasDown = true;
                }

                try
                {
                    await Task.Delay(backoff, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
        }

        // Stop taking messages; what is not acknowledged stays with the broker for next time.
        _acks.Writer.TryComplete();
        try
        {
            await ackLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (client.IsConnected)
        {
            await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None).ConfigureAwait(false);
        }

        Connected = false;
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e, CancellationToken stoppingToken)
    {
        e.AutoAcknowledge = false;
        var message = e.ApplicationMessage;
        Task durable;
        try
        {
            durable = await pipeline.SubmitAsync(message.Topic, message.Payload.ToArray(), awaitDurable: true, stoppingToken).ConfigureAwait(false)
                ?? Task.CompletedTask;
        }
        catch (Exception ex) when (ex is ChannelClosedException or OperationCanceledException)
        {
            return; // stopping: leave it unacknowledged, the broker redelivers it after restart
        }

        _acks.Writer.TryWrite((e, durable, Volatile.Read(ref _generation)));
    }

    private async Task AckLoopAsync(IMqttClient client, CancellationToken stoppingToken)
    {
        await foreach (var (args, durable, generation) in _acks.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            try
            {
                await durable.ConfigureAwait(false);
                if (generation != Volatile.Read(ref _generation) || !client.IsConnected)
                {
                    continue;
                }

                // Durable messages are acknowledged even while stopping (briefly), so the broker does not send
                // them again after a restart.
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await args.AcknowledgeAsync(grace.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Not durable or the connection is gone: do not acknowledge. Drop the connection so that the broker
                // redelivers everything not yet acknowledged, in order.
                LogAckFailed(logger, ex.Message);
                if (client.IsConnected)
                {
                    try
                    {
                        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception dex) when (dex is MqttCommunicationException or InvalidOperationException)
                    {
                        LogAckFailed(logger, dex.Message);
                    }
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed to external broker {Host}:{Port} as {ClientId} (session present: {SessionPresent})")]
    private static partial void LogConnected(ILogger logger, string host, int port, string clientId, bool sessionPresent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "External broker {Host}:{Port} unreachable ({Error}); retrying")]
    private static partial void LogDisconnected(ILogger logger, string host, int port, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message not acknowledged ({Reason}); the broker will redeliver it")]
    private static partial void LogAckFailed(ILogger logger, string reason);
}
