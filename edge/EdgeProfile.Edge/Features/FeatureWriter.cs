using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Log;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Edge.Features;

/// <summary>
/// The stream engine inside the log writer. Every stored event updates its customer's live state in memory; the
/// changed states, the watermarks and the log position they include (<c>events.seq</c>) are checkpointed together,
/// in the same transaction as a batch of events, every <c>Edge:Features:CheckpointInterval</c> or sooner when many
/// customers changed. After a crash the edge loads the checkpoint and replays the log after that position in the
/// original order, so the state equals a run without the crash (exactly-once state) while a customer's state is
/// written once per checkpoint instead of once per event. Late events go to the side output; new definitions are
/// backfilled from the log a slice of customers at a time. Used only on the writer's thread.
/// </summary>
internal sealed class FeatureWriter
{
    private const string SetKey = "feature_set";
    private const string RevisionKey = "feature_set_revision";
    private const string WatermarksKey = "watermarks";
    private const string BackfillKey = "backfill_definitions";
    private const string CheckpointKey = "checkpoint_seq";

    private readonly FeatureRuntime _runtime;
    private readonly EventDecoder _decoder;
    private readonly EdgeOptions _options;
    private readonly HashSet<CustomerState> _dirty = new(ReferenceEqualityComparer.Instance);
    private FeatureEngine _engine;
    private long _revision;
    private List<FeatureDefinition> _backfill = [];
    private long _backfillPending;
    private long _lastSeq;
    private long _checkpointSeq;
    private long _lastCheckpointTick = Environment.TickCount64;
    private bool _checkpointInTransaction;
    private bool _evictAfterCommit;
    private FeatureEngine? _affinityFor;
    private FeatureDefinition? _affinity;

    public FeatureWriter(FeatureRuntime runtime, EventDecoder decoder, EdgeOptions options)
    {
        _runtime = runtime;
        _decoder = decoder;
        _options = options;
        _engine = runtime.Engine;
    }

    public bool BackfillRunning => _backfillPending > 0;

    /// <summary>Events applied since the last checkpoint (replayed after a crash).</summary>
    public long EventsSinceCheckpoint => _lastSeq - _checkpointSeq;

    private Dictionary<string, CustomerState> Live => _runtime.Live;

    /// <summary>Loads the served definitions and the last checkpoint, then replays the log after it.</summary>
    public void Load(SqliteConnection conn)
    {
        var set = Meta(conn, SetKey) is { } json ? FeatureSet.Parse(Encoding.UTF8.GetString(json)) : _runtime.InitialSet;
        _revision = MetaLong(conn, RevisionKey);
        set = set with { Revision = _revision };
        var ids = Meta(conn, BackfillKey) is { } b ? JsonSerializer.Deserialize(b, BackfillJson.Default.StringArray) ?? [] : null;
        _backfill = ids is null || ids.Length == 0
            ? [.. set.Definitions]
            : [.. set.Definitions.Where(d => ids.Contains(d.Id, StringComparer.Ordinal))];
        _backfillPending = EdgeDatabase.Scalar<long>(conn, "SELECT COUNT(*) FROM backfill_pending");
        _engine = new FeatureEngine(set, _runtime.StreamOptions);
        using (_runtime.Write())
        {
            Recover(conn);
        }

        PublishBackfill();
    }

    /// <summary>Applies a stored event (<paramref name="seq"/> is its log position); a late event changes no state.</summary>
    public EventOutcome Process(Statements sql, long seq, string customerKey, CustomerEvent e, long receivedMs)
    {
        var state = State(sql, customerKey);
        var watermark = _engine.Watermarks.Current;
        var outcome = _engine.Process(state, FeatureInput.From(e));
        _lastSeq = seq;
        if (outcome == EventOutcome.Late)
        {
            sql.InsertLate(e.EventId, customerKey, e.OccurredAt.ToUnixTimeMilliseconds(), watermark, receivedMs);
        }
        else
        {
            _dirty.Add(state);
        }

        return outcome;
    }

