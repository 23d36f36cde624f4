using System.Diagnostics.Metrics;
using EdgeProfile.Edge.Log;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Tests;

/// <summary>
/// The edge database's write path on real SQLite files: the write-ahead log stays bounded under continuous commits,
/// the version 7 upgrade keeps every profile and feature checkpoint, and the log writer reports its metrics.
/// </summary>
public sealed class WriteAheadLogTests
{
    private static EdgeDatabase Database(TempDir dir) =>
        new(Options.Create(new EdgeOptions { StoreId = EdgeHost.StoreId, DataDir = dir.Path }));

    private static void Commit(SqliteConnection writer, int transaction)
    {
        using var tx = writer.BeginTransaction();
        using var cmd = writer.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT OR REPLACE INTO scratch(id, body) VALUES ($id, randomblob(3000))";
        var id = cmd.Parameters.Add("$id", SqliteType.Integer);
        for (var i = 0; i < 20; i++)
        {
            // A working set of 400 rows, rewritten over and over, as profiles are.
            id.Value = ((transaction * 20) + i) % 400;
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
    }

    private static (long MaxFrames, int Restarts) Ingest(EdgeDatabase db, int transactions, bool restart)
    {
        using (var setup = db.Open())
        {
            EdgeDatabase.Exec(setup, "CREATE TABLE IF NOT EXISTS scratch(id INTEGER PRIMARY KEY, body BLOB NOT NULL);");
        }

        // The writer commits back to back on its own thread, as the log writer does under ingest, while passive
        // checkpoints run beside it: alone they never find the log fully copied. With restarts on, the writer runs one
        // between two commits when a pass asks for it, as the log writer does between batches.
        var wanted = 0;
        var restarts = 0;
        var writer = Task.Factory.StartNew(() =>
        {
            using var connection = db.Open();
            EdgeDatabase.Exec(connection, "PRAGMA wal_autocheckpoint=0;");
            for (var t = 0; t < transactions; t++)
            {
                Commit(connection, t);
                if (Interlocked.Exchange(ref wanted, 0) == 1 && WalCheckpointer.RestartLog(connection, (256 + 512) * 4096L))
                {
                    restarts++;
                }
            }
        }, TaskCreationOptions.LongRunning);

        using var checkpointer = db.Open();
        long maxFrames = 0;
        while (!writer.IsCompleted)
        {
            var (frames, restartWanted) = WalCheckpointer.Pass(checkpointer, restartAfterFrames: 256, restartBacklog: 512);
            maxFrames = Math.Max(maxFrames, frames);
            if (restart && restartWanted)
            {
                Volatile.Write(ref wanted, 1);
            }

            Thread.Sleep(2);
        }

        writer.GetAwaiter().GetResult();
        return (maxFrames, restarts);
    }

    [Fact]
    public void Under_continuous_commits_the_log_starts_over_instead_of_growing_without_bound()
    {
        using var bounded = new TempDir();
        var (boundedFrames, restarts) = Ingest(Database(bounded), 600, restart: true);

        // The same commits with passive checkpoints only: the log keeps every frame ever written.
        using var unbounded = new TempDir();
        var (unboundedFrames, none) = Ingest(Database(unbounded), 600, restart: false);

        Assert.Equal(0, none);
        Assert.True(unboundedFrames > 3_000, $"passive only: {unboundedFrames} frames");
        Assert.True(restarts >= 3, $"{restarts} restarts");
        Assert.True(boundedFrames < unboundedFrames / 3, $"with restarts the log peaked at {boundedFrames} frames, without at {unboundedFrames}");

        // Nothing written was lost to the restarts.
        using var check = Database(bounded).Open();
        Assert.Equal(400L, EdgeDatabase.Scalar<long>(check, "SELECT count(*) FROM scratch"));
        Assert.Equal("ok", EdgeDatabase.Scalar<string>(check, "PRAGMA integrity_check"));
    }

    [Fact]
    public async Task Restarts_keep_the_log_file_at_its_size_instead_of_cutting_it_back_each_time()
    {
        // The agent's own limit for a 512-frame threshold. A limit at the threshold cut the file back at every restart
        // (a restart always finds the log somewhat past it) and the next cycle's commits extended it again.
        const int threshold = 512;
        var limit = WalCheckpointer.KeptLogBytesFor(threshold);
        using var dir = new TempDir();
        var db = Database(dir);
        using (var setup = db.Open())
        {
            EdgeDatabase.Exec(setup, "CREATE TABLE IF NOT EXISTS scratch(id INTEGER PRIMARY KEY, body BLOB NOT NULL);");
        }

        var wal = Path.Combine(dir.Path, "edge.db-wal");
        var wanted = 0;
        var cycles = new List<(long Before, long After)>();
        var writer = Task.Factory.StartNew(() =>
        {
            using var connection = db.Open();
            EdgeDatabase.Exec(connection, "PRAGMA wal_autocheckpoint=0;");
            long before = -1;
            for (var t = 0; t < 900; t++)
            {
                Commit(connection, t);
                if (before >= 0)
                {
                    // The first commit after a restart writes from the start of the file.
                    cycles.Add((before, new FileInfo(wal).Length));
                    before = -1;
                }

                if (Interlocked.Exchange(ref wanted, 0) == 1)
                {
                    var size = new FileInfo(wal).Length;
                    if (WalCheckpointer.RestartLog(connection, limit))
                    {
                        before = size;
                    }
                }
            }
        }, TaskCreationOptions.LongRunning);

        using (var checkpointer = db.Open())
        {
            while (!writer.IsCompleted)
            {
                if (WalCheckpointer.Pass(checkpointer, restartAfterFrames: threshold, restartBacklog: 128).RestartWanted)
                {
                    Volatile.Write(ref wanted, 1);
                }

                Thread.Sleep(2);
            }
        }

        await writer;
        Assert.True(cycles.Count >= 3, $"{cycles.Count} restarts");
        foreach (var (before, after) in cycles)
        {
            Assert.True(before > threshold * 4096L, $"a restart came with the log at {before} bytes, short of its threshold");
            Assert.True(after >= before, $"a restart cut the log file from {before} to {after} bytes (limit {limit})");
            Assert.True(after <= limit, $"the log file is {after} bytes, past its limit {limit}");
        }
    }

    [Fact]
    public void Upgrading_from_version_6_keeps_profiles_and_feature_checkpoints_in_rowid_tables()
    {
        using var dir = new TempDir();
        var db = Database(dir);
        using (var c = db.Open())
        {
            // Back to version 6's layout: both tables WITHOUT ROWID, with rows larger than such a leaf keeps in place.
            EdgeDatabase.Exec(c, """
                DROP TABLE profiles;
                DROP TABLE feature_state;
                CREATE TABLE profiles (customer_key TEXT PRIMARY KEY, updated_at_ms INTEGER NOT NULL, state TEXT NOT NULL) WITHOUT ROWID;
                CREATE TABLE feature_state (customer_key TEXT PRIMARY KEY, updated_at_ms INTEGER NOT NULL, seq INTEGER NOT NULL, state BLOB NOT NULL) WITHOUT ROWID;
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
                INSERT INTO profiles SELECT 'loyalty:L-' || i, i, '{"customerKey":"loyalty:L-' || i || '","pad":"' || hex(zeroblob(700 + i)) || '"}' FROM n;
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
                INSERT INTO feature_state SELECT 'loyalty:L-' || i, i, 10 * i, zeroblob(2000 + i) FROM n;
                PRAGMA user_version = 6;
                """);
        }

        SqliteConnection.ClearAllPools();
        using var upgraded = Database(dir).Open();
        Assert.Equal(7L, EdgeDatabase.Scalar<long>(upgraded, "PRAGMA user_version"));
        foreach (var table in new[] { "profiles", "feature_state" })
        {
            var sql = EdgeDatabase.Scalar<string>(upgraded, $"SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = '{table}'")!;
            Assert.DoesNotContain("WITHOUT ROWID", sql, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(300L, EdgeDatabase.Scalar<long>(upgraded, $"SELECT count(*) FROM {table}"));
        }

        Assert.Equal($"{{\"customerKey\":\"loyalty:L-150\",\"pad\":\"{new string('0', 1700)}\"}}",
            EdgeDatabase.Scalar<string>(upgraded, "SELECT state FROM profiles WHERE customer_key = 'loyalty:L-150'"));
        Assert.Equal(150L, EdgeDatabase.Scalar<long>(upgraded, "SELECT updated_at_ms FROM profiles WHERE customer_key = 'loyalty:L-150'"));
        Assert.Equal(3000L, EdgeDatabase.Scalar<long>(upgraded, "SELECT seq FROM feature_state WHERE customer_key = 'loyalty:L-300'"));
        Assert.Equal(2300L, EdgeDatabase.Scalar<long>(upgraded, "SELECT length(state) FROM feature_state WHERE customer_key = 'loyalty:L-300'"));
        // The key is still unique: the writer's upserts rely on it.
        Assert.Throws<SqliteException>(() => EdgeDatabase.Exec(upgraded, "INSERT INTO profiles VALUES ('loyalty:L-1', 0, '{}')"));
    }

    [Fact]
    public async Task The_log_writer_reports_queue_wait_batch_and_acknowledgement_metrics()
    {
        var recorded = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EdgeMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            Assert.True(value >= 0, $"{instrument.Name} {value}");
            recorded.AddOrUpdate(instrument.Name, 1, (_, n) => n + 1);
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => recorded.AddOrUpdate(instrument.Name, 1, (_, n) => n + 1));
        listener.Start();

        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("metrics-test");
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes(Guid.NewGuid().ToString(), "L-metrics"));

        foreach (var name in new[] { "edgeprofile.log.queue_wait", "edgeprofile.log.batch_size", "edgeprofile.log.commit_time", "edgeprofile.log.engine_time", "edgeprofile.ingest.ack_delay" })
        {
            Assert.True(recorded.TryGetValue(name, out var n) && n > 0, $"{name} not recorded");
        }

        var runtime = (await edge.StatsAsync()).GetProperty("runtime");
        Assert.Equal(3, runtime.GetProperty("gcCollections").GetArrayLength());
        Assert.True(runtime.GetProperty("heapBytes").GetInt64() > 0);

        // The last collection, for telling a latency burst's cause: after one that this test forces, it is reported.
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        var lastGc = (await edge.StatsAsync()).GetProperty("runtime").GetProperty("lastGc");
        Assert.True(lastGc.GetProperty("index").GetInt64() >= GC.CollectionCount(0) - 1, lastGc.ToString());
        Assert.InRange(lastGc.GetProperty("generation").GetInt32(), 0, 2);
        Assert.True(lastGc.GetProperty("pauseMs").GetDouble() >= 0);
        Assert.True(lastGc.GetProperty("heapBytes").GetInt64() > 0);
    }
}
