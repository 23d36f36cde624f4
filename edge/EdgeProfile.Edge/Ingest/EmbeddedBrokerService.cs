using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using EdgeProfile.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeProfile.Edge.Ingest;

/// <summary>
/// The edge's own MQTT broker (MQTTnet). Every publish on an event topic goes through the ingest pipeline, and the
/// broker acknowledges a QoS 1/2 publish (PUBACK/PUBREC) only after the log has committed it. The broker reads a
/// client's packets one at a time, so ingest does not wait for the commit while reading: it holds back the
/// acknowledgement on the way out instead, which lets one client keep many publishes in flight (group commit).
/// </summary>
public sealed partial class EmbeddedBrokerService(MqttServer server, IngestPipeline pipeline, IOptions<EdgeOptions> options, ILogger<EmbeddedBrokerService> logger)
    : IHostedService
{
    // Acknowledgements held back until the message is durable, by (client, packet identifier). A client reuses a
    // packet identifier only after it got the acknowledgement, so a key is never live twice.
    private readonly ConcurrentDictionary<(string ClientId, ushort PacketId), (Task Durable, long Arrived)> _pendingAcks = new();
    /// <summary>
    /// Hooks ingest into the broker before it takes connections. The broker itself is MQTTnet's, hosted on Kestrel
    /// (see <see cref="EdgeHostExtensions.AddEdge"/>): Kestrel's buffered connection pipes cost far fewer system
    /// calls per packet than MQTTnet's own socket listener.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var m = options.Value.Mqtt;

        // Kestrel binds later, after every hosted service has started; find a taken port now, with its key.
        try
        {
            using var probe = new TcpListener(IPAddress.Parse(m.Bind), m.Port);
            probe.Start();
            probe.Stop();
        }
        catch (SocketException ex)
        {
            throw new ConfigurationException($"Edge:Mqtt:Port {m.Port} on {m.Bind} cannot be used: {ex.Message}");
        }

        server.ValidatingConnectionAsync += OnValidatingConnectionAsync;
        server.InterceptingInboundPacketAsync += OnInboundPacketAsync;
        server.InterceptingOutboundPacketAsync += OnOutboundPacketAsync;
        server.ClientDisconnectedAsync += OnClientDisconnectedAsync;
        server.QueuedApplicationMessageOverwrittenAsync += e =>
        {
            // Only a subscriber of the embedded broker (a store app) can fall this far behind; ingest never queues.
            LogSubscriberOverflow(logger, e.ReceiverClientId, m.MaxPendingPerClient);
            return Task.CompletedTask;
        };
        LogListening(logger, m.Bind, m.Port);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static Task OnValidatingConnectionAsync(ValidatingConnectionEventArgs e)
    {
        // An MQTT 5 client may leave its id empty and get one assigned. MQTTnet applies an assigned id only for MQTT 5
        // and refuses an empty id on 3.1.1 whatever this hook says (README: give 3.1.1 devices a client id).
        if (string.IsNullOrEmpty(e.ClientId) && e.CleanSession != false)
        {
            e.AssignedClientIdentifier = "ep-" + Guid.NewGuid().ToString("N");
        }

        return Task.CompletedTask;
    }

    private async Task OnInboundPacketAsync(InterceptingPacketEventArgs e)
    {
        if (e.Packet is not MqttPublishPacket publish)
        {
            return;
        }

        var arrived = System.Diagnostics.Stopwatch.GetTimestamp();
        var acked = publish.QualityOfServiceLevel != MqttQualityOfServiceLevel.AtMostOnce;
        try
        {
            // Decode here and hand over to the log writer, then let the broker go on reading this client's next
            // packets: its acknowledgement is held back in OnOutboundPacketAsync until the log has committed.
            var durable = await pipeline.SubmitAsync(publish.Topic, publish.Payload.ToArray(), acked, e.CancellationToken).ConfigureAwait(false);
            if (durable is not null && acked)
            {
                _pendingAcks[(e.ClientId, publish.PacketIdentifier)] = (durable, arrived);
            }
        }
        catch (Exception ex) when (ex is ChannelClosedException or OperationCanceledException or InvalidOperationException)
        {
            // Not accepted (the agent is stopping): do not process or acknowledge; drop the connection so that the
            // client sends it again to the next incarnation.
            e.ProcessPacket = false;
            LogNotDurable(logger, e.ClientId, ex.Message);
            DisconnectLater(e.ClientId);
        }
    }

    private async Task OnOutboundPacketAsync(InterceptingPacketEventArgs e)
    {
        var packetId = e.Packet switch
        {
            MqttPubAckPacket ack => ack.PacketIdentifier,
            MqttPubRecPacket rec => rec.PacketIdentifier,
            _ => (ushort)0,
        };
        if (packetId == 0 || !_pendingAcks.TryRemove((e.ClientId, packetId), out var pending))
        {
            return;
        }

        try
        {
            await pending.Durable.ConfigureAwait(false);
            Log.EdgeMetrics.AckDelay.Record(Log.EdgeMetrics.Ms(pending.Arrived, System.Diagnostics.Stopwatch.GetTimestamp()));

            // The edge itself consumed the event: "no matching subscribers" (MQTT 5) would read as a failure to
            // clients that check for Success.
            if (e.Packet is MqttPubAckPacket { ReasonCode: MqttPubAckReasonCode.NoMatchingSubscribers } puback)
            {
                puback.ReasonCode = MqttPubAckReasonCode.Success;
            }
            else if (e.Packet is MqttPubRecPacket { ReasonCode: MqttPubRecReasonCode.NoMatchingSubscribers } pubrec)
            {
                pubrec.ReasonCode = MqttPubRecReasonCode.Success;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The commit failed: this message is not durable, so it must not be acknowledged.
            e.ProcessPacket = false;
            LogNotDurable(logger, e.ClientId, ex.Message);
            DisconnectLater(e.ClientId);
        }
    }

    private void DisconnectLater(string clientId)
    {
        // Not from inside the client's own packet loop: that would wait on itself.
        _ = Task.Run(async () =>
        {
            try
            {
                foreach (var client in await server.GetClientsAsync().ConfigureAwait(false))
                {
                    if (client.Id == clientId)
                    {
                        await client.DisconnectAsync().ConfigureAwait(false);
                    }
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogNotDurable(logger, clientId, ex.Message);
            }
        });
    }

    private Task OnClientDisconnectedAsync(ClientDisconnectedEventArgs e)
    {
        foreach (var key in _pendingAcks.Keys)
        {
            if (key.ClientId == e.ClientId)
            {
                _pendingAcks.TryRemove(key, out _);
            }
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {ClientId} is more than Edge:Mqtt:MaxPendingPerClient={Max} messages behind: its oldest queued message was dropped")]
    private static partial void LogSubscriberOverflow(ILogger logger, string clientId, int max);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded MQTT broker listening on {Bind}:{Port}")]
    private static partial void LogListening(ILogger logger, string bind, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publish from {ClientId} not made durable ({Reason}); not acknowledged, closing its connection so it redelivers")]
    private static partial void LogNotDurable(ILogger logger, string clientId, string reason);
}
