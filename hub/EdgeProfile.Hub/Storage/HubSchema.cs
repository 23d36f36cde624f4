using EdgeProfile.Hosting;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Hub.Storage;

/// <summary>The hub's tables, versioned with <c>PRAGMA user_version</c>. Times are Unix milliseconds (UTC).</summary>
internal static class HubSchema
{
    public const int CurrentVersion = 10;

    private const string V1 = """
        CREATE TABLE enrollment_tokens (
            token_hash   BLOB PRIMARY KEY,          -- SHA-256 of the token; the token itself is never stored
            store_id     TEXT NOT NULL,
            kind         TEXT NOT NULL,
            created_at   INTEGER NOT NULL,
            expires_at   INTEGER NOT NULL,
            used_at      INTEGER,
            cancelled_at INTEGER                    -- set when the store is revoked before the token was used
        );
        CREATE INDEX enrollment_tokens_store ON enrollment_tokens(store_id);

        CREATE TABLE stores (
            store_id              TEXT PRIMARY KEY,
            kind                  TEXT NOT NULL,
            credential_hash       BLOB NOT NULL,    -- SHA-256 of the credential
            enrolled_at           INTEGER NOT NULL,
            revoked_at            INTEGER,
            last_seen             INTEGER,
            backlog               INTEGER NOT NULL DEFAULT 0,
            oldest_backlog_age_ms INTEGER NOT NULL DEFAULT 0,
            acked_through         INTEGER NOT NULL DEFAULT 0,
            model_version         TEXT
        );

        -- The latest full view each store has sent of each of its customers.
        CREATE TABLE store_profiles (
            store_id      TEXT NOT NULL,
            customer_key  TEXT NOT NULL,
            identifiers   TEXT NOT NULL,            -- JSON array of customer keys
            visits_7d     INTEGER NOT NULL,
            visits_30d    INTEGER NOT NULL,
            spend_7d      REAL NOT NULL,
            spend_30d     REAL NOT NULL,
            last_seen     INTEGER NOT NULL,
            last_category TEXT,
            last_channel  TEXT,
            tags          TEXT NOT NULL,            -- JSON array of tag names
            events_total  INTEGER NOT NULL,
            updated_at    INTEGER NOT NULL,
            updated_seq   INTEGER NOT NULL,
            PRIMARY KEY (store_id, customer_key)
        ) WITHOUT ROWID;
        CREATE INDEX store_profiles_key ON store_profiles(customer_key);

        -- Global profiles; seq orders them by age (lower is older).
        CREATE TABLE profiles (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            profile_id TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL,
            key_count  INTEGER NOT NULL
        );

        -- Every customer key the hub has seen, mapped to its global profile.
        CREATE TABLE identity_keys (
            customer_key TEXT PRIMARY KEY,
            profile_id   TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX identity_keys_profile ON identity_keys(profile_id);

        -- Profile ids that were merged into another, so that an old ep:<id> still finds the customer.
        CREATE TABLE profile_aliases (
            old_id     TEXT PRIMARY KEY,
            profile_id TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX profile_aliases_profile ON profile_aliases(profile_id);
        """;

    // The feature-definition registry (Features/DefinitionRegistry.cs).
    private const string V2 = """
        -- One row: the registry revision, +1 per committed change (0 before the defaults are seeded).
        CREATE TABLE feature_registry (
            id         INTEGER PRIMARY KEY CHECK (id = 1),
            revision   INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );

        -- One row per feature name; rowid keeps the order names were first registered in.
        CREATE TABLE feature_names (
            name             TEXT NOT NULL UNIQUE,
            current_version  INTEGER NOT NULL,
            retired          INTEGER NOT NULL DEFAULT 0,
            retired_at       INTEGER,
            retired_revision INTEGER
        );

        -- Every version of every definition, never changed once written.
        CREATE TABLE feature_definitions (
            name       TEXT NOT NULL,
            version    INTEGER NOT NULL,
            definition TEXT NOT NULL,               -- canonical FeatureDefinition JSON, version included
            owner      TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            revision   INTEGER NOT NULL,            -- the registry revision that introduced it
            PRIMARY KEY (name, version)
        ) WITHOUT ROWID;
        """;

