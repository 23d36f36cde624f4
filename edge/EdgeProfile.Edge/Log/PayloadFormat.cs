namespace EdgeProfile.Edge.Log;

/// <summary>Encoding of a stored message.</summary>
public enum PayloadFormat
{
    /// <summary>UTF-8 JSON (ep/v1/{store}/events and IoT-Hub-style topics).</summary>
    Json = 0,

    /// <summary>Protobuf <c>edgeprofile.v1.Event</c> (ep/v1/{store}/events.pb).</summary>
    Protobuf = 1,
}
