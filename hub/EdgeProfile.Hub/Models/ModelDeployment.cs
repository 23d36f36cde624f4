namespace EdgeProfile.Hub.Models;

/// <summary>One entry of the deployment history: a deploy of <see cref="Version"/> or a rollback, to some stores or all.</summary>
/// <param name="Revision">Its number; edges watch the latest.</param>
/// <param name="At">When.</param>
/// <param name="Action"><c>deploy</c> or <c>rollback</c>.</param>
/// <param name="Version">Deploy: the version; rollback: null (each store returns to its own previous model).</param>
/// <param name="Stores">The stores; empty: every store (a deploy only).</param>
/// <param name="Actor">Who did it.</param>
public sealed record ModelDeployment(long Revision, DateTimeOffset At, string Action, string? Version, IReadOnlyList<string> Stores, string Actor);

/// <summary>What a rollback did: per store, the model it leaves and the one it returns to; stores it had to skip.</summary>
public sealed record RollbackResult(ModelDeployment Deployment, IReadOnlyList<StoreMove> Moves, IReadOnlyList<string> Skipped);

/// <summary>A store's assignment moving from one model to another.</summary>
public sealed record StoreMove(string StoreId, string From, string To);

/// <summary>A store's assigned model and its last report (<c>GET /api/models/status</c>).</summary>
public sealed record StoreModelStatus(
    string StoreId,
    string? Assigned,
    string? ReportedVersion,
    string? Outcome,
    string? Message,
    string? Serving,
    DateTimeOffset? ReportedAt);

/// <summary>Outcomes a store reports about an assignment.</summary>
public static class ModelOutcomes
{
    /// <summary>The canary passed; the store serves the version.</summary>
    public const string Deployed = "deployed";

    /// <summary>The store refused the version (download, integrity or canary failure) and keeps its model.</summary>
    public const string Refused = "refused";

    /// <summary>The store went back to the model it served before.</summary>
    public const string RolledBack = "rolled_back";

    /// <summary>Whether <paramref name="outcome"/> is one of the above.</summary>
    public static bool IsKnown(string outcome) => outcome is Deployed or Refused or RolledBack;
}
