using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Log;

/// <summary>
/// The edge's SQLite file: event log, dead letters, store profiles, customer keys, the uplink outbox and model scores
/// (with what of them the hub has).
/// WAL mode; <c>Edge:Log:Durability</c> picks synchronous FULL (power-safe) or NORMAL (crash-safe).
/// </summary>
public sealed class EdgeDatabase
{
    private const int SchemaVersion = 7;

    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly string _readConnectionString;

    /// <summary>Opens (and creates or migrates) the database in the configured data directory.</summary>
    public EdgeDatabase(IOptions<EdgeOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        Directory.CreateDirectory(o.ResolvedDataDir);
        Path = System.IO.Path.Combine(o.ResolvedDataDir, "edge.db");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        _readConnectionString = new SqliteConnectionStringBuilder(_connectionString) { Mode = SqliteOpenMode.ReadWrite, Pooling = true }.ToString();
        _synchronous = o.Log.Durability == "process" ? "NORMAL" : "FULL";
        using var c = Open();
        Migrate(c);
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>
    /// A pooled connection for short reads (the local API): no pragmas to run per request; the pool keeps the physical
    /// connections open. Writers use <see cref="Open"/>.
    /// </summary>
    public SqliteConnection OpenRead()
    {
        var c = new SqliteConnection(_readConnectionString);
        c.Open();
        return c;
    }

    /// <summary>A new open connection with the edge's pragmas.</summary>
    public SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        Exec(c, $"PRAGMA journal_mode=WAL; PRAGMA synchronous={_synchronous}; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=OFF; PRAGMA wal_autocheckpoint=8192;");
        return c;
    }

