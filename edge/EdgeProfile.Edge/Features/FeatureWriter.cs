using System.Text;
using System.Text.Json;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Log;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Edge.Features;

/// <summary>
/// The stream engine inside the log writer's transactions: every stored event updates its customer's feature state
/// in the same commit as the event itself (exactly-once state: after a crash the state matches the log), late events
/// go to the side output, and new definitions are backfilled from the log a slice of customers at a time.
/// Used only on the writer's thread.
/// </summary>
internal sealed class FeatureWriter
{
    private const string SetKey = "feature_set";
    private const string WatermarksKey = "watermarks";
    private const string BackfillKey = "backfill_definitions";
    private const int MaxCachedStates = 100_000;

    private readonly FeatureRuntime _runtime;
    private readonly EventDecoder _decoder;
    private readonly Dictionary<string, CustomerState> _cache = new(StringComparer.Ordinal);
    private readonly Dictionary<CustomerState, byte[]?> _dirty = new(ReferenceEqualityComparer.Instance);
    private FeatureEngine _engine;
    private long _revision;
    private List<FeatureDefinition> _backfill = [];
    private long _backfillPending;
    private bool _processed;
    private FeatureEngine? _affinityFor;
    private FeatureDefinition? _affinity;

    public FeatureWriter(FeatureRuntime runtime, EventDecoder decoder)
    {
        _runtime = runtime;
        _decoder = decoder;
        _engine = runtime.Engine;
    }

    public FeatureEngine Engine => _engine;

    public bool BackfillRunning => _backfillPending > 0;

    /// <summary>Loads the served definitions, the watermarks and any unfinished backfill.</summary>
    public void Load(SqliteConnection conn)
    {
        var set = Meta(conn, SetKey) is { } json ? FeatureSet.Parse(Encoding.UTF8.GetString(json)) : _runtime.InitialSet;
        var storedRevision = Meta(conn, "feature_set_revision") is { } r ? long.Parse(Encoding.UTF8.GetString(r), System.Globalization.CultureInfo.InvariantCulture) : 0;
        set = set with { Revision = storedRevision };
        var watermarks = Meta(conn, WatermarksKey) is { } wm ? WatermarkTracker.Deserialize(wm, _runtime.StreamOptions) : null;
        _engine = new FeatureEngine(set, _runtime.StreamOptions, watermarks);
        _revision = set.Revision;
        var ids = Meta(conn, BackfillKey) is { } b ? JsonSerializer.Deserialize(b, BackfillJson.Default.StringArray) ?? [] : null;
        _backfill = ids is null || ids.Length == 0
            ? [.. set.Definitions]
            : [.. set.Definitions.Where(d => ids.Contains(d.Id, StringComparer.Ordinal))];
        _backfillPending = EdgeDatabase.Scalar<long>(conn, "SELECT COUNT(*) FROM backfill_pending");
        _cache.Clear();
        _dirty.Clear();
        _runtime.Publish(_engine, _revision);
        PublishBackfill();
    }

    /// <summary>Applies a stored event; a late event changes no state and is recorded in the side output.</summary>
    public EventOutcome Process(Statements sql, string customerKey, CustomerEvent e, long receivedMs)
    {
        var state = State(sql, customerKey);
        var watermark = _engine.Watermarks.Current;
        var outcome = _engine.Process(state, FeatureInput.From(e));
        _processed = true;
        if (outcome == EventOutcome.Late)
        {
            sql.InsertLate(e.EventId, customerKey, e.OccurredAt.ToUnixTimeMilliseconds(), watermark, receivedMs);
        }
        else
        {
            _dirty[state] = null;
        }

        return outcome;
    }

