using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Log;

/// <summary>
/// Copies the write-ahead log into the database file from its own connection, so that no commit of the log writer
/// pays for it (SQLite's automatic checkpoint, run inside a commit, stalled that batch's acknowledgements for as long
/// as the copy and its fsync took).
/// <para>
/// A passive checkpoint waits for nobody, but under continuous ingest it never finds the log fully copied, and SQLite
/// only starts the log over from its beginning when it is: the file grew without bound (800 MB after 70,000 events),
/// every append extended it (the file system zeroes each new block) and a crash recovery would scan all of it. So
/// when a passive pass finds the log large and leaves little of it uncopied, it asks the log writer for a restart
/// (<see cref="RestartWanted"/>); the writer runs it between two batches on its own connection (<see cref="Restart"/>),
/// where it never waits for the write lock, copies that little, and the next commit writes from the start of the file
/// again. <c>journal_size_limit</c> keeps the file at the size a restart lets it reach, so appends overwrite blocks it
/// already has.
/// </para>
/// </summary>
public sealed partial class WalCheckpointer(EdgeDatabase db, IOptions<EdgeOptions> options, ILogger<WalCheckpointer> logger) : BackgroundService
{
    /// <summary>Time between passive passes.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest wait of a restart for readers of older snapshots before it gives up until it is asked again.</summary>
    public static readonly TimeSpan RestartWait = TimeSpan.FromMilliseconds(20);

    // A restart is asked for once the log holds at least Edge:Log:WalMb of frames (4 KiB pages; 512 MiB by default:
    // every ~7 s at 5,000 events/s; with 128 MiB it was every ~2 s) and a passive pass left at most RestartBacklog of
    // them uncopied; the catch-up (CatchUp) then shrinks what the restart copies while the writer waits to a few dozen.
    private const int RestartBacklog = 1_024;

    // Catch-up: at most this many passes, ending once a pass starts with at most SmallTail frames not yet copied.
    private const int MaxCatchUpPasses = 6;
    private const int SmallTail = 64;

    private readonly int _restartAfterFrames = (int)(options.Value.Log.WalMb * 1024L * 1024 / 4096);

    // A frame is a 4 KiB page and its 24-byte header; the file starts with a 32-byte header.
    private const long FrameBytes = 4096 + 24;

    /// <summary>
    /// Bytes of write-ahead log kept on disk after a restart (SQLite's <c>journal_size_limit</c>): twice what the log
    /// holds when a restart is first asked for. The restart comes a pass or more after that, so the file always ends
    /// somewhat past the threshold; with a limit at the threshold (as before, and counted in pages, not frames) every
    /// restart cut the file back by some MB and the next cycle's commits extended it again, each extension a block
    /// allocation in the file system's journal that the commits' fsyncs waited for. With the headroom the file keeps
    /// its blocks and appends overwrite them; after a burst (a backfill) it is still cut back to this size.
    /// </summary>
    public long KeptLogBytes => KeptLogBytesFor(_restartAfterFrames);

    /// <summary>See <see cref="KeptLogBytes"/>: the limit for a restart threshold of <paramref name="restartAfterFrames"/>.</summary>
    internal static long KeptLogBytesFor(int restartAfterFrames) => 32 + (2L * restartAfterFrames * FrameBytes);

    private volatile bool _restartWanted;

    /// <summary>Set by a passive pass that found the log large and nearly all copied; cleared by <see cref="Restart"/>.</summary>
    public bool RestartWanted => _restartWanted;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        using var conn = db.Open();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    if (Pass(conn, _restartAfterFrames).RestartWanted)
                    {
                        CatchUp(conn);
                        _restartWanted = true;
                    }
                }
                catch (SqliteException ex)
                {
                    LogFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping; the writer's connection checkpoints when it closes.
        }
    }

    /// <summary>
    /// Before a restart is asked for: passes back to back, each copying what the writer appended while the one before
    /// ran, until what is left uncopied is about one commit's worth. The restart copies and fsyncs that tail while the
    /// writer waits: after a single pass it was the ~20 ms of commits the pass overlapped (hundreds of pages, a 40-115
    /// ms stall of ingest in bench-features every ~7 s at 5,000 events/s); after the catch-up it is a few dozen.
    /// </summary>
    private static void CatchUp(SqliteConnection conn)
    {
        var copied = -1L;
        for (var i = 0; i < MaxCatchUpPasses; i++)
        {
            var (_, frames, nowCopied) = Checkpoint(conn, "PASSIVE");
            var appended = copied < 0 ? long.MaxValue : frames - copied;
            copied = nowCopied;
            if (appended <= SmallTail)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Run by the log writer between batches on its connection (it holds no transaction then): copies what is left of
    /// the log and makes the next commit start it over. Returns whether it did (false: a reader still used the log).
    /// </summary>
    public bool Restart(SqliteConnection writer)
    {
        _restartWanted = false;
        return RestartLog(writer, KeptLogBytes);
    }

    /// <summary>See <see cref="Restart"/>; for a connection that holds no transaction and is the only writer.</summary>
    internal static bool RestartLog(SqliteConnection writer, long keptLogBytes)
    {
        EdgeDatabase.Exec(writer, $"PRAGMA journal_size_limit={keptLogBytes}; PRAGMA busy_timeout={(int)RestartWait.TotalMilliseconds};");
        try
        {
            return !Checkpoint(writer, "RESTART").Busy;
        }
        finally
        {
            EdgeDatabase.Exec(writer, "PRAGMA busy_timeout=10000;");
        }
    }

    /// <summary>
    /// One passive pass. Returns the log's frames and whether a restart is due: the log holds at least
    /// <paramref name="restartAfterFrames"/> frames and the pass left at most <paramref name="restartBacklog"/> uncopied.
    /// </summary>
    internal static (long Frames, bool RestartWanted) Pass(SqliteConnection conn, int restartAfterFrames, int restartBacklog = RestartBacklog)
    {
        var (_, frames, copied) = Checkpoint(conn, "PASSIVE");
        return (frames, frames >= restartAfterFrames && frames - copied <= restartBacklog);
    }

    private static (bool Busy, long Frames, long Copied) Checkpoint(SqliteConnection conn, string mode)
    {
        var started = Stopwatch.GetTimestamp();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"PRAGMA wal_checkpoint({mode});";
        using var reader = cmd.ExecuteReader();
        var result = reader.Read() ? (reader.GetInt64(0) != 0, reader.GetInt64(1), reader.GetInt64(2)) : (true, 0L, 0L);
        EdgeMetrics.WalCheckpointTime.Record(EdgeMetrics.Ms(started, Stopwatch.GetTimestamp()), new KeyValuePair<string, object?>("mode", mode.ToLowerInvariant()));
        return result;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "WAL checkpoint failed; it is retried at the next pass")]
    private static partial void LogFailed(ILogger logger, Exception ex);
}
