namespace EdgeProfile.Cli.Demo;

/// <summary>One generated MQTT message: UTF-8 JSON <paramref name="Payload"/> for <paramref name="Topic"/>.</summary>
/// <param name="StoreId">The site it is published to.</param>
/// <param name="Topic">The MQTT topic (<c>ep/v1/{storeId}/events</c>).</param>
/// <param name="Payload">The message bytes.</param>
/// <param name="Kind">Valid, a deliberate duplicate, or deliberately malformed.</param>
/// <param name="EventId">The eventId the message carries (null when the payload is not readable JSON).</param>
/// <param name="Type">The event type (or the bad value of a malformed one).</param>
/// <param name="OccurredAt">The event time.</param>
/// <param name="CustomerIndex">The customer's index in <see cref="DemoEventGenerator.Customers"/>, or -1.</param>
/// <param name="Channel">The channel the message names.</param>
/// <param name="Spend">Money the event moves in CNY: the amount of a purchase, minus that of a return, else 0.</param>
public sealed record DemoEvent(
    string StoreId,
    string Topic,
    byte[] Payload,
    DemoEventKind Kind,
    string? EventId,
    string Type,
    DateTimeOffset OccurredAt,
    int CustomerIndex,
    string Channel,
    double Spend);
