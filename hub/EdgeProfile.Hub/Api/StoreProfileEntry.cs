namespace EdgeProfile.Hub.Api;

/// <summary>A store's latest view of the customer, as last uploaded (sequence <see cref="UpdatedSequence"/>).</summary>
public sealed record StoreProfileEntry(
    string StoreId,
    string CustomerKey,
    int Visits7d,
    int Visits30d,
    double Spend7d,
    double Spend30d,
    DateTimeOffset? LastSeen,
    string? LastCategory,
    string? LastChannel,
    long EventsTotal,
    IReadOnlyList<string> Tags,
    long UpdatedSequence);
