using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Features;

/// <summary>The registry's log events (source-generated; ids 50-59).</summary>
internal static partial class FeatureLog
{
    [LoggerMessage(50, LogLevel.Information, "Feature registry seeded with {Count} built-in definitions (revision 1)")]
    public static partial void Seeded(ILogger logger, int count);

    [LoggerMessage(51, LogLevel.Information, "Feature registry at revision {Revision}: {Count} definitions")]
    public static partial void Loaded(ILogger logger, long revision, int count);

    [LoggerMessage(52, LogLevel.Information, "Feature registry revision {Revision}: {Changes}")]
    public static partial void Changed(ILogger logger, long revision, string changes);

    [LoggerMessage(53, LogLevel.Warning, "Feature definitions refused: {Reason}")]
    public static partial void Refused(ILogger logger, string reason);

    [LoggerMessage(54, LogLevel.Debug, "Store {StoreId} watches feature definitions from revision {KnownRevision} (registry at {Revision})")]
    public static partial void WatchStarted(ILogger logger, string storeId, long knownRevision, long revision);

    [LoggerMessage(55, LogLevel.Debug, "Store {StoreId} sent feature definitions revision {Revision}")]
    public static partial void Pushed(ILogger logger, string storeId, long revision);

    [LoggerMessage(56, LogLevel.Information, "Store {StoreId} knows feature revision {KnownRevision}, newer than the registry's {Revision} (a replaced hub?): sending the registry's set")]
    public static partial void KnownAhead(ILogger logger, string storeId, long knownRevision, long revision);
}