    // Identity resolution under rules (Profiles/IdentityResolver.cs, Profiles/IdentityAdmin.cs), stores' recent
    // searches, and what is pushed down to stores (Downlink/).
    private const string V3 = """
        ALTER TABLE store_profiles ADD COLUMN searches TEXT NOT NULL DEFAULT '[]';  -- JSON [{Text, AtUnixMs, Channel}]
        ALTER TABLE stores ADD COLUMN downlink_seq INTEGER NOT NULL DEFAULT 0;      -- last number given to the store's items
        ALTER TABLE stores ADD COLUMN downlink_acked INTEGER NOT NULL DEFAULT 0;    -- the store has applied up to this

        -- Per store, in order: global summaries of customers the store knows, queued when they change elsewhere.
        CREATE TABLE downlink (
            store_id   TEXT NOT NULL,
            seq        INTEGER NOT NULL,
            profile_id TEXT NOT NULL,
            payload    BLOB NOT NULL,               -- DownlinkItem protobuf
            created_at INTEGER NOT NULL,
            PRIMARY KEY (store_id, seq)
        ) WITHOUT ROWID;

        -- Every pair of identifiers a store uploaded together: key_a is the strongest accepted key of the upload.
        -- status: linked | rejected (a limit or an operator's split kept key_b out) | blocked | split (undone by an operator).
        CREATE TABLE identity_links (
            key_a    TEXT NOT NULL,
            key_b    TEXT NOT NULL,
            store_id TEXT NOT NULL,                 -- the store that first sent the pair
            first_at INTEGER NOT NULL,
            last_at  INTEGER NOT NULL,
            status   TEXT NOT NULL,
            reason   TEXT,
            PRIMARY KEY (key_a, key_b)
        ) WITHOUT ROWID;
        CREATE INDEX identity_links_b ON identity_links(key_b);

        -- Pairs an operator split apart: the profiles holding them never merge again.
        CREATE TABLE identity_separations (
            key_a      TEXT NOT NULL,
            key_b      TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (key_a, key_b)
        ) WITHOUT ROWID;

        -- Merges, rejections and unmerges, for the operator and for undoing a merge.
        CREATE TABLE identity_audit (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            at         INTEGER NOT NULL,
            action     TEXT NOT NULL,               -- merge | reject | unmerge
            actor      TEXT NOT NULL,               -- the store whose upload did it, or operator
            profile_id TEXT NOT NULL,               -- merge: the surviving profile; unmerge: the one split from
            other_id   TEXT,                        -- merge: the absorbed profile; unmerge: the restored one
            keys       TEXT NOT NULL,               -- JSON array: merge/unmerge: the absorbed profile's keys; reject: the key
            reason     TEXT,
            undone_by  INTEGER                      -- merge: the unmerge that reverted it
        );
        CREATE INDEX identity_audit_profile ON identity_audit(profile_id);
        CREATE INDEX identity_audit_other ON identity_audit(other_id);

        -- Segments (audiences): a rule over profile fields and tags; members kept up to date as profiles change.
        CREATE TABLE segments (
            name        TEXT PRIMARY KEY,
            expression  TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            version     INTEGER NOT NULL,
            created_at  INTEGER NOT NULL,
            updated_at  INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE segment_members (
            segment    TEXT NOT NULL,
            profile_id TEXT NOT NULL,
            since      INTEGER NOT NULL,
            PRIMARY KEY (segment, profile_id)
        ) WITHOUT ROWID;
        CREATE INDEX segment_members_profile ON segment_members(profile_id);

        -- Erasure: what the law lets us keep of a request (when, how many identifiers, which systems confirmed).
        CREATE TABLE erasures (
            request_id   TEXT PRIMARY KEY,
            requested_at INTEGER NOT NULL,
            requested_by TEXT NOT NULL,
            key_count    INTEGER NOT NULL,
            stores       INTEGER NOT NULL,           -- stores asked to erase
            completed_at INTEGER                     -- every store confirmed
        ) WITHOUT ROWID;
        CREATE TABLE erasure_confirmations (
            request_id   TEXT NOT NULL,
            system       TEXT NOT NULL,              -- 'hub' or a store id
            confirmed_at INTEGER NOT NULL,
            PRIMARY KEY (request_id, system)
        ) WITHOUT ROWID;
        -- Consent per identifier and purpose (1: withdrawn); a profile's consent is withdrawn where any identifier's is.
        CREATE TABLE consents (
            customer_key    TEXT PRIMARY KEY,
            analytics       INTEGER NOT NULL DEFAULT 0,
            personalisation INTEGER NOT NULL DEFAULT 0,
            training        INTEGER NOT NULL DEFAULT 0,
            source          TEXT NOT NULL,
            updated_at      INTEGER NOT NULL
        ) WITHOUT ROWID;

        -- Identifiers that must not come back (SHA-256 of the key, not the key): uploads carrying one are dropped.
        CREATE TABLE suppressed_keys (
            key_hash   BLOB PRIMARY KEY,
            request_id TEXT NOT NULL
        ) WITHOUT ROWID;
        """;

