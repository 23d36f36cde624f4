namespace EdgeProfile.Hub.Api;

/// <summary>Features over all stores: visits and spend summed, last seen the latest, category from the latest store view.</summary>
public sealed record GlobalFeatures(
    int Visits7d,
    int Visits30d,
    double Spend7d,
    double Spend30d,
    DateTimeOffset? LastSeen,
    string? LastCategory,
    IReadOnlyList<string> Channels,
    int StoresSeen);
