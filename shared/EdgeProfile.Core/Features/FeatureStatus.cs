namespace EdgeProfile.Core.Features;

/// <summary>How much a feature value can be trusted at the moment it is read.</summary>
public enum FeatureStatus
{
    /// <summary>The definition has events for the customer and, if it has a TTL, the latest is recent enough.</summary>
    Fresh,

    /// <summary>The latest event applied to the definition is older than its TTL.</summary>
    Stale,

    /// <summary>The definition never got an event for the customer; the value is that of an empty window.</summary>
    Missing,
}