    // Version 4: the model registry. Models are immutable ONNX files under a version; deployments are the ordered
    // history of which version which stores should serve (a rollback undoes a store's latest deployment); model_status
    // is what each store last reported doing with its assignment.
    private const string V4 = """
        CREATE TABLE models (
            version     TEXT PRIMARY KEY,
            sha256      TEXT NOT NULL,               -- lower-case hex of content
            size        INTEGER NOT NULL,
            metadata    TEXT NOT NULL,               -- JSON object: the ONNX metadata_props (features, tasks, metrics, window)
            description TEXT NOT NULL DEFAULT '',
            created_at  INTEGER NOT NULL,
            created_by  TEXT NOT NULL,
            content     BLOB NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE model_deployments (
            seq     INTEGER PRIMARY KEY AUTOINCREMENT,   -- the deployment revision stores watch
            at      INTEGER NOT NULL,
            action  TEXT NOT NULL,                       -- deploy | rollback
            version TEXT,                                -- deploy: the version; rollback: null (each store returns to its own previous one)
            stores  TEXT NOT NULL,                       -- JSON array of store ids; [] means every store
            actor   TEXT NOT NULL
        );
        CREATE TABLE model_status (
            store_id        TEXT PRIMARY KEY,
            revision        INTEGER NOT NULL,            -- the assignment the report answers
            version         TEXT NOT NULL,               -- the version it was about
            outcome         TEXT NOT NULL,               -- deployed | refused | rolled_back
            message         TEXT NOT NULL,
            serving_version TEXT,
            reported_at     INTEGER NOT NULL
        ) WITHOUT ROWID;
        """;

    // Version 5: each store's latest model scores of its customers (DeltaBatch.scores), keyed like store_profiles;
    // not sequenced: an upload replaces a row only with a newer scored_at. Erased with the customer's keys.
    private const string V5 = """
        CREATE TABLE store_scores (
            store_id         TEXT NOT NULL,
            customer_key     TEXT NOT NULL,
            model_version    TEXT NOT NULL,
            scored_at        INTEGER NOT NULL,
            missing_features INTEGER NOT NULL,
            scores           TEXT NOT NULL,            -- JSON object: task -> number, or an array for multi-output tasks
            PRIMARY KEY (store_id, customer_key)
        ) WITHOUT ROWID;
        CREATE INDEX store_scores_key ON store_scores(customer_key);
        """;

    // Version 6: federated learning. A job (its spec, state and checkpoint: the global parameters and the server
    // optimiser's state after its last completed round, written in one transaction with that round), its rounds
    // (participation counts, aggregated metrics, privacy spent, the model version registered), and each client's part
    // in each round. Only sums and aggregates are stored: never an individual update.
    private const string V6 = """
        CREATE TABLE fl_jobs (
            id            TEXT PRIMARY KEY,
            name          TEXT NOT NULL,
            spec          TEXT NOT NULL,               -- FederatedJobSpec JSON
            state         TEXT NOT NULL,               -- pending | running | completed | failed | stopped
            reason        TEXT,
            round         INTEGER NOT NULL,            -- last completed round (0: none)
            template      TEXT,                        -- ModelTemplate JSON, once the statistics phase has run
            global        BLOB,                        -- float32 parameters after `round`
            optimizer     BLOB,                        -- server optimiser state after `round`
            epsilon       REAL,                        -- privacy spent after `round` (null: no DP)
            model_version TEXT,                        -- newest global model registered
            created_at    INTEGER NOT NULL,
            created_by    TEXT NOT NULL,
            finished_at   INTEGER
        ) WITHOUT ROWID;
        CREATE TABLE fl_rounds (
            job_id        TEXT NOT NULL,
            round         INTEGER NOT NULL,            -- 0: feature statistics
            state         TEXT NOT NULL,               -- running | completed | failed | retrying
            attempt       INTEGER NOT NULL,
            started_at    INTEGER NOT NULL,
            finished_at   INTEGER,
            invited       INTEGER NOT NULL,
            updates       INTEGER NOT NULL,
            dropped       INTEGER NOT NULL,
            stragglers    INTEGER NOT NULL,
            rejected      TEXT NOT NULL,               -- JSON array of client ids a robust rule left out
            metrics       TEXT NOT NULL,               -- JSON object name -> number
            epsilon       REAL,
            model_version TEXT,
            reason        TEXT,
            PRIMARY KEY (job_id, round)
        ) WITHOUT ROWID;
        CREATE TABLE fl_participation (
            job_id    TEXT NOT NULL,
            round     INTEGER NOT NULL,
            client_id TEXT NOT NULL,
            status    TEXT NOT NULL,                   -- updated | dropped | failed | straggler | rejected
            samples   INTEGER NOT NULL,
            metrics   TEXT NOT NULL,
            reason    TEXT,
            at        INTEGER NOT NULL,
            PRIMARY KEY (job_id, round, client_id)
        ) WITHOUT ROWID;
        """;

