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
/// The stream engine inside the log writer. Every stored event updates its customer's live state in memory. State is
/// checkpointed incrementally, in the same transactions as the events: each batch writes the customers that have been
/// dirty longest (a share sized so that each is written about <c>Edge:Features:CheckpointInterval</c> after it changed,
/// so no batch stalls on thousands of them), each stamped with the log position
/// (<c>events.seq</c>) it includes, plus the watermarks and the oldest position not yet in any checkpoint. After a
/// crash the edge loads the checkpoints and replays the log from that position, each event into the customers whose
/// checkpoint does not include it yet, skipping the events the side output recorded as late — so the state equals a
/// run without the crash (exactly-once state). New definitions are backfilled from the log a slice of customers at a
/// time. Used only on the writer's thread.
/// </summary>
internal sealed class FeatureWriter
{
    private const string SetKey = "feature_set";
    private const string RevisionKey = "feature_set_revision";
    private const string WatermarksKey = "watermarks";
    private const string BackfillKey = "backfill_definitions";
    private const string ReplayFromKey = "replay_from_seq";

    private readonly FeatureRuntime _runtime;
    private readonly EventDecoder _decoder;
    private readonly EdgeOptions _options;
    private readonly Dictionary<CustomerState, long> _dirtySince = new(ReferenceEqualityComparer.Instance);
    private readonly Queue<CustomerState> _dirtyOrder = new();
    private readonly List<CustomerState> _written = [];
    private FeatureEngine _engine;
    private long _revision;
    private List<FeatureDefinition> _backfill = [];
    private long _backfillPending;
    private long _lastSeq;
    private bool _evictAfterCommit;
    // Checkpoints are serialised into this one buffer (thousands of customers a second at full ingest).
    private readonly System.Buffers.ArrayBufferWriter<byte> _stateBuffer = new(8192);
    private long _lastBudgetTick = Environment.TickCount64;
    private Dictionary<string, long>? _storedSeq;
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

