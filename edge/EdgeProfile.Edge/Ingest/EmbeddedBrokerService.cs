using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using EdgeProfile.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeProfile.Edge.Ingest;

/// <summary>
/// The edge's own MQTT broker (MQTTnet). Every publish on an event topic goes through the ingest pipeline, and the
/// broker acknowledges a QoS 1/2 publish only after the log has committed it.
/// </summary>
public sealed partial class EmbeddedBrokerService(IngestPipeline pipeline, IOptions<EdgeOptions> options, ILogger<EmbeddedBrokerService> logger)
    : IHostedService, IAsyncDisposable
{
    private MqttServer? _server;

    /// <summary>The port the broker listens on.</summary>
    public int Port => options.Value.Mqtt.Port;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var m = options.Value.Mqtt;
        var serverOptions = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Parse(m.Bind))
            .WithDefaultEndpointPort(m.Port)
            .WithMaxPendingMessagesPerClient(m.MaxPendingPerClient)
            .WithPersistentSessions()
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(serverOptions);
        _server.ValidatingConnectionAsync += OnValidatingConnectionAsync;
        _server.InterceptingPublishAsync += OnPublishAsync;
        _server.QueuedApplicationMessageOverwrittenAsync += e =>
        {
            // Only a subscriber of the embedded broker (a store app) can fall this far behind; ingest never queues.
            LogSubscriberOverflow(logger, e.ReceiverClientId, m.MaxPendingPerClient);
            return Task.CompletedTask;
        };
        try
        {
            await _server.StartAsync().ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new ConfigurationException($"Edge:Mqtt:Port {m.Port} on {m.Bind} cannot be used: {ex.Message}");
        }

        LogListening(logger, m.Bind, m.Port);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            _server.Dispose();
            _server = null;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    private static Task OnValidatingConnectionAsync(ValidatingConnectionEventArgs e)
    {
        // MQTT 3.1.1 §3.1.3.1: a client may send an empty id with a clean session and the server assigns one
        // (mosquitto_pub and paho do this).
        if (string.IsNullOrEmpty(e.ClientId))
        {
            if (e.CleanSession != false)
            {
                e.AssignedClientIdentifier = "ep-" + Guid.NewGuid().ToString("N");
                e.ReasonCode = MqttConnectReasonCode.Success;
            }
            else
            {
                e.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
            }
        }

        return Task.CompletedTask;
    }

    private async Task OnPublishAsync(InterceptingPublishEventArgs e)
    {
        var message = e.ApplicationMessage;
        var acked = message.QualityOfServiceLevel != MqttQualityOfServiceLevel.AtMostOnce;
        try
        {
            var durable = await pipeline.SubmitAsync(message.Topic, message.Payload.ToArray(), acked, e.CancellationToken).ConfigureAwait(false);
            if (durable is not null && acked)
            {
                await durable.ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is ChannelClosedException or OperationCanceledException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            // Not durable: drop the connection instead of acknowledging, so the client sends it again.
            LogNotDurable(logger, e.ClientId, ex.Message);
            e.ProcessPublish = false;
            e.CloseConnection = true;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {ClientId} is more than Edge:Mqtt:MaxPendingPerClient={Max} messages behind: its oldest queued message was dropped")]
    private static partial void LogSubscriberOverflow(ILogger logger, string clientId, int max);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded MQTT broker listening on {Bind}:{Port}")]
    private static partial void LogListening(ILogger logger, string bind, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publish from {ClientId} not made durable ({Reason}); closing its connection so it redelivers")]
    private static partial void LogNotDurable(ILogger logger, string clientId, string reason);
}
