using EdgeProfile.Core.Customers;

namespace EdgeProfile.Edge.Uplink;

/// <summary>
/// Who this edge is to the hub (its credential, once enrolled) and the organisation's pseudonymisation key.
/// Filled by <see cref="EnrollmentStartup"/> before ingest starts.
/// </summary>
public sealed class EdgeIdentity
{
    private Pseudonymizer? _pseudonymizer;

    /// <summary>The pseudonymizer; available once the agent has started.</summary>
    public Pseudonymizer Pseudonymizer => _pseudonymizer ?? throw new InvalidOperationException("The edge identity is not loaded yet.");

    /// <summary>The store credential for hub calls, or null when standalone.</summary>
    public string? Credential { get; private set; }

    /// <summary>True when the edge holds a hub credential.</summary>
    public bool Enrolled => Credential is not null;

    internal void Set(byte[] pseudonymKey, string? credential)
    {
        _pseudonymizer = new Pseudonymizer(pseudonymKey);
        Credential = credential;
    }
}
