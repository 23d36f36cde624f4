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
    string? ModelVersion)
{
    /// <summary>Events the edge stored since it started, at its last report (null: it never reported counters).</summary>
    public long? EventsStored { get; init; }

    /// <summary>Invalid events the edge quarantined (dead letters) since it started, at its last report.</summary>
    public long? DeadLettered { get; init; }

    /// <summary>Events that arrived after newer events of the store (still applied), since it started.</summary>
    public long? LateEvents { get; init; }

    /// <summary>Redelivered events ignored by eventId since it started.</summary>
    public long? Duplicates { get; init; }

    /// <summary>When the edge last reported its counters.</summary>
    public DateTimeOffset? CountersAt { get; init; }

    /// <summary>Events stored per minute over the last window of at least 10 s between reports (null: not known yet).</summary>
    public double? IngestPerMinute { get; init; }
}
