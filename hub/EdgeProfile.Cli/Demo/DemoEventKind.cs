namespace EdgeProfile.Cli.Demo;

/// <summary>What a generated message is meant to show.</summary>
public enum DemoEventKind
{
    /// <summary>A valid v1 event, stored by the edge.</summary>
    Valid,

    /// <summary>A device retry: the same bytes (same eventId) as an earlier valid event, stored once.</summary>
    Duplicate,

    /// <summary>A deliberately broken message that the edge dead-letters.</summary>
    Malformed,
}