    /// <summary>The interest tags (names only) of a customer's category affinity as of <paramref name="asOfMs"/>, for the uplink delta.</summary>
    public IReadOnlyList<string> InterestTagNames(string customerKey, long asOfMs)
    {
        if (!Live.TryGetValue(customerKey, out var state))
        {
            return [];
        }

        if (!ReferenceEquals(_affinityFor, _engine))
        {
            _affinityFor = _engine;
            _affinity = _engine.Set.Definitions
                .Where(d => d.Aggregation.Kind == AggregationKind.TopK && d.Aggregation.Field == FeatureField.CategoryTop && d.Window.Kind is WindowKind.Sliding or WindowKind.Tumbling)
                .OrderByDescending(d => string.Equals(d.Name, "category_affinity_30d", StringComparison.Ordinal))
                .ThenByDescending(d => d.Window.Size)
                .FirstOrDefault();
        }

        return _affinity is null ? [] : [.. InterestTags.From(_engine.Read(state, _affinity, asOfMs)).Select(t => t.Name)];
    }

    /// <summary>
    /// Before a batch commits: checkpoints into its transaction when the interval has passed, many customers changed,
    /// or memory must be freed (or when <paramref name="force"/>).
    /// </summary>
    public void BeforeCommit(Statements sql, long nowMs, bool force = false)
    {
        var f = _options.Features;
        _evictAfterCommit = Live.Count > f.MemoryCustomers;
        var due = force || _evictAfterCommit || _dirty.Count >= f.CheckpointCustomers
                  || Environment.TickCount64 - _lastCheckpointTick >= f.CheckpointInterval.TotalMilliseconds;
        if (!due || (_dirty.Count == 0 && _lastSeq == _checkpointSeq))
        {
            _checkpointInTransaction = false;
            return;
        }

        foreach (var state in _dirty)
        {
            sql.UpsertFeatureState(state.CustomerKey, nowMs, state.Serialize());
        }

        sql.SetMeta(WatermarksKey, _engine.Watermarks.Serialize());
        sql.SetMeta(CheckpointKey, Encoding.UTF8.GetBytes(_lastSeq.ToString(CultureInfo.InvariantCulture)));
        _checkpointInTransaction = true;
    }

    /// <summary>The transaction committed.</summary>
    public void Committed()
    {
        if (_checkpointInTransaction)
        {
            _dirty.Clear();
            _checkpointSeq = _lastSeq;
            _lastCheckpointTick = Environment.TickCount64;
            _checkpointInTransaction = false;
            if (_evictAfterCommit)
            {
                // Everything live is on disk now: start the memory over.
                Live.Clear();
                _evictAfterCommit = false;
            }
        }
    }

    /// <summary>The transaction rolled back: the live state ran ahead of the log; rebuild it from the checkpoint (write lock held).</summary>
    public void RolledBack(SqliteConnection conn)
    {
        _checkpointInTransaction = false;
        _evictAfterCommit = false;
        Recover(conn);
    }

    /// <summary>Writes a checkpoint in its own transaction when one is due (idle ticks) or <paramref name="force"/>d (shutdown).</summary>
    public void Checkpoint(SqliteConnection conn, Statements sql, long nowMs, bool force)
    {
        if ((_dirty.Count == 0 && _lastSeq == _checkpointSeq)
            || (!force && Environment.TickCount64 - _lastCheckpointTick < _options.Features.CheckpointInterval.TotalMilliseconds))
        {
            return;
        }

        using (_runtime.Write())
        {
            using var tx = conn.BeginTransaction();
            BeforeCommit(sql, nowMs, force: true);
            tx.Commit();
            Committed();
        }
    }