    /// <summary>Runs SQL without results.</summary>
    public static void Exec(SqliteConnection c, string sql, SqliteTransaction? tx = null)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Runs a scalar query.</summary>
    public static T? Scalar<T>(SqliteConnection c, string sql)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        var v = cmd.ExecuteScalar();
        return v is null or DBNull ? default : (T)Convert.ChangeType(v, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Migrate(SqliteConnection c)
    {
        var version = Scalar<long>(c, "PRAGMA user_version");
        if (version > SchemaVersion)
        {
            throw new InvalidOperationException($"edge.db has schema version {version}, newer than this agent ({SchemaVersion}); upgrade the agent.");
        }

        if (version == SchemaVersion)
        {
            return;
        }

        if (version < 1)
        {
            CreateVersion1(c);
        }

        if (version < 2)
        {
            MigrateToVersion2(c);
        }

        // Version 3: the hub's global view of customers this store knows (Downlink.Watch), and how far it has been applied.
        Exec(c, """
            BEGIN;
            CREATE TABLE IF NOT EXISTS global_profiles (
                profile_id TEXT PRIMARY KEY,
                summary BLOB NOT NULL,              -- GlobalSummary protobuf
                updated_at_ms INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS global_keys (
                customer_key TEXT PRIMARY KEY,
                profile_id TEXT NOT NULL) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS global_keys_profile ON global_keys(profile_id);
            CREATE TABLE IF NOT EXISTS downlink_state (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                applied_seq INTEGER NOT NULL);
            -- Erased identifiers (SHA-256 of the key, not the key): events carrying one are not stored again.
            CREATE TABLE IF NOT EXISTS suppressed_keys (
                key_hash BLOB PRIMARY KEY,
                request_id TEXT NOT NULL) WITHOUT ROWID;
            -- Erasure requests carried out here, and whether the hub has the confirmation.
            CREATE TABLE IF NOT EXISTS erasures_applied (
                request_id TEXT PRIMARY KEY,
                applied_at_ms INTEGER NOT NULL,
                confirmed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
            PRAGMA user_version = 3;
            COMMIT;
            """);

        // Version 4: the serving model's latest scores per customer (Edge:Models:File), so they survive restarts.
        // Derived data: erased with the customer, recomputed when its features change or the model is replaced.
        Exec(c, """
            BEGIN;
            CREATE TABLE IF NOT EXISTS model_scores (
                customer_key TEXT PRIMARY KEY,
                model_version TEXT NOT NULL,
                scored_at_ms INTEGER NOT NULL,
                missing_features INTEGER NOT NULL,
                scores TEXT NOT NULL) WITHOUT ROWID;   -- JSON: task -> value (an array for multi-output tasks)
            PRAGMA user_version = 4;
            COMMIT;
            """);

        // Version 5: which scores the hub has (DeltaBatch.scores): a row is pending while scored_at_ms > uploaded_at_ms;
        // the partial index holds only pending rows, so finding them costs nothing once the hub is caught up.
        if (version < 5)
        {
            Exec(c, """
                BEGIN;
                ALTER TABLE model_scores ADD COLUMN uploaded_at_ms INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX IF NOT EXISTS model_scores_pending ON model_scores(customer_key) WHERE scored_at_ms > uploaded_at_ms;
                PRAGMA user_version = 5;
                COMMIT;
                """);
        }

        // Version 6: explanations. Each score keeps the row it was computed from and, once explained (after the score is
        // stored, off the scoring path), why (attributions, reasons; JSON); every decision is kept for audits for
        // Edge:Models:Explanations:RetainDecisions, and every model version this edge served is archived, so a past
        // decision's explanation can be recomputed from its stored row.
        if (version < 6)
        {
            Exec(c, """
                BEGIN;
                ALTER TABLE model_scores ADD COLUMN inputs TEXT;        -- JSON array: the row the model was fed
                ALTER TABLE model_scores ADD COLUMN explanation TEXT;   -- JSON, null until explained
                CREATE INDEX IF NOT EXISTS model_scores_unexplained ON model_scores(customer_key)
                    WHERE explanation IS NULL AND inputs IS NOT NULL;
                CREATE TABLE IF NOT EXISTS decisions (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    customer_key TEXT NOT NULL,
                    model_version TEXT NOT NULL,
                    scored_at_ms INTEGER NOT NULL,
                    scores TEXT NOT NULL,
                    inputs TEXT,
                    explanation TEXT);
                CREATE INDEX IF NOT EXISTS decisions_customer ON decisions(customer_key, scored_at_ms);
                CREATE INDEX IF NOT EXISTS decisions_age ON decisions(scored_at_ms);
                CREATE TABLE IF NOT EXISTS model_archive (
                    version TEXT PRIMARY KEY,
                    sha256 TEXT NOT NULL,
                    archived_at_ms INTEGER NOT NULL,
                    content BLOB NOT NULL) WITHOUT ROWID;
                PRAGMA user_version = 6;
                COMMIT;
                """);
        }

        // Version 7: profiles and feature checkpoints as rowid tables. Their rows (1-4 KB) are larger than a WITHOUT
        // ROWID table keeps in its leaf page (~1 KB), so each update wrote a leaf page and an overflow page for one
        // customer; in a rowid table a row of up to ~4 KB stays in its page beside others and an update writes one
        // page (one WAL frame per profile update instead of two).
        if (version < 7)
        {
            Exec(c, """
                BEGIN;
                CREATE TABLE profiles_v7 (
                    customer_key TEXT PRIMARY KEY,
                    updated_at_ms INTEGER NOT NULL,
                    state TEXT NOT NULL);
                INSERT INTO profiles_v7(customer_key, updated_at_ms, state) SELECT customer_key, updated_at_ms, state FROM profiles;
                DROP TABLE profiles;
                ALTER TABLE profiles_v7 RENAME TO profiles;
                CREATE TABLE feature_state_v7 (
                    customer_key TEXT PRIMARY KEY,
                    updated_at_ms INTEGER NOT NULL,
                    seq INTEGER NOT NULL,
                    state BLOB NOT NULL);
                INSERT INTO feature_state_v7(customer_key, updated_at_ms, seq, state) SELECT customer_key, updated_at_ms, seq, state FROM feature_state;
                DROP TABLE feature_state;
                ALTER TABLE feature_state_v7 RENAME TO feature_state;
                PRAGMA user_version = 7;
                COMMIT;
                """);
        }
    }

    // Version 2: the stream engine's state, checkpointed in the same transactions as the log. An upgraded log has
    // no checkpoint yet, so the writer replays all of it through the engine at its first start.
    private static void MigrateToVersion2(SqliteConnection c)
    {
        Exec(c, """
            BEGIN;
            CREATE TABLE IF NOT EXISTS feature_state (
                customer_key TEXT PRIMARY KEY,
                updated_at_ms INTEGER NOT NULL,
                seq INTEGER NOT NULL,
                state BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS late_events (
                event_id TEXT PRIMARY KEY,
                customer_key TEXT NOT NULL,
                occurred_at_ms INTEGER NOT NULL,
                watermark_ms INTEGER NOT NULL,
                received_at_ms INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS engine_meta (
                name TEXT PRIMARY KEY,
                value BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS backfill_pending (
                customer_key TEXT PRIMARY KEY) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS events_by_customer ON events(customer_key, occurred_at_ms);
            PRAGMA user_version = 2;
            COMMIT;
            """);
    }

    private static void CreateVersion1(SqliteConnection c)
    {
        Exec(c, """
            BEGIN;
            CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY,
                event_id TEXT NOT NULL UNIQUE,
                type TEXT NOT NULL,
                occurred_at_ms INTEGER NOT NULL,
                received_at_ms INTEGER NOT NULL,
                customer_key TEXT NOT NULL,
                topic TEXT NOT NULL,
                format INTEGER NOT NULL,
                payload BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS dead_letters (
                id INTEGER PRIMARY KEY,
                received_at_ms INTEGER NOT NULL,
                topic TEXT NOT NULL,
                field TEXT NOT NULL,
                reason TEXT NOT NULL,
                size INTEGER NOT NULL,
                payload BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS customer_keys (
                key TEXT PRIMARY KEY,
                customer_key TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS profiles (
                customer_key TEXT PRIMARY KEY,
                updated_at_ms INTEGER NOT NULL,
                state TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                created_at_ms INTEGER NOT NULL,
                customer_key TEXT NOT NULL,
                payload BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS outbox_overflow (
                customer_key TEXT PRIMARY KEY) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS counters (
                name TEXT PRIMARY KEY,
                value INTEGER NOT NULL) WITHOUT ROWID;
            PRAGMA user_version = 1;
            COMMIT;
            """);
    }
}
