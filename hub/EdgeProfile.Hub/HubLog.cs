using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub;

/// <summary>The hub's log events (source-generated; constant templates).</summary>
internal static partial class HubLog
{
    [LoggerMessage(1, LogLevel.Information, "Hub database {Location} (schema v{SchemaVersion})")]
    public static partial void Started(ILogger logger, string location, int schemaVersion);

    [LoggerMessage(2, LogLevel.Warning, "Operator token generated and stored in {Path} (mode 0600); send it as 'Authorization: Bearer <token>'")]
    public static partial void OperatorTokenCreated(ILogger logger, string path);

    [LoggerMessage(3, LogLevel.Information, "Operator token read from {Path}")]
    public static partial void OperatorTokenRead(ILogger logger, string path);

    [LoggerMessage(4, LogLevel.Information, "Operator token taken from configuration Hub:OperatorToken")]
    public static partial void OperatorTokenConfigured(ILogger logger);

    [LoggerMessage(5, LogLevel.Warning, "{Path} is readable by other users; restrict it with chmod 600")]
    public static partial void SecretExposed(ILogger logger, string path);

    [LoggerMessage(10, LogLevel.Information, "Store {StoreId} enrolled as {Kind} (agent {AgentVersion})")]
    public static partial void StoreEnrolled(ILogger logger, string storeId, string kind, string agentVersion);

    [LoggerMessage(11, LogLevel.Warning, "Enrollment of store {StoreId} refused: {Reason}")]
    public static partial void EnrollmentRefused(ILogger logger, string storeId, string reason);

    [LoggerMessage(12, LogLevel.Warning, "gRPC call {Method} as store {StoreId} refused: {Reason}")]
    public static partial void StoreAuthFailed(ILogger logger, string storeId, string method, string reason);

    [LoggerMessage(13, LogLevel.Information, "Enrollment token created for {Kind} {StoreId}, expires {ExpiresAt}")]
    public static partial void EnrollmentTokenCreated(ILogger logger, string kind, string storeId, DateTimeOffset expiresAt);

    [LoggerMessage(14, LogLevel.Warning, "Store {StoreId} revoked")]
    public static partial void StoreRevoked(ILogger logger, string storeId);

    [LoggerMessage(20, LogLevel.Debug, "Store {StoreId}: applied {Applied} deltas, skipped {Skipped} already applied, acked through {AckedThrough}")]
    public static partial void BatchApplied(ILogger logger, string storeId, int applied, int skipped, long ackedThrough);

    [LoggerMessage(21, LogLevel.Warning, "Store {StoreId}: batch refused: {Reason}")]
    public static partial void BatchRefused(ILogger logger, string storeId, string reason);

    [LoggerMessage(22, LogLevel.Information, "Store {StoreId}: batch not applied: {Reason}")]
    public static partial void BatchGap(ILogger logger, string storeId, string reason);

    [LoggerMessage(30, LogLevel.Debug, "Profile ep:{From} merged into ep:{Into}")]
    public static partial void ProfilesMerged(ILogger logger, string from, string into);

    [LoggerMessage(31, LogLevel.Warning, "Store {StoreId}: identifier {Key} not linked to {Anchor}: {Reason}")]
    public static partial void IdentityRejected(ILogger logger, string storeId, string key, string anchor, string reason);

    [LoggerMessage(32, LogLevel.Information, "Merge {Merge} undone: {Count} identifier(s) moved from {From} back to {Restored}")]
    public static partial void ProfileUnmerged(ILogger logger, long merge, string from, string restored, int count);

    [LoggerMessage(40, LogLevel.Error, "Unhandled error serving {Method} {Path}")]
    public static partial void ApiError(ILogger logger, Exception exception, string method, string path);
}
