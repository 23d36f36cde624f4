using EdgeProfile.Core.Events;
using EdgeProfile.Edge.Log;
using EdgeProfile.Edge.Uplink;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Ingest;

/// <summary>
/// From an MQTT message to a queued log item: classify the topic, decode and validate, pseudonymise the
/// customer's identifiers. Runs on the broker's (or client's) threads, in parallel; the log writer is the only
/// serial step.
/// </summary>
public sealed class IngestPipeline
{
    private readonly EdgeOptions _options;
    private readonly EdgeIdentity _identity;
    private readonly LogWriter _writer;
    private readonly TimeProvider _clock;
    private readonly EventDecoder _decoder;

    /// <summary>Creates the pipeline.</summary>
    public IngestPipeline(IOptions<EdgeOptions> options, EdgeIdentity identity, LogWriter writer, EventDecoder decoder, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _identity = identity;
        _writer = writer;
        _clock = clock;
        _decoder = decoder;
    }

    /// <summary>
    /// Decodes a message and queues it for the log. Returns null when the topic is not an event topic; otherwise a
    /// task that completes when the message (event or dead letter) is durable. Throws when the agent is stopping.
    /// </summary>
    public async ValueTask<Task?> SubmitAsync(string topic, ReadOnlyMemory<byte> payload, bool awaitDurable, CancellationToken cancellationToken)
    {
        var item = Decode(topic, payload, awaitDurable);
        if (item is null)
        {
            return null;
        }

        await _writer.SubmitAsync(item, cancellationToken).ConfigureAwait(false);
        return item.Durable;
    }

    /// <summary>Decodes one message into a log item, or null when the topic carries no events.</summary>
    public IngestItem? Decode(string topic, ReadOnlyMemory<byte> payload, bool awaitDurable)
    {
        var kind = TopicRouter.Classify(topic, out var topicStore, out _);
        if (kind == TopicKind.None)
        {
            return null;
        }

        var result = _decoder.Decode(kind, topicStore, payload);
        var format = kind == TopicKind.Protobuf ? PayloadFormat.Protobuf : PayloadFormat.Json;
        // A loop, not LINQ: this runs for every message (bench-features' allocation samples).
        string[] keys = [];
        if (result.Event is { } ev)
        {
            var customerKeys = _identity.Pseudonymizer.KeysOf(ev.Customer);
            keys = new string[customerKeys.Count];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = customerKeys[i].ToString();
            }
        }

        return new IngestItem(topic, payload, format, result, _clock.GetUtcNow(), awaitDurable) { CustomerKeys = keys };
    }
}
