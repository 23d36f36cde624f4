namespace EdgeProfile.Edge.Ingest;

/// <summary>What an MQTT topic carries.</summary>
public enum TopicKind
{
    /// <summary>Not an event topic; the broker routes it and ingest ignores it.</summary>
    None,

    /// <summary><c>ep/v1/{storeId}/events</c>: one JSON event.</summary>
    Json,

    /// <summary><c>ep/v1/{storeId}/events.pb</c>: one protobuf Event.</summary>
    Protobuf,

    /// <summary><c>devices/{deviceId}/messages/events/...</c>: IoT-Hub-style device telemetry, JSON.</summary>
    Device,
}
