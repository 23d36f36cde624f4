namespace EdgeProfile.Hub.Api;

/// <summary>One entry of <c>GET /api/stores</c>: an enrolled store, CDN node or partner.</summary>
public sealed record StoreSummary(
    string StoreId,
    string Kind,
    DateTimeOffset EnrolledAt,
    bool Revoked,
    DateTimeOffset? LastSeen,
    long Backlog,
    long OldestBacklogAgeMs,
    long AckedThrough,
    string? ModelVersion);
