using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Edge.Log;

/// <summary>
/// Copies the write-ahead log into the database file from its own connection, once a second (a passive checkpoint
/// waits for nobody). The log writer turns SQLite's automatic checkpoint off: run inside a commit, it stalled the
/// acknowledgements of that batch for as long as the copy and its fsync took.
/// </summary>
public sealed partial class WalCheckpointer(EdgeDatabase db, ILogger<WalCheckpointer> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        using var conn = db.Open();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    EdgeDatabase.Exec(conn, "PRAGMA wal_checkpoint(PASSIVE);");
                }
                catch (Microsoft.Data.Sqlite.SqliteException ex)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "WAL checkpoint failed; it is retried in a second")]
    private static partial void LogFailed(ILogger logger, Exception ex);
}
