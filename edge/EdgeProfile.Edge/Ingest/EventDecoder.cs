using EdgeProfile.Core.Events;
using EdgeProfile.Edge.Log;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Ingest;

/// <summary>
/// Turns a message (topic + payload) into a validated event or the reason it is invalid. Used by ingest and, on
/// stored events, by feature backfill, so both read an event the same way.
/// </summary>
public sealed class EventDecoder
{
    private readonly EdgeOptions _options;
    private readonly EventValidator _validator;

    /// <summary>Creates the decoder.</summary>
    public EventDecoder(IOptions<EdgeOptions> options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _validator = new EventValidator(clock, _options.MaxClockSkew);
    }

    /// <summary>Decodes a message of an event topic; <paramref name="kind"/> comes from <see cref="TopicRouter.Classify"/>.</summary>
    public DecodeResult Decode(TopicKind kind, string? topicStore, ReadOnlyMemory<byte> payload)
    {
        var store = _options.StoreId;
        DecodeResult result;
        try
        {
            result = kind switch
            {
                TopicKind.Protobuf => ProtobufEventReader.Decode(payload, topicStore ?? store, _validator),
                TopicKind.Device => JsonEventReader.Decode(payload, store, _validator, defaultStoreId: store),
                _ => JsonEventReader.Decode(payload, topicStore ?? store, _validator),
            };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A decoder bug must cost one message, never the agent or its neighbours.
            result = DecodeResult.Invalid("message", $"could not be decoded ({ex.GetType().Name}: {ex.Message})");
        }

        if (result.Event is { } e && !string.Equals(e.StoreId, store, StringComparison.Ordinal))
        {
            result = DecodeResult.Invalid("storeId", $"'{e.StoreId}' is not served by this edge (Edge:StoreId={store})");
        }

        return result;
    }

    /// <summary>
    /// Decodes an event already in the log (for backfill); null when it no longer decodes. It passed validation when it
    /// arrived, and time has only moved on since, so the clock-skew rule still holds.
    /// </summary>
    public CustomerEvent? DecodeStored(string topic, PayloadFormat format, ReadOnlyMemory<byte> payload)
    {
        var kind = TopicRouter.Classify(topic, out var topicStore, out _);
        if (kind == TopicKind.None)
        {
            kind = format == PayloadFormat.Protobuf ? TopicKind.Protobuf : TopicKind.Json;
        }

        return Decode(kind, topicStore, payload).Event;
    }
}
