namespace EdgeProfile.Edge.Uplink;

/// <summary>The uplink's view of the hub, for <c>/api/health</c>.</summary>
public sealed class UplinkStatus
{
    /// <summary>True while the last call to the hub succeeded.</summary>
    public bool Connected { get; internal set; }

    /// <summary>The highest sequence the hub has acknowledged.</summary>
    public long AckedThrough { get; internal set; }

    /// <summary>When the hub last acknowledged a batch.</summary>
    public DateTimeOffset? LastAckAt { get; internal set; }

    /// <summary>The last error talking to the hub, if any.</summary>
    public string? LastError { get; internal set; }
}
