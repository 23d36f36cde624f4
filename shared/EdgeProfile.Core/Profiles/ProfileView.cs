namespace EdgeProfile.Core.Profiles;

/// <summary>The features and tags of a <see cref="StoreProfile"/> as of a point in event time.</summary>
public sealed record ProfileView(
    string CustomerKey,
    IReadOnlyList<string> Identifiers,
    DateTimeOffset AsOf,
    int Visits7d,
    int Visits30d,
    double Spend7d,
    double Spend30d,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    string? LastCategory,
    string? LastChannel,
    long EventsTotal,
    IReadOnlyList<string> Channels,
    IReadOnlyList<ProfileTag> Tags);