    /// <summary>Customers whose live state is newer than their checkpoint.</summary>
    public int DirtyCustomers => _dirtySince.Count;

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
            MarkDirty(state, seq);
        }

        return outcome;
    }

    private void MarkDirty(CustomerState state, long seq)
    {
        if (_dirtySince.TryAdd(state, seq))
        {
            _dirtyOrder.Enqueue(state);
        }
    }

    /// <summary>
    /// The tags (names only) the uplink delta carries for a live customer as of <paramref name="asOfMs"/>: the interest
    /// tags of their category affinity, and the tags the operators' rules set on their features (so the hub's global
    /// profile shows them too; the hub knows each rule's reason from its own registry).
    /// </summary>
    public IReadOnlyList<string> DeltaTagNames(string customerKey, long asOfMs, Rules.RuleRuntime? rules) =>
        Live.TryGetValue(customerKey, out var state) ? DeltaTagNames(state, asOfMs, rules?.Applied.Set) : [];

    /// <summary>The delta's tags for <paramref name="state"/> under the rule set <paramref name="rules"/> (see above).</summary>
    public IReadOnlyList<string> DeltaTagNames(CustomerState state, long asOfMs, Knowledge.TagRuleSet? rules) =>
        DeltaTagNames(state, asOfMs, RuleTagNames(state, asOfMs, rules));

    /// <summary>The delta's tags for <paramref name="state"/> with the rule tags already evaluated (<see cref="RuleTagNames"/>).</summary>
    public IReadOnlyList<string> DeltaTagNames(CustomerState state, long asOfMs, IReadOnlyList<string> ruleTags)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(ruleTags);
        if (!ReferenceEquals(_affinityFor, _engine))
        {
            _affinityFor = _engine;
            _affinity = InterestTags.AffinityDefinition(_engine.Set);
        }

        List<string> names = _affinity is null ? [] : [.. InterestTags.From(_engine.Read(state, _affinity, asOfMs)).Select(t => t.Name)];
        foreach (var name in ruleTags)
        {
            if (!names.Contains(name))
            {
                names.Add(name);
            }
        }

        return names;
    }

    /// <summary>The tags <paramref name="rules"/> set for <paramref name="state"/> as of <paramref name="asOfMs"/>.</summary>
    public IReadOnlyList<string> RuleTagNames(CustomerState state, long asOfMs, Knowledge.TagRuleSet? rules)
    {
        ArgumentNullException.ThrowIfNull(state);
        return rules is null || rules.Rules.Count == 0 ? [] : Rules.RuleRuntime.TagNames(rules, state.CustomerKey, _engine.Read(state, asOfMs));
    }

    /// <summary>A customer's feature state without taking it into memory (live, else its checkpoint), or null.</summary>
    public CustomerState? Peek(Statements sql, string customerKey)
    {
        ArgumentNullException.ThrowIfNull(sql);
        return Live.TryGetValue(customerKey, out var live) ? live
            : sql.SelectFeatureState(customerKey) is { } stored ? CustomerState.Deserialize(stored.State) : null;
    }

    /// <summary>
    /// Before a batch commits: checkpoints, into its transaction, the customers dirty longest (all of them when
    /// <paramref name="force"/>d or when memory must be freed), then the watermarks and the replay position.
    /// </summary>
    public void BeforeCommit(Statements sql, long nowMs, bool force = false)
    {
        var f = _options.Features;
        _evictAfterCommit = Live.Count > f.MemoryCustomers;
        // Spread over the batches so that each changed customer is written about one interval after it changed:
        // every commit stays short, and the replay after a crash covers about one interval of events.
        var tick = Environment.TickCount64;
        var elapsed = Math.Max(0, tick - _lastBudgetTick);
        _lastBudgetTick = tick;
        var budget = force || _evictAfterCommit
            ? int.MaxValue
            : (int)Math.Min(int.MaxValue, Math.Ceiling(_dirtySince.Count * elapsed / Math.Max(1.0, f.CheckpointInterval.TotalMilliseconds)));
        _written.Clear();
        while (budget-- > 0 && _dirtyOrder.TryDequeue(out var state))
        {
            _stateBuffer.ResetWrittenCount();
            state.Serialize(_stateBuffer);
            sql.UpsertFeatureState(state.CustomerKey, nowMs, _lastSeq, _stateBuffer.WrittenSpan);
            _written.Add(state);
        }

        var replayFrom = _dirtyOrder.TryPeek(out var oldest) ? _dirtySince[oldest] : _lastSeq + 1;
        sql.SetMeta(WatermarksKey, _engine.Watermarks.Serialize());
        sql.SetMeta(ReplayFromKey, Encoding.UTF8.GetBytes(replayFrom.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Drops an erased customer's live state and any pending checkpoint of it (write lock held).</summary>
    public void Forget(string customerKey)
    {
        if (!Live.Remove(customerKey, out var state))
        {
            return;
        }

        if (_dirtySince.Remove(state))
        {
            var rest = _dirtyOrder.Where(s => !ReferenceEquals(s, state)).ToList();
            _dirtyOrder.Clear();
            foreach (var s in rest)
            {
                _dirtyOrder.Enqueue(s);
            }
        }
    }

    /// <summary>The transaction committed.</summary>
    public void Committed()
    {
        foreach (var state in _written)
        {
            _dirtySince.Remove(state);
        }

        _written.Clear();
        if (_evictAfterCommit && _dirtySince.Count == 0)
        {
            // Everything live is on disk now: start the memory over.
            Live.Clear();
        }

        _evictAfterCommit = false;
    }

    /// <summary>The transaction rolled back: the live state ran ahead of the log; rebuild it from the checkpoints (write lock held).</summary>
    public void RolledBack(SqliteConnection conn)
    {
        _written.Clear();
        _evictAfterCommit = false;
        Recover(conn);
    }

    /// <summary>Idle ticks write a slice of the dirty customers; shutdown (<paramref name="force"/>) writes them all.</summary>
    public void Checkpoint(SqliteConnection conn, Statements sql, long nowMs, bool force)
    {
        if (_dirtySince.Count == 0)
        {
            return;
        }

        using (_runtime.Write())
        {
            using var tx = conn.BeginTransaction();
            BeforeCommit(sql, nowMs, force);
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

                    MarkDirty(state, _lastSeq + 1);
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
                RolledBack(conn);
            }

            throw;
        }

        Committed();
        LastBackfilled = keys;
        _backfillPending = keys.Count == 0 ? 0 : Math.Max(0, _backfillPending - keys.Count);
        PublishBackfill();
        return _backfillPending;
    }

    /// <summary>
    /// (Write lock held.) Rebuilds the live state: the checkpointed watermarks (as of the last commit), then every
    /// logged event from the replay position on, in log order, into each customer whose checkpoint does not include
    /// it yet (late events stay out, as they did online), then a checkpoint of everything replayed.
    /// </summary>
    private void Recover(SqliteConnection conn)
    {
        Live.Clear();
        _dirtySince.Clear();
        _dirtyOrder.Clear();
        var watermarks = Meta(conn, WatermarksKey) is { } wm ? WatermarkTracker.Deserialize(wm, _runtime.StreamOptions) : null;
        _engine = new FeatureEngine(_engine.Set with { Revision = _revision }, _runtime.StreamOptions, watermarks);
        var replayFrom = Math.Max(1, MetaLong(conn, ReplayFromKey));
        _lastSeq = EdgeDatabase.Scalar<long>(conn, "SELECT COALESCE(MAX(seq), 0) FROM events");
        long replayed = 0;
        using var tx = conn.BeginTransaction();
        using var sql = new Statements(conn);
        _storedSeq = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                SELECT e.seq, e.customer_key, e.topic, e.format, e.payload FROM events e
                WHERE e.seq >= $s AND NOT EXISTS (SELECT 1 FROM late_events l WHERE l.event_id = e.event_id)
                ORDER BY e.seq
                """;
            cmd.Parameters.AddWithValue("$s", replayFrom);
            using var r = cmd.ExecuteReader();
            var all = _engine.Set.Definitions;
            while (r.Read())
            {
                var seq = r.GetInt64(0);
                var key = r.GetString(1);
                var state = State(sql, key);
                if (seq <= _storedSeq.GetValueOrDefault(key))
                {
                    continue; // already in its checkpoint
                }

                if (_decoder.DecodeStored(r.GetString(2), (PayloadFormat)r.GetInt32(3), (byte[])r.GetValue(4)) is { } e)
                {
                    _engine.Replay(state, FeatureInput.From(e), all);
                    MarkDirty(state, seq);
                    replayed++;
                }
            }
        }
        finally
        {
            _storedSeq = null;
        }

        Replayed = replayed;
        BeforeCommit(sql, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), force: true);
        tx.Commit();
        Committed();
        _runtime.Publish(_engine, _revision);
    }

    /// <summary>The customers the last <see cref="BackfillStep"/> recomputed.</summary>
    public IReadOnlyList<string> LastBackfilled { get; private set; } = [];

    /// <summary>Events replayed from the log at the last recovery.</summary>
    public long Replayed { get; private set; }

    private CustomerState State(Statements sql, string customerKey)
    {
        if (Live.TryGetValue(customerKey, out var live))
        {
            return live;
        }

        CustomerState state;
        if (sql.SelectFeatureState(customerKey) is { } stored)
        {
            state = CustomerState.Deserialize(stored.State);
            Prune(state, null);
            _storedSeq?.Add(customerKey, stored.Seq);
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
