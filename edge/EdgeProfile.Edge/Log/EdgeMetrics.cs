using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EdgeProfile.Edge.Log;

/// <summary>
/// The log writer's own measurements, as .NET metrics (meter <c>EdgeProfile.Edge</c>; read with
/// <c>dotnet-counters</c>, an OpenTelemetry exporter or a <see cref="MeterListener"/>): how long a message waited in the
/// queue, how many messages a commit took, where a batch's time went (stream engine, statements outside it, of which
/// profile rows and feature checkpoints, and the commit itself), the time from arrival to the released acknowledgement
/// (queue wait + batch + commit + the hop back to the broker), and each WAL checkpoint.
/// </summary>
public static class EdgeMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "EdgeProfile.Edge";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Time from a message's arrival to the start of the batch that commits it (ms).</summary>
    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>("edgeprofile.log.queue_wait", "ms", "Time a message waited for the log writer");

    /// <summary>Messages per committed batch.</summary>
    public static readonly Histogram<int> BatchSize = Meter.CreateHistogram<int>("edgeprofile.log.batch_size", "{message}", "Messages per committed batch");

    /// <summary>Time a batch spent in the stream engine (ms).</summary>
    public static readonly Histogram<double> EngineTime = Meter.CreateHistogram<double>("edgeprofile.log.engine_time", "ms", "Stream engine time per batch");

    /// <summary>Time a batch spent before its commit outside the engine: log rows, profiles, outbox, checkpoints (ms).</summary>
    public static readonly Histogram<double> WriteTime = Meter.CreateHistogram<double>("edgeprofile.log.write_time", "ms", "Statement time per batch outside the engine");

    /// <summary>Time a batch spent writing feature checkpoints (ms).</summary>
    public static readonly Histogram<double> CheckpointTime = Meter.CreateHistogram<double>("edgeprofile.log.checkpoint_time", "ms", "Feature checkpoint time per batch");

    /// <summary>Time a batch spent writing the touched customers' profile rows (ms).</summary>
    public static readonly Histogram<double> ProfileTime = Meter.CreateHistogram<double>("edgeprofile.log.profile_time", "ms", "Profile row time per batch");

    /// <summary>Time of the batch's COMMIT, the WAL append and (with fsync durability) its flush (ms).</summary>
    public static readonly Histogram<double> CommitTime = Meter.CreateHistogram<double>("edgeprofile.log.commit_time", "ms", "Commit time per batch");

    /// <summary>Time from a message's arrival at the broker hook to its acknowledgement being released (ms).</summary>
    public static readonly Histogram<double> AckDelay = Meter.CreateHistogram<double>("edgeprofile.ingest.ack_delay", "ms", "Arrival to acknowledgement release");

    /// <summary>Time of one write-ahead-log checkpoint on the checkpointer's connection (ms), tagged <c>mode</c> passive or restart.</summary>
    public static readonly Histogram<double> WalCheckpointTime = Meter.CreateHistogram<double>("edgeprofile.log.wal_checkpoint_time", "ms", "WAL checkpoint time");

    internal static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
}
