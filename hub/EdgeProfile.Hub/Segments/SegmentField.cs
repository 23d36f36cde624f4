namespace EdgeProfile.Hub.Segments;

/// <summary>A profile field a segment rule can compare. Every field is a number except <see cref="LastCategory"/>.</summary>
public enum SegmentField
{
    /// <summary><c>visits_7d</c>: visits over all stores in the last 7 days.</summary>
    Visits7d,

    /// <summary><c>visits_30d</c>: visits over all stores in the last 30 days.</summary>
    Visits30d,

    /// <summary><c>spend_7d</c>: spend over all stores in the last 7 days.</summary>
    Spend7d,

    /// <summary><c>spend_30d</c>: spend over all stores in the last 30 days.</summary>
    Spend30d,

    /// <summary><c>stores_seen</c>: how many stores have seen the customer.</summary>
    StoresSeen,

    /// <summary><c>last_seen_days</c>: whole days since the customer was last seen, at evaluation time.</summary>
    LastSeenDays,

    /// <summary><c>last_category</c> (text): the category of the latest store view.</summary>
    LastCategory,

    /// <summary><c>identifier_count</c>: identifiers linked into the profile.</summary>
    IdentifierCount,
}
