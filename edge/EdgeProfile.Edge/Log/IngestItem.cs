using EdgeProfile.Core.Events;

namespace EdgeProfile.Edge.Log;

/// <summary>
/// One received message on its way to the log: decoded (valid or not) and, for QoS ≥ 1, a completion that the
/// MQTT side awaits before it acknowledges.
/// </summary>
public sealed class IngestItem
{
    private readonly TaskCompletionSource? _durable;

    /// <summary>Creates an item; <paramref name="awaitDurable"/> makes <see cref="Durable"/> complete on commit.</summary>
    public IngestItem(string topic, ReadOnlyMemory<byte> payload, PayloadFormat format, DecodeResult decoded, DateTimeOffset receivedAt, bool awaitDurable)
    {
        Topic = topic;
        Payload = payload;
        Format = format;
        Decoded = decoded;
        ReceivedAt = receivedAt;
        QueuedTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
        _durable = awaitDurable ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) : null;
    }

    /// <summary>A control item the writer's timer queues once a second: not a message, never stored.</summary>
    internal static readonly IngestItem Tick = new("", ReadOnlyMemory<byte>.Empty, PayloadFormat.Json, default, DateTimeOffset.MinValue, awaitDurable: false);

    /// <summary>The MQTT topic.</summary>
    public string Topic { get; }

    /// <summary>The raw message.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>How the payload is encoded.</summary>
    public PayloadFormat Format { get; }

    /// <summary>The decoded event or the reason it is invalid.</summary>
    public DecodeResult Decoded { get; }

    /// <summary>The customer's keys (pseudonymised), most stable first; empty for an invalid message.</summary>
    public IReadOnlyList<string> CustomerKeys { get; init; } = [];

    /// <summary>Arrival time at the edge.</summary>
    public DateTimeOffset ReceivedAt { get; }

    /// <summary>When the item was made (<see cref="System.Diagnostics.Stopwatch"/> ticks), for the queue-wait metric.</summary>
    internal long QueuedTimestamp { get; }

    /// <summary>Completes once the item (event or dead letter) is committed; faults if it could not be.</summary>
    public Task Durable => _durable?.Task ?? Task.CompletedTask;

    internal void Commit() => _durable?.TrySetResult();

    internal void Fail(Exception error) => _durable?.TrySetException(error);
}
