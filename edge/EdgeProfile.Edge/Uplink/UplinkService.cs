using EdgeProfile.Edge.Log;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Uplink;

/// <summary>
/// Store-and-forward of profile deltas to the hub. Reads the outbox in sequence order, uploads in batches, and
/// deletes what the hub acknowledged. After any failure it asks the hub for its cursor and resumes from there, so
/// a WAN or hub outage causes neither a gap nor a duplicate. Each batch also carries customers' latest model scores the
/// hub does not have yet (<see cref="ScoreUplink"/>; not sequenced, newest wins), marked as the hub's once it acks.
/// </summary>
public sealed partial class UplinkService(
    EdgeDatabase db,
    EdgeStats stats,
    OutboxSignal signal,
    EdgeIdentity identity,
    UplinkStatus status,
    IOptions<EdgeOptions> options,
    ILogger<UplinkService> logger) : BackgroundService
{
    /// <summary>How long an upload in flight at shutdown may still take, so that the hub applies it instead of seeing a reset stream.</summary>
    private static readonly TimeSpan UploadGraceOnStop = TimeSpan.FromSeconds(5);

    /// <summary>At most this many customers' scores per batch.</summary>
    private const int ScoresPerBatch = 1000;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.HubUrl) || identity.Credential is null)
        {
            return;
        }

        using var hub = new HubClients(o.HubUrl);
        var headers = HubClients.StoreHeaders(o.StoreId, identity.Credential);
        using var conn = db.Open();
        // Uploads end with the stopping token plus a grace period; nothing new starts once it is cancelled.
        using var uploadCts = new CancellationTokenSource();
        using var onStop = stoppingToken.Register(() => uploadCts.CancelAfter(UploadGraceOnStop));
        var backoff = TimeSpan.FromMilliseconds(200);
        var outage = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var cursor = await hub.Uplink.GetCursorAsync(new V1.CursorRequest { Counters = Counters() }, headers, DateTime.UtcNow.AddSeconds(10), stoppingToken).ConfigureAwait(false);
                AlignSequence(conn, cursor.AckedThrough);
                Acknowledge(conn, cursor.AckedThrough);
                if (outage)
                {
                    LogReconnected(logger, o.HubUrl, cursor.AckedThrough, stats.OutboxBacklog);
                    outage = false;
                }

                status.Connected = true;
                status.LastError = null;
                backoff = TimeSpan.FromMilliseconds(200);
                await PumpAsync(conn, hub, headers, cursor.AckedThrough, o, uploadCts.Token, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && stoppingToken.IsCancellationRequested)
            {
                // A call cut short by our own shutdown, not a hub outage.
                break;
            }
            catch (Exception ex) when (ex is RpcException or HttpRequestException or IOException)
            {
                status.Connected = false;
                status.LastError = ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message;
                if (ex is RpcException { StatusCode: StatusCode.Unauthenticated or StatusCode.PermissionDenied } denied)
                {
                    LogRefused(logger, o.HubUrl, denied.Status.Detail);
                    backoff = TimeSpan.FromSeconds(30);
                }
                else if (ex is RpcException { StatusCode: StatusCode.FailedPrecondition } gap)
                {
                    LogGap(logger, gap.Status.Detail);
                    backoff = TimeSpan.FromSeconds(30);
                }
                else if (!outage)
                {
                    LogOutage(logger, o.HubUrl, status.LastError);
                    outage = true;
                }

                try
                {
                    await Task.Delay(backoff, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, Math.Max(o.Uplink.MaxBackoff.TotalMilliseconds, backoff.TotalMilliseconds)));
            }
        }
    }

    private async Task PumpAsync(
        SqliteConnection conn, HubClients hub, Metadata headers, long ackedThrough, EdgeOptions o, CancellationToken uploadToken, CancellationToken stoppingToken)
    {
        using var read = conn.CreateCommand();
        read.CommandText = "SELECT seq, payload FROM outbox WHERE seq > $after ORDER BY seq LIMIT $n";
        var after = read.Parameters.Add(new SqliteParameter("$after", 0L));
        read.Parameters.Add(new SqliteParameter("$n", o.Uplink.BatchSize));
        while (!stoppingToken.IsCancellationRequested)
        {
            after.Value = ackedThrough;
            var batch = new V1.DeltaBatch();
            using (var r = read.ExecuteReader())
            {
                while (r.Read())
                {
                    var delta = V1.ProfileDelta.Parser.ParseFrom((byte[])r.GetValue(1));
                    delta.Sequence = r.GetInt64(0);
                    batch.Deltas.Add(delta);
                }
            }

            var (scores, withheld) = ScoreUplink.Pending(conn, ScoresPerBatch);
            if (withheld.Count > 0)
            {
                // Customers who withdrew consent: their scores stay at the store.
                ScoreUplink.MarkUploaded(conn, withheld);
            }

            batch.Scores.Add(scores);
            if (batch.Deltas.Count == 0 && batch.Scores.Count == 0)
            {
                if (withheld.Count > 0)
                {
                    continue;
                }

                // Idle: wake on new deltas or scores, or now and then to report health.
                if (!await signal.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken).ConfigureAwait(false))
                {
                    await hub.Uplink.GetCursorAsync(new V1.CursorRequest { Counters = Counters() }, headers, DateTime.UtcNow.AddSeconds(10), stoppingToken).ConfigureAwait(false);
                }

                continue;
            }

            // The backlog after this batch: its oldest delta is the first one the batch leaves behind.
            batch.Backlog = Math.Max(0, stats.OutboxBacklog - batch.Deltas.Count);
            var oldest = batch.Backlog == 0 ? 0 : OldestCreatedAfter(conn, batch.Deltas.Count == 0 ? ackedThrough : batch.Deltas[^1].Sequence);
            batch.OldestBacklogAgeMs = oldest == 0 ? 0 : Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - oldest);
            batch.Counters = Counters();
            var ack = await hub.Uplink.UploadAsync(batch, headers, DateTime.UtcNow.AddSeconds(30), uploadToken).ConfigureAwait(false);
            ackedThrough = ack.AckedThrough;
            Acknowledge(conn, ackedThrough);
            if (batch.Scores.Count > 0)
            {
                // Refused entries too: the hub found them invalid, and sending them again would not change that.
                ScoreUplink.MarkUploaded(conn, batch.Scores);
                if (ack.ScoresRefused > 0)
                {
                    LogScoresRefused(logger, ack.ScoresRefused, batch.Scores.Count);
                }
            }
        }
    }

    // The ingest counters the hub's fleet view shows (ingest rate, dead letters, late events).
    private V1.EdgeCounters Counters() => new()
    {
        EventsStored = stats.EventsStored,
        DeadLettered = stats.DeadLettered,
        LateEvents = stats.LateEvents,
        Duplicates = stats.DuplicatesIgnored,
    };

    /// <summary>
    /// The hub keeps a store's cursor across re-enrollment. An edge whose outbox numbering is behind that cursor (a new
    /// data dir enrolled under an existing store id) renumbers its pending deltas to follow it, so that the hub does
    /// not take them for deliveries it already has.
    /// </summary>
    private void AlignSequence(SqliteConnection conn, long cursor)
    {
        using var tx = conn.BeginTransaction(deferred: false);
        var assigned = Query(conn, tx, "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name='outbox'),0)");
        if (assigned >= cursor)
        {
            return;
        }

        var pending = Query(conn, tx, "SELECT COUNT(*) FROM outbox");
        var first = Query(conn, tx, "SELECT COALESCE(MIN(seq),0) FROM outbox");
        if (pending > 0)
        {
            // Two steps so that no intermediate value collides with an existing key.
            var shift = cursor + 1 - first;
            Exec(conn, tx, "UPDATE outbox SET seq = -seq");
            Exec(conn, tx, $"UPDATE outbox SET seq = -seq + {shift}");
        }

        Exec(conn, tx, $"INSERT OR REPLACE INTO sqlite_sequence(name, seq) VALUES('outbox', {cursor + pending})");
        tx.Commit();
        LogRenumbered(logger, assigned, cursor, pending);
    }

    private static long OldestCreatedAfter(SqliteConnection conn, long seq)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COALESCE((SELECT created_at_ms FROM outbox WHERE seq > $seq ORDER BY seq LIMIT 1),0)";
        cmd.Parameters.AddWithValue("$seq", seq);
        return (long)cmd.ExecuteScalar()!;
    }

    private static long Query(SqliteConnection conn, SqliteTransaction tx, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return (long)cmd.ExecuteScalar()!;
    }

    private static void Exec(SqliteConnection conn, SqliteTransaction tx, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private void Acknowledge(SqliteConnection conn, long ackedThrough)
    {
        using var tx = conn.BeginTransaction();
        using var sum = conn.CreateCommand();
        sum.Transaction = tx;
        sum.CommandText = "SELECT COUNT(*), COALESCE(SUM(length(payload)),0) FROM outbox WHERE seq <= $acked";
        sum.Parameters.AddWithValue("$acked", ackedThrough);
        long rows, bytes;
        using (var r = sum.ExecuteReader())
        {
            r.Read();
            rows = r.GetInt64(0);
            bytes = r.GetInt64(1);
        }

        if (rows > 0)
        {
            using var del = conn.CreateCommand();
            del.Transaction = tx;
            del.CommandText = "DELETE FROM outbox WHERE seq <= $acked";
            del.Parameters.AddWithValue("$acked", ackedThrough);
            del.ExecuteNonQuery();
        }

        using var oldest = conn.CreateCommand();
        oldest.Transaction = tx;
        oldest.CommandText = "SELECT COALESCE(MIN(created_at_ms),0) FROM outbox";
        var oldestMs = (long)oldest.ExecuteScalar()!;
        tx.Commit();
        stats.RemoveOutbox(rows, bytes, oldestMs);
        status.AckedThrough = ackedThrough;
        status.LastAckAt = DateTimeOffset.UtcNow;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hub at {HubUrl} unreachable ({Error}); deltas wait in the outbox")]
    private static partial void LogOutage(ILogger logger, string hubUrl, string? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Hub at {HubUrl} reachable again: acked through {Acked}, {Backlog} deltas to send")]
    private static partial void LogReconnected(ILogger logger, string hubUrl, long acked, long backlog);

    [LoggerMessage(Level = LogLevel.Error, Message = "Hub at {HubUrl} refused this store's credential: {Detail}. Re-enroll the store (delete credential.json and set Edge:EnrollmentToken)")]
    private static partial void LogRefused(ILogger logger, string hubUrl, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox numbering ({Assigned}) is behind the hub's cursor ({Cursor}) for this store (a re-enrolled data dir?): renumbered {Pending} pending deltas to follow it")]
    private static partial void LogRenumbered(ILogger logger, long assigned, long cursor, long pending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hub refused {Refused} of {Sent} customers' scores as invalid")]
    private static partial void LogScoresRefused(ILogger logger, int refused, int sent);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Hub reports a sequence gap: {Detail}")]
    private static partial void LogGap(ILogger logger, string detail);
}
