using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeProfile.Cli.Mqtt;

/// <summary>
/// Publishes messages to one broker over one MQTT 3.1.1 connection with up to <c>maxInFlight</c> QoS 1 publishes
/// awaiting their PUBACK at once. Counts sent, acknowledged and failed publishes; the first failure is kept and
/// rethrown by <see cref="PublishAsync"/> and <see cref="FlushAsync"/>.
/// </summary>
public sealed class MqttEventPublisher : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly SemaphoreSlim _window;
    private readonly int _maxInFlight;
    private readonly MqttQualityOfServiceLevel _qos;
    private long _sent;
    private long _acked;
    private long _failed;
    private Exception? _failure;

    private MqttEventPublisher(IMqttClient client, BrokerAddress broker, int maxInFlight, MqttQualityOfServiceLevel qos)
    {
        _client = client;
        Broker = broker;
        _maxInFlight = maxInFlight;
        _window = new SemaphoreSlim(maxInFlight, maxInFlight);
        _qos = qos;
    }

    /// <summary>The broker.</summary>
    public BrokerAddress Broker { get; }

    /// <summary>Publishes handed to the client.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Publishes the broker acknowledged (PUBACK with success for QoS 1; written to the socket for QoS 0).</summary>
    public long Acked => Interlocked.Read(ref _acked);

    /// <summary>Publishes that failed or were refused.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Connects to <paramref name="broker"/> as <paramref name="clientId"/> (an explicit id; clean session).</summary>
    public static async Task<MqttEventPublisher> ConnectAsync(BrokerAddress broker, string clientId, int qos, int maxInFlight, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        var level = qos switch
        {
            0 => MqttQualityOfServiceLevel.AtMostOnce,
            1 => MqttQualityOfServiceLevel.AtLeastOnce,
            _ => throw new CliException($"--qos {qos} is not supported (use 0 or 1)", ExitCodes.Usage),
        };

        var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Host, broker.Port)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
            .WithTimeout(TimeSpan.FromSeconds(30));
        if (broker.Username is not null)
        {
            builder = builder.WithCredentials(broker.Username, broker.Password);
        }

        if (broker.Tls)
        {
            builder = builder.WithTlsOptions(o => o.UseTls());
        }

        try
        {
            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connectTimeout.CancelAfter(TimeSpan.FromSeconds(10));
            var result = await client.ConnectAsync(builder.Build(), connectTimeout.Token).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                throw new CliException($"broker {broker} refused the connection of client '{clientId}': {result.ResultCode} {result.ReasonString}");
            }
        }
        catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException or System.Net.Sockets.SocketException or IOException
                                   && !cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            var reason = ex is OperationCanceledException ? "no answer within 10 s" : ex.InnerException?.Message ?? ex.Message;
            throw new CliException($"cannot connect to broker {broker}: {reason}", ex);
        }
        catch
        {
            client.Dispose();
            throw;
        }

        return new MqttEventPublisher(client, broker, maxInFlight, level);
    }

    /// <summary>
    /// Starts publishing <paramref name="payload"/> on <paramref name="topic"/>; returns once it is in flight (waits
    /// while <c>maxInFlight</c> publishes are unacknowledged). <paramref name="onDone"/> runs when it is acknowledged or fails.
    /// </summary>
    public async Task PublishAsync(string topic, byte[] payload, CancellationToken cancellationToken, Action<bool>? onDone = null)
    {
        ThrowIfFailed();
        await _window.WaitAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfFailed();
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(_qos)
            .Build();
        Interlocked.Increment(ref _sent);
        _ = CompleteAsync(_client.PublishAsync(message, CancellationToken.None), onDone);
    }

    /// <summary>Waits until every publish in flight is acknowledged (or failed); throws the first failure.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < _maxInFlight; i++)
        {
            await _window.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        _window.Release(_maxInFlight);
        ThrowIfFailed();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_client.IsConnected)
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException or IOException)
        {
            // Best effort: the connection is going away anyway.
        }

        // The window semaphore is not disposed: publishes failing during the disconnect still release it.
        _client.Dispose();
    }

    private async Task CompleteAsync(Task<MqttClientPublishResult> publish, Action<bool>? onDone)
    {
        var ok = false;
        try
        {
            var result = await publish.ConfigureAwait(false);
            ok = result.IsSuccess;
            if (!ok)
            {
                Interlocked.CompareExchange(ref _failure, new CliException($"broker {Broker} refused a publish: {result.ReasonCode} {result.ReasonString}"), null);
            }
        }
        catch (Exception ex)
        {
            Interlocked.CompareExchange(ref _failure, new CliException($"publish to broker {Broker} failed: {ex.Message}", ex), null);
        }
        finally
        {
            Interlocked.Increment(ref ok ? ref _acked : ref _failed);
            _window.Release();
            onDone?.Invoke(ok);
        }
    }

    private void ThrowIfFailed()
    {
        if (Volatile.Read(ref _failure) is { } failure)
        {
            throw new CliException(failure.Message, failure);
        }
    }
}
