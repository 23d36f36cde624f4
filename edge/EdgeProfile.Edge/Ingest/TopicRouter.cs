namespace EdgeProfile.Edge.Ingest;

/// <summary>Recognises the event topics of contracts.md §1.</summary>
public static class TopicRouter
{
    /// <summary>The subscriptions an edge of <paramref name="storeId"/> needs on an external broker.</summary>
    public static IReadOnlyList<string> Subscriptions(string storeId) =>
        [$"ep/v1/{storeId}/events", $"ep/v1/{storeId}/events.pb", "devices/+/messages/events/#"];

    /// <summary>
    /// Classifies <paramref name="topic"/>; <paramref name="storeId"/> is the store the topic names (event topics) and
    /// <paramref name="deviceId"/> the device (device topics).
    /// </summary>
    public static TopicKind Classify(string topic, out string? storeId, out string? deviceId)
    {
        ArgumentNullException.ThrowIfNull(topic);
        storeId = null;
        deviceId = null;
        var parts = topic.Split('/');
        if (parts.Length == 4 && parts[0] == "ep" && parts[1] == "v1" && parts[2].Length > 0)
        {
            storeId = parts[2];
            return parts[3] switch
            {
                "events" => TopicKind.Json,
                "events.pb" => TopicKind.Protobuf,
                _ => TopicKind.None,
            };
        }

        // devices/{deviceId}/messages/events/ with an optional property bag after the last slash.
        if (parts.Length >= 4 && parts[0] == "devices" && parts[1].Length > 0 && parts[2] == "messages" && parts[3] == "events")
        {
            deviceId = parts[1];
            return TopicKind.Device;
        }

        return TopicKind.None;
    }
}
