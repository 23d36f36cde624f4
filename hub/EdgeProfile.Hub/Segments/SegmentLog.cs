using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Segments;

/// <summary>The segments' log events (source-generated; ids 80-89).</summary>
internal static partial class SegmentLog
{
    [LoggerMessage(80, LogLevel.Information, "Segment {Name} v{Version} defined: {Expression} ({Members} members)")]
    public static partial void Defined(ILogger logger, string name, long version, string expression, int members);

    [LoggerMessage(81, LogLevel.Information, "Segment {Name} deleted ({Members} members)")]
    public static partial void Deleted(ILogger logger, string name, int members);

    [LoggerMessage(82, LogLevel.Warning, "Segment definition refused: {Reason}")]
    public static partial void Refused(ILogger logger, string reason);

    [LoggerMessage(83, LogLevel.Error, "Segment {Name} is skipped: its stored expression does not parse ({Reason}); define it again")]
    public static partial void Unreadable(ILogger logger, string name, string reason);

    [LoggerMessage(84, LogLevel.Debug, "Segments: {Segments} segment(s) loaded")]
    public static partial void Loaded(ILogger logger, int segments);
}