    /// <summary>The interest tags (names only) of a customer's category affinity as of <paramref name="asOfMs"/>, for the uplink delta.</summary>
    public IReadOnlyList<string> InterestTagNames(string customerKey, long asOfMs)
    {
        if (!_cache.TryGetValue(customerKey, out var state))
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

    /// <summary>Writes the changed states and the watermarks into the open transaction.</summary>
    public void Flush(Statements sql, long nowMs)
    {
        foreach (var state in _dirty.Keys.ToList())
        {
            var bytes = state.Serialize();
            sql.UpsertFeatureState(state.CustomerKey, nowMs, bytes);
            _dirty[state] = bytes;
        }

        if (_processed)
        {
            sql.SetMeta(WatermarksKey, _engine.Watermarks.Serialize());
            _processed = false;
        }
    }

    /// <summary>The transaction committed: readers may see the new states.</summary>
    public void Committed()
    {
        foreach (var (state, bytes) in _dirty)
        {
            if (bytes is not null)
            {
                _runtime.Remember(state.CustomerKey, bytes);
            }
        }

        _dirty.Clear();
        if (_cache.Count > MaxCachedStates)
        {
            _cache.Clear();
        }
    }

    /// <summary>The transaction rolled back: forget what it changed (states, watermarks) and reload from disk.</summary>
    public void RolledBack(SqliteConnection conn)
    {
        _cache.Clear();
        _dirty.Clear();
        _processed = false;
        var watermarks = Meta(conn, WatermarksKey) is { } wm ? WatermarkTracker.Deserialize(wm, _runtime.StreamOptions) : null;
        _engine = new FeatureEngine(_engine.Set, _runtime.StreamOptions, watermarks);
        _runtime.Publish(_engine, _revision);
    }

    /// <summary>
    /// Serves <paramref name="set"/> from now on: the definitions it adds or changes are queued for backfill over every
    /// customer in the log; removed ones stop being served. Returns the ids to backfill.
    /// </summary>
    public IReadOnlyList<string> Apply(SqliteConnection conn, FeatureSet set)
    {
        var old = _engine.Set.Definitions.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        var stillPending = _backfillPending > 0 ? _backfill.Select(d => d.Id).ToHashSet(StringComparer.Ordinal) : [];
        var added = set.Definitions.Where(d => !old.Contains(d.Id) || stillPending.Contains(d.Id)).ToList();
        using (var tx = conn.BeginTransaction())
        {
            SetMeta(conn, tx, SetKey, Encoding.UTF8.GetBytes(set.ToJson()));
            SetMeta(conn, tx, "feature_set_revision", Encoding.UTF8.GetBytes(set.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            SetMeta(conn, tx, BackfillKey, JsonSerializer.SerializeToUtf8Bytes(added.Select(d => d.Id).ToArray(), BackfillJson.Default.StringArray));
            if (added.Count > 0)
            {
                EdgeDatabase.Exec(conn, "INSERT OR IGNORE INTO backfill_pending(customer_key) SELECT customer_key FROM profiles", tx);
            }
            else
            {
                EdgeDatabase.Exec(conn, "DELETE FROM backfill_pending", tx);
            }

            tx.Commit();
        }

        _engine = new FeatureEngine(set, _runtime.StreamOptions, _engine.Watermarks);
        _revision = set.Revision;
        _backfill = added;
        _backfillPending = EdgeDatabase.Scalar<long>(conn, "SELECT COUNT(*) FROM backfill_pending");
        var keep = set.Definitions.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var state in _cache.Values)
        {
            Prune(state, keep);
        }

        _runtime.Publish(_engine, _revision);
        PublishBackfill();
        return added.Select(d => d.Id).ToList();
    }

    /// <summary>
    /// Recomputes the backfilled definitions of up to <paramref name="customers"/> customers from their logged
    /// events (late ones excluded, as online), in one transaction. Returns the customers still pending.
    /// </summary>
    public long BackfillStep(SqliteConnection conn, Statements sql, int customers, long nowMs)
    {
        if (_backfillPending == 0)
        {
            return 0;
        }

        using var tx = conn.BeginTransaction();
        var keys = new List<string>();
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
                    var payload = (byte[])r.GetValue(2);
                    if (_decoder.DecodeStored(r.GetString(0), (PayloadFormat)r.GetInt32(1), payload) is { } e)
                    {
                        _engine.Replay(state, FeatureInput.From(e), _backfill);
                    }
                }
            }

            _dirty[state] = null;
            doneParam.Value = key;
            done.ExecuteNonQuery();
        }

        try
        {
            Flush(sql, nowMs);
            tx.Commit();
        }
        catch
        {
            RolledBack(conn);
            throw;
        }

        Committed();
        _backfillPending = Math.Max(0, _backfillPending - keys.Count);
        if (keys.Count == 0)
        {
            _backfillPending = 0;
        }

        PublishBackfill();
        return _backfillPending;
    }

    private CustomerState State(Statements sql, string customerKey)
    {
        if (_cache.TryGetValue(customerKey, out var cached))
        {
            return cached;
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

        _cache[customerKey] = state;
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