    /// <summary>
    /// Serves <paramref name="set"/> from now on: the definitions it adds or changes are queued for backfill over every
    /// customer in the log; removed ones stop being served. Returns the ids to backfill.
    /// </summary>
    public IReadOnlyList<string> Apply(SqliteConnection conn, Statements sql, FeatureSet set, long nowMs)
    {
        var old = _engine.Set.Definitions.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        var stillPending = _backfillPending > 0 ? _backfill.Select(d => d.Id).ToHashSet(StringComparer.Ordinal) : [];
        var added = set.Definitions.Where(d => !old.Contains(d.Id) || stillPending.Contains(d.Id)).ToList();
        using (var tx = conn.BeginTransaction())
        {
            // The checkpoint closes the old set's part of the log: a replay after a crash starts under the new set.
            BeforeCommit(sql, nowMs, force: true);
            SetMeta(conn, tx, SetKey, Encoding.UTF8.GetBytes(set.ToJson()));
            SetMeta(conn, tx, RevisionKey, Encoding.UTF8.GetBytes(set.Revision.ToString(CultureInfo.InvariantCulture)));
            SetMeta(conn, tx, BackfillKey, JsonSerializer.SerializeToUtf8Bytes(added.Select(d => d.Id).ToArray(), BackfillJson.Default.StringArray));
            EdgeDatabase.Exec(conn, added.Count > 0
                ? "INSERT OR IGNORE INTO backfill_pending(customer_key) SELECT customer_key FROM profiles"
                : "DELETE FROM backfill_pending", tx);
            tx.Commit();
        }

        Committed();
        var engine = new FeatureEngine(set, _runtime.StreamOptions, _engine.Watermarks);
        var keep = set.Definitions.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        using (_runtime.Write())
        {
            foreach (var state in Live.Values)
            {
                Prune(state, keep);
            }

            _engine = engine;
            _revision = set.Revision;
            _runtime.Publish(_engine, _revision);
        }

        _backfill = added;
        _backfillPending = EdgeDatabase.Scalar<long>(conn, "SELECT COUNT(*) FROM backfill_pending");
        PublishBackfill();
        return added.Select(d => d.Id).ToList();
    }

    /// <summary>
    /// Recomputes the backfilled definitions of up to <paramref name="customers"/> customers from their logged
    /// events (late ones excluded, as online), and checkpoints, in one transaction. Returns the customers still pending.
    /// </summary>
    public long BackfillStep(SqliteConnection conn, Statements sql, int customers, long nowMs)
    {
        if (_backfillPending == 0)
        {
            return 0;
        }

        var keys = new List<string>();
        try
        {
            using var tx = conn.BeginTransaction();
            using (var cmd = conn.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = "SELECT customer_key FROM backfill_pending LIMIT $n";
                cmd.Parameters.AddWithValue("$n", customers);
                using var r = cmd.ExecuteReader();
                while (r.Read())
                {
                    keys.Add(r.GetString(0));
                }
            }

            using var events = conn.CreateCommand();
            events.Transaction = tx;
            events.CommandText = """
                SELECT e.topic, e.format, e.payload FROM events e
                WHERE e.customer_key = $k AND NOT EXISTS (SELECT 1 FROM late_events l WHERE l.event_id = e.event_id)
                ORDER BY e.occurred_at_ms, e.event_id
                """;
            var keyParam = events.Parameters.Add("$k", SqliteType.Text);
            using var done = conn.CreateCommand();
            done.Transaction = tx;
            done.CommandText = "DELETE FROM backfill_pending WHERE customer_key = $k";
            var doneParam = done.Parameters.Add("$k", SqliteType.Text);
            using (_runtime.Write())
            {
                foreach (var key in keys)
                {
                    var state = State(sql, key);
                    foreach (var d in _backfill)
                    {
                        state.Remove(d.Id);
                    }

                    keyParam.Value = key;
                    using (var r = events.ExecuteReader())
                    {
                        while (r.Read())
                        {
                            if (_decoder.DecodeStored(r.GetString(0), (PayloadFormat)r.GetInt32(1), (byte[])r.GetValue(2)) is { } e)
                            {
                                _engine.Replay(state, FeatureInput.From(e), _backfill);
                            }
                        }
                    }

                    _dirty.Add(state);
                    doneParam.Value = key;
                    done.ExecuteNonQuery();
                }
            }

            BeforeCommit(sql, nowMs, force: true);
            tx.Commit();
        }
        catch
        {
            using (_runtime.Write())
            {
                _checkpointInTransaction = false;
                Recover(conn);
            }

            throw;
        }

        Committed();
        _backfillPending = keys.Count == 0 ? 0 : Math.Max(0, _backfillPending - keys.Count);
        PublishBackfill();
        return _backfillPending;
    }