    // Version 7: explanations. Each store's latest scores keep why (the edge's stored explanation, JSON), and each
    // model version's global importance (mean |phi| per feature group), computed when it is registered or deployed.
    private const string V7 = """
        ALTER TABLE store_scores ADD COLUMN explanation TEXT;
        CREATE TABLE model_importance (
            version     TEXT PRIMARY KEY,
            computed_at INTEGER NOT NULL,
            importance  TEXT NOT NULL                  -- JSON: per output, groups by mean |phi|
        ) WITHOUT ROWID;
        """;

    // Version 8: the operators' tag rules. Every published version (publish or rollback) with its text; the latest is live
    // on every edge.
    private const string V8 = """
        CREATE TABLE rule_sets (
            version      INTEGER PRIMARY KEY,
            text         TEXT NOT NULL,
            published_at INTEGER NOT NULL,
            action       TEXT NOT NULL,                 -- publish | rollback to N
            rules        INTEGER NOT NULL
        ) WITHOUT ROWID;
        """;

    // Version 9: next-item recommendations. Each store's behaviour sequence of a customer (product ids and names, from
    // ProfileDelta.items), and the recommender bundles (item vocabulary, SASRec ONNX, item2vec and text vectors):
    // immutable under a version, with the ordered publications (publish or rollback); the latest is live on every edge.
    private const string V9 = """
        ALTER TABLE store_profiles ADD COLUMN items TEXT NOT NULL DEFAULT '[]';  -- JSON [{Sku, Name, Type, AtUnixMs}]

        CREATE TABLE recommenders (
            version     TEXT PRIMARY KEY,
            sha256      TEXT NOT NULL,
            size        INTEGER NOT NULL,
            manifest    TEXT NOT NULL,                 -- the bundle's manifest.json
            description TEXT NOT NULL,
            created_at  INTEGER NOT NULL,
            created_by  TEXT NOT NULL,
            content     BLOB NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE recommender_publications (
            seq          INTEGER PRIMARY KEY,
            version      TEXT NOT NULL,
            published_at INTEGER NOT NULL,
            action       TEXT NOT NULL,                -- publish | rollback
            actor        TEXT NOT NULL
        ) WITHOUT ROWID;
        """;

    // Version 10: the operator web UI. Each store's ingest counters (for the fleet view), local accounts (PBKDF2 password hashes, a role, the partner a partner user
    // belongs to) and the audit log of every change made through the REST API or the UI (who, what, on what, result).
    private const string V10 = """
        ALTER TABLE stores ADD COLUMN events_stored INTEGER NOT NULL DEFAULT 0;   -- the edge's counters at its last report
        ALTER TABLE stores ADD COLUMN dead_lettered INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE stores ADD COLUMN late_events INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE stores ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE stores ADD COLUMN counters_at INTEGER;                        -- null: never reported
        ALTER TABLE stores ADD COLUMN rate_events INTEGER NOT NULL DEFAULT 0;     -- events_stored at the start of the rate window
        ALTER TABLE stores ADD COLUMN rate_at INTEGER;
        ALTER TABLE stores ADD COLUMN ingest_per_min REAL;                        -- over the last window of >= 10 s

        CREATE TABLE operator_accounts (
            name          TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            role          TEXT NOT NULL,                -- viewer | operator | admin | partner
            partner       TEXT,                         -- the partner's client id, for role partner
            created_at    INTEGER NOT NULL,
            disabled      INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;

        CREATE TABLE audit_log (
            seq     INTEGER PRIMARY KEY,
            at      INTEGER NOT NULL,
            actor   TEXT NOT NULL,                      -- ui:NAME (role) | operator-token | cli
            action  TEXT NOT NULL,                      -- METHOD /api/path
            target  TEXT NOT NULL,
            status  INTEGER NOT NULL,
            detail  TEXT NOT NULL
        ) WITHOUT ROWID;
        """;

    // Step i brings a file from schema version i to i + 1.
    internal static readonly string[] Steps = [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10];

    public static void Migrate(SqliteConnection connection, string path)
    {
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version;"), System.Globalization.CultureInfo.InvariantCulture);
        if (version > CurrentVersion)
        {
            throw new ConfigurationException(
                $"Hub:DataDir: '{path}' has schema version {version}, newer than this hub understands ({CurrentVersion}); run a newer hub");
        }

        if (version == CurrentVersion)
        {
            return;
        }

        using var tx = connection.BeginTransaction();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = tx;
            command.CommandText = string.Join('\n', Steps[version..CurrentVersion]) + $"\nPRAGMA user_version = {CurrentVersion};";
            command.ExecuteNonQuery();
        }

        tx.Commit();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