    /// <summary>
    /// (Write lock held.) Rebuilds the live state: the checkpointed watermarks, then every event after the checkpoint replayed through the
    /// engine in log order (exactly as it was first processed), then a checkpoint.
    /// </summary>
    private void Recover(SqliteConnection conn)
    {
        Live.Clear();
        _dirty.Clear();
        var watermarks = Meta(conn, WatermarksKey) is { } wm ? WatermarkTracker.Deserialize(wm, _runtime.StreamOptions) : null;
        _engine = new FeatureEngine(_engine.Set with { Revision = _revision }, _runtime.StreamOptions, watermarks);
        _checkpointSeq = MetaLong(conn, CheckpointKey);
        _lastSeq = _checkpointSeq;
        using var tx = conn.BeginTransaction();
        using var sql = new Statements(conn);
        using (var cmd = conn.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "SELECT seq, customer_key, topic, format, payload, received_at_ms FROM events WHERE seq > $s ORDER BY seq";
            cmd.Parameters.AddWithValue("$s", _checkpointSeq);
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var seq = r.GetInt64(0);
                if (_decoder.DecodeStored(r.GetString(2), (PayloadFormat)r.GetInt32(3), (byte[])r.GetValue(4)) is { } e)
                {
                    Process(sql, seq, r.GetString(1), e, r.GetInt64(5));
                }

                _lastSeq = seq;
            }
        }

        Replayed = _lastSeq - _checkpointSeq;
        BeforeCommit(sql, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), force: true);
        tx.Commit();
        Committed();
        _runtime.Publish(_engine, _revision);
    }

    /// <summary>Events replayed from the log at the last recovery.</summary>
    public long Replayed { get; private set; }

    private CustomerState State(Statements sql, string customerKey)
    {
        if (Live.TryGetValue(customerKey, out var live))
        {
            return live;
        }

        CustomerState state;
        if (sql.SelectFeatureState(customerKey) is { } bytes)
        {
            state = CustomerState.Deserialize(bytes);
            Prune(state, null);
        }
        else
        {
            state = new CustomerState(customerKey);
        }

        Live[customerKey] = state;
        return state;
    }

    /// <summary>Drops state of definitions no longer served.</summary>
    private void Prune(CustomerState state, HashSet<string>? keep)
    {
        keep ??= _engine.Set.Definitions.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var id in state.DefinitionIds.ToList())
        {
            if (!keep.Contains(id))
            {
                state.Remove(id);
            }
        }
    }

    private void PublishBackfill() =>
        _runtime.SetBackfill(_backfillPending, _backfillPending > 0 ? _backfill.Select(d => d.Id).ToList() : []);

    private static long MetaLong(SqliteConnection conn, string name) =>
        Meta(conn, name) is { } v ? long.Parse(Encoding.UTF8.GetString(v), CultureInfo.InvariantCulture) : 0;

    private static byte[]? Meta(SqliteConnection conn, string name)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT value FROM engine_meta WHERE name = $n";
        cmd.Parameters.AddWithValue("$n", name);
        return cmd.ExecuteScalar() as byte[];
    }

    private static void SetMeta(SqliteConnection conn, SqliteTransaction tx, string name, byte[] value)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO engine_meta(name,value) VALUES($n,$v) ON CONFLICT(name) DO UPDATE SET value=excluded.value";
        cmd.Parameters.AddWithValue("$n", name);
        cmd.Parameters.AddWithValue("$v", value);
        cmd.ExecuteNonQuery();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]), TypeInfoPropertyName = "StringArray")]
internal sealed partial class BackfillJson : System.Text.Json.Serialization.JsonSerializerContext;
