using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using System.Collections.Concurrent;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Customers;
using EdgeProfile.Core.Features;
using EdgeProfile.Core.Identity;
using EdgeProfile.Core.Profiles;
using EdgeProfile.Edge.Features;
using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Scoring;
using EdgeProfile.Edge.Uplink;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Log;

/// <summary>
/// The single writer of the edge database. Takes decoded messages from a bounded queue and commits them in groups:
/// one transaction appends the events (idempotent on eventId), records dead letters, updates the store profiles and
/// writes the outbox deltas; only then are the messages' completions released (and so their PUBACKs sent). The
/// stream engine runs inside the same transaction (see <see cref="FeatureWriter"/>), and new feature definitions are
/// applied and backfilled here, between batches.
/// </summary>
public sealed partial class LogWriter : BackgroundService, IFeatureSetSink
{
    private static readonly TimeSpan IdleTick = TimeSpan.FromSeconds(1);
    private const int MaxDeadLetterBytes = 80 * 1024;
    private const int MaxCachedCustomers = 250_000;
    private const int RetagSlice = 512;
    private const string RulesUplinkedKey = "rules_uplinked";

    private readonly Channel<IngestItem> _queue;
    private readonly EdgeDatabase _db;
    private readonly EdgeStats _stats;
    private readonly OutboxSignal _signal;
    private readonly EdgeOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<LogWriter> _logger;
    private readonly Dictionary<string, string> _keyCache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoreProfile> _profileCache = new(StringComparer.Ordinal);

    // The profiles a batch touched; one set for every batch (cleared at its start), not a new one per batch.
    private readonly HashSet<StoreProfile> _touched = [];

    // Reused for every stored event, so that encoding its delta and its profile's JSON allocates nothing.
    private readonly DeltaEncoder _deltas = new();
    private readonly ArrayBufferWriter<byte> _profileJson = new(4096);
    private readonly Utf8JsonWriter _profileWriter;
    private readonly long _budgetBytes;
    private readonly bool _uplink;
    private readonly FeatureRuntime _runtime;
    private readonly FeatureWriter _features;
    private readonly Rules.RuleRuntime? _rules;
    private readonly WalCheckpointer? _checkpointer;

    // The retag pass after a new rule set (see Retag): the version every uplinked profile reflects (-1: not read yet),
    // the version being passed over, the baseline it compares with, and the next customer key.
    private long _rulesUplinked = -1;
    private long _retagFor = -1;
    private Knowledge.TagRuleSet? _retagBaseline;
    private bool _retagBaselineKnown;
    private string _retagCursor = "";
    private readonly ConcurrentQueue<(FeatureSet Set, TaskCompletionSource Done)> _pendingSets = new();
    private readonly ConcurrentQueue<(string RequestId, IReadOnlyList<string> Keys, TaskCompletionSource Done)> _pendingErasures = new();
    private HashSet<string> _suppressed = new(StringComparer.Ordinal);
    private readonly EdgeIdentity _identity;
    private readonly ModelScoring? _scoring;
    private IdentityPolicy? _policy;
    private Pseudonymizer? _policyPseudonymizer;
    private long _deadLetterRows;
    private long _lastFullWarning;
    private long _lastRefillTick;

    /// <summary>Creates the writer; the database is opened when the host starts it.</summary>
    public LogWriter(EdgeDatabase db, EdgeStats stats, OutboxSignal signal, IOptions<EdgeOptions> options, FeatureRuntime runtime, EventDecoder decoder,
        EdgeIdentity identity, TimeProvider clock, ILogger<LogWriter> logger, ModelScoring? scoring = null, Rules.RuleRuntime? rules = null,
        WalCheckpointer? checkpointer = null)
    {
        _rules = rules;
        _checkpointer = checkpointer;
        ArgumentNullException.ThrowIfNull(options);
        _db = db;
        _scoring = scoring;
        _identity = identity;
        _stats = stats;
        _signal = signal;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
        _budgetBytes = _options.Uplink.DiskBudgetMb * 1024 * 1024;
        _profileWriter = new Utf8JsonWriter(_profileJson, new JsonWriterOptions { SkipValidation = true });
        _runtime = runtime;
        _features = new FeatureWriter(runtime, decoder, _options);

        // A standalone edge (no hub) keeps no outbox; once it is given a hub, the latest state of every customer it
        // already knows is queued for it (see SeedUplink).
        _uplink = !string.IsNullOrWhiteSpace(_options.HubUrl);
        _queue = System.Threading.Channels.Channel.CreateBounded<IngestItem>(new BoundedChannelOptions(_options.Log.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>
    /// Queues a message for the log; waits while the queue is full (back-pressure on publishers).
    /// Throws <see cref="ChannelClosedException"/> once the agent is stopping: the caller must not acknowledge.
    /// </summary>
    public ValueTask SubmitAsync(IngestItem item, CancellationToken cancellationToken) => _queue.Writer.WriteAsync(item, cancellationToken);

    /// <inheritdoc />
    public long AppliedRevision => _runtime.AppliedRevision;

    /// <inheritdoc />
    public Task ApplyAsync(FeatureSet set, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingSets.Enqueue((set, done));
        if (!_queue.Writer.TryWrite(IngestItem.Tick))
        {
            // The queue is full: the writer is busy and looks at pending sets after every batch anyway.
        }

        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Erases the customers <paramref name="keys"/> name (see <see cref="EdgeErasure"/>) between two batches, so no cached
    /// state writes them back; completes once the erasure has committed.
    /// </summary>
    public Task EraseAsync(string requestId, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingErasures.Enqueue((requestId, keys, done));
        _queue.Writer.TryWrite(IngestItem.Tick);
        return done.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Ingest has stopped by now (it stops first); drain what is queued, then finish.
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var conn = _db.Open();
        // The WAL is copied back by WalCheckpointer on its own connection, never inside one of these commits. A 16 MiB
        // page cache (SQLite's default is 2 MB) keeps the profile and index pages this writer rewrites in memory:
        // with the default, each profile upsert read its pages back (bench-features, README). Larger measured no
        // better, and SQLite walks the cache's table at every commit.
        EdgeDatabase.Exec(conn, "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-16384;");
        using var sql = new Statements(conn);
        LoadState(conn);
        var batch = new List<IngestItem>(_options.Log.MaxBatch);
        var reader = _queue.Reader;

        // A timer queues a tick once a second, so that the loop below only ever waits on the queue (one waiter,
        // no timer per wake-up) and still gets to refill the outbox from the overflow list when ingest is quiet.
        using var ticker = new PeriodicTimer(IdleTick, _clock);
        var ticks = TickAsync(ticker, stoppingToken);
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            batch.Clear();
            var tick = false;
            while (batch.Count < _options.Log.MaxBatch && reader.TryRead(out var item))
            {
                if (ReferenceEquals(item, IngestItem.Tick))
                {
                    tick = true;
                    continue;
                }

                batch.Add(item);
            }

            if (batch.Count > 0)
            {
                CommitBatch(conn, sql, batch);
            }

            if (_checkpointer is { RestartWanted: true })
            {
                // Between batches, on this connection: the restart never waits for the write lock (see WalCheckpointer).
                try
                {
                    _checkpointer.Restart(conn);
                }
                catch (SqliteException ex)
                {
                    LogRestartFailed(_logger, ex);
                }
            }

            if (!_pendingSets.IsEmpty)
            {
                ApplyPendingSets(conn, sql);
            }

            if (!_pendingErasures.IsEmpty)
            {
                ApplyPendingErasures(conn);
            }

            if (_features.BackfillRunning)
            {
                Backfill(conn, sql);
            }
            else if (_uplink && _rules is not null && _rules.Applied.Version != RulesUplinked(conn, sql))
            {
                Retag(conn, sql);
            }

            if (tick)
            {
                CheckpointFeatures(conn, sql, force: false);
            }

            if (_stats.OverflowCustomers > 0 && (tick || Environment.TickCount64 - _lastRefillTick >= IdleTick.TotalMilliseconds))
            {
                TryRefillFromOverflow(conn, sql);
            }
        }

        await ticks.ConfigureAwait(false);
        CheckpointFeatures(conn, sql, force: true);
        LogDrained(_logger, _stats.EventsStored);
    }

    /// <summary>The rules version whose tags the hub has for every customer of this store (0: none; -1: not read yet).</summary>
    public long RulesUplinkedVersion => Volatile.Read(ref _rulesUplinked);

    private long RulesUplinked(SqliteConnection conn, Statements sql)
    {
        if (_rulesUplinked == -1)
        {
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT value FROM engine_meta WHERE name = $n";
            cmd.Parameters.AddWithValue("$n", RulesUplinkedKey);
            if (cmd.ExecuteScalar() is byte[] stored && long.TryParse(Encoding.UTF8.GetString(stored), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            {
                Volatile.Write(ref _rulesUplinked, v);
            }
            else
            {
                // A new data directory (or one from before rule tags were uplinked): the deltas from now on carry the
                // applied rules' tags, and only a later set needs a pass.
                var applied = _rules!.Applied.Version;
                using var tx = conn.BeginTransaction();
                sql.SetMeta(RulesUplinkedKey, Encoding.UTF8.GetBytes(applied.ToString(CultureInfo.InvariantCulture)));
                tx.Commit();
                Volatile.Write(ref _rulesUplinked, applied);
            }
        }

        return _rulesUplinked;
    }

    /// <summary>
    /// After a new rule set, brings the hub's view of every customer's rule tags up to date, a slice per turn so ingest
    /// keeps going: each customer whose tags differ between the set the hub last had for everyone and the new one (all
    /// customers when that set is no longer known here, e.g. after a restart in the middle of a pass) gets a fresh
    /// delta. A newer set arriving mid-pass starts the pass over against the same baseline. The finished version is
    /// stored, so a restart resumes only what it must.
    /// </summary>
    private void Retag(SqliteConnection conn, Statements sql)
    {
        var (version, set) = _rules!.Applied;
        if (_retagFor != version)
        {
            _retagFor = version;
            _retagCursor = "";
            _retagBaselineKnown = _rulesUplinked >= 0 && _rules.TryGetSet(_rulesUplinked, out _retagBaseline);
        }

        if (_stats.OutboxBytes > _budgetBytes * 8 / 10)
        {
            return; // the uplink is behind: the pass waits rather than overflow
        }

        try
        {
            var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            long rows = 0, bytes = 0, overflow = 0;
            var done = false;
            using (var tx = conn.BeginTransaction())
            {
                var keys = new List<string>(RetagSlice);
                using (var cmd = conn.CreateCommand())
                {
                    cmd.Transaction = tx;
                    cmd.CommandText = "SELECT customer_key FROM profiles WHERE customer_key > $c ORDER BY customer_key LIMIT $n";
                    cmd.Parameters.AddWithValue("$c", _retagCursor);
                    cmd.Parameters.AddWithValue("$n", RetagSlice);
                    using var reader = cmd.ExecuteReader();
                    while (reader.Read())
                    {
                        keys.Add(reader.GetString(0));
                    }
                }

                foreach (var key in keys)
                {
                    if (sql.SelectProfile(key) is not { } json || _features.Peek(sql, key) is not { } state)
                    {
                        continue;
                    }

                    var profile = ProfileJson.Deserialize(json);
                    var asOf = profile.LastSeen.ToUnixTimeMilliseconds();
                    var tags = _features.RuleTagNames(state, asOf, set);
                    if (_retagBaselineKnown && _features.RuleTagNames(state, asOf, _retagBaseline).Order(StringComparer.Ordinal)
                            .SequenceEqual(tags.Order(StringComparer.Ordinal), StringComparer.Ordinal))
                    {
                        continue;
                    }

                    var delta = _deltas.Encode(profile, now, _features.DeltaTagNames(state, asOf, tags));
                    if (_stats.OutboxBytes + bytes + delta.Length > _budgetBytes)
                    {
                        overflow += sql.InsertOverflow(key);
                        continue;
                    }

                    sql.InsertOutbox(now, key, delta);
                    rows++;
                    bytes += delta.Length;
                }

                _retagCursor = keys.Count > 0 ? keys[^1] : _retagCursor;
                done = keys.Count < RetagSlice;
                if (done)
                {
                    sql.SetMeta(RulesUplinkedKey, Encoding.UTF8.GetBytes(version.ToString(CultureInfo.InvariantCulture)));
                }

                tx.Commit();
            }

            _stats.AddCommitted(0, 0, 0, 0, rows, bytes, now, overflow);
            if (done)
            {
                Volatile.Write(ref _rulesUplinked, version);
                LogRetagged(_logger, version);
            }

            if (rows > 0)
            {
                _signal.Notify();
            }
        }
        catch (Exception ex) when (ex is SqliteException or InvalidOperationException)
        {
            LogRetagFailed(_logger, version, ex.Message);
            _retagFor = -1; // start the slice over on the next turn
        }
    }

    private async Task TickAsync(PeriodicTimer ticker, CancellationToken stoppingToken)
    {
        try
        {
            while (await ticker.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                _queue.Writer.TryWrite(IngestItem.Tick);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: the queue is completed next and drained by the loop.
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _profileWriter.Dispose();
        base.Dispose();
    }

    private void CommitBatch(SqliteConnection conn, Statements sql, List<IngestItem> batch)
    {
        // Readers of live feature state wait for the batch (a few milliseconds) and then see it committed.
        using (_runtime.Write())
        {
            CommitBatchLocked(conn, sql, batch);
        }
    }

    private void CommitBatchLocked(SqliteConnection conn, Statements sql, List<IngestItem> batch)
    {
        long stored = 0, duplicates = 0, dead = 0, late = 0, outboxRows = 0, outboxBytes = 0, overflow = 0, suppressed = 0;
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var touched = _touched;
        touched.Clear();
        var started = Stopwatch.GetTimestamp();
        long engineTicks = 0, beforeCommit = 0;
        if (EdgeMetrics.QueueWait.Enabled)
        {
            foreach (var item in batch)
            {
                EdgeMetrics.QueueWait.Record(EdgeMetrics.Ms(item.QueuedTimestamp, started));
            }
        }

        if (_profileCache.Count > MaxCachedCustomers)
        {
            // The caches only save reads; past this size memory matters more than the reads.
            _profileCache.Clear();
            _keyCache.Clear();
        }

        try
        {
            using var tx = conn.BeginTransaction();
            foreach (var item in batch)
            {
                var e = item.Decoded.Event;
                if (e is null)
                {
                    var payload = item.Payload.Length > MaxDeadLetterBytes ? item.Payload[..MaxDeadLetterBytes] : item.Payload;
                    sql.InsertDead(now, item.Topic, item.Decoded.Field ?? "message", item.Decoded.Reason ?? "invalid", item.Payload.Length, payload.Span);
                    dead++;
                    continue;
                }

                if (IsSuppressed(item.CustomerKeys))
                {
                    // An erased customer: the event is acknowledged and not kept anywhere.
                    suppressed++;
                    continue;
                }

                var primaryKey = ResolveCustomer(sql, item.CustomerKeys);
                var occurredMs = e.OccurredAt.ToUnixTimeMilliseconds();
                if (!sql.InsertEvent(e.EventId, e.Type.Name(), occurredMs, item.ReceivedAt.ToUnixTimeMilliseconds(), primaryKey, item.Topic, (int)item.Format, item.Payload.Span))
                {
                    duplicates++;
                    continue;
                }

                stored++;
                var engineStart = Stopwatch.GetTimestamp();
                if (_features.Process(sql, sql.LastRowId, primaryKey, e, item.ReceivedAt.ToUnixTimeMilliseconds()) == EventOutcome.Late)
                {
                    late++;
                }

                engineTicks += Stopwatch.GetTimestamp() - engineStart;

                var profile = LoadProfile(sql, primaryKey, e);
                ProfileMath.Apply(profile, e, item.CustomerKeys);
                var keys = item.CustomerKeys;
                for (var k = 0; k < keys.Count; k++)
                {
                    // Indexed, not foreach: the keys are an interface, whose enumerator would be an object per event.
                    var key = keys[k];
                    if (!_keyCache.ContainsKey(key) && Policy.Blocked(key) is null)
                    {
                        sql.InsertKey(key, primaryKey);
                        _keyCache[key] = primaryKey;
                    }
                }

                touched.Add(profile);
                if (!_uplink)
                {
                    continue;
                }

                var delta = _deltas.Encode(profile, now, _features.DeltaTagNames(primaryKey, profile.LastSeen.ToUnixTimeMilliseconds(), _rules));
                if (_stats.OutboxBytes + outboxBytes + delta.Length > _budgetBytes)
                {
                    overflow += sql.InsertOverflow(primaryKey);
                    continue;
                }

                sql.InsertOutbox(now, primaryKey, delta);
                outboxRows++;
                outboxBytes += delta.Length;
            }

            var profilesStart = Stopwatch.GetTimestamp();
            foreach (var profile in touched)
            {
                _profileJson.ResetWrittenCount();
                _profileWriter.Reset(_profileJson);
                ProfileJson.Serialize(profile, _profileWriter);
                sql.UpsertProfile(profile.CustomerKey, now, _profileJson.WrittenSpan);
            }

            var checkpointStart = Stopwatch.GetTimestamp();
            EdgeMetrics.ProfileTime.Record(EdgeMetrics.Ms(profilesStart, checkpointStart));
            _features.BeforeCommit(sql, now);
            EdgeMetrics.CheckpointTime.Record(EdgeMetrics.Ms(checkpointStart, Stopwatch.GetTimestamp()));
            sql.AddCounters(stored, duplicates, dead, late);
            sql.AddCounter("events_suppressed", suppressed);
            _deadLetterRows += dead;
            if (_deadLetterRows > _options.DeadLetters.MaxCount)
            {
                _deadLetterRows -= sql.TrimDeadLetters(_options.DeadLetters.MaxCount);
            }

            beforeCommit = Stopwatch.GetTimestamp();
            tx.Commit();
        }
        catch (Exception ex)
        {
            // Nothing of this batch is durable: fail every completion so that no PUBACK goes out, and forget
            // cached state that the rolled-back transaction had changed.
            LogCommitFailed(_logger, ex, batch.Count);
            _keyCache.Clear();
            _profileCache.Clear();
            try
            {
                _features.RolledBack(conn);
            }
            catch (Exception recoverError)
            {
                LogCommitFailed(_logger, recoverError, 0);
            }

            foreach (var item in batch)
            {
                item.Fail(ex);
            }

            return;
        }

        var committed = Stopwatch.GetTimestamp();
        EdgeMetrics.BatchSize.Record(batch.Count);
        EdgeMetrics.EngineTime.Record(EdgeMetrics.Ms(0, engineTicks));
        EdgeMetrics.WriteTime.Record(EdgeMetrics.Ms(started, beforeCommit) - EdgeMetrics.Ms(0, engineTicks));
        EdgeMetrics.CommitTime.Record(EdgeMetrics.Ms(beforeCommit, committed));
        _features.Committed();
        _stats.AddCommitted(stored, duplicates, dead, late, outboxRows, outboxBytes, now, overflow);
        _stats.AddSuppressed(suppressed);
        foreach (var item in batch)
        {
            item.Commit();
        }

        // With a model (Edge:Models:File) the touched customers are re-scored after this commit, off this thread:
        // marking them is a set insert under a short lock (see ScoringService for why scoring is not done here).
        if (_scoring is not null && touched.Count > 0)
        {
            _scoring.Changed(touched.Select(p => p.CustomerKey));
        }

        if (outboxRows > 0)
        {
            _signal.Notify();
        }

        if (overflow > 0 || (_stats.OverflowCustomers > 0 && outboxRows == 0))
        {
            WarnOutboxFull(now);
        }
    }

    /// <summary>
    /// Blocked identifiers (Edge:Identity, e.g. a store tablet every customer uses) never tie customers together here,
    /// as at the hub; compiled against the current pseudonymisation key, which enrollment may replace.
    /// </summary>
    private IdentityPolicy Policy
    {
        get
        {
            var pseudonymizer = _identity.Pseudonymizer;
            if (_policy is null || !ReferenceEquals(pseudonymizer, _policyPseudonymizer))
            {
                _policy = new IdentityPolicy(_options.Identity, pseudonymizer.Hash, "Edge:Identity");
                _policyPseudonymizer = pseudonymizer;
            }

            return _policy;
        }
    }

    private string ResolveCustomer(Statements sql, IReadOnlyList<string> keys)
    {
        var policy = Policy;
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            if (policy.Blocked(key) is not null)
            {
                continue;
            }

            if (_keyCache.TryGetValue(key, out var known))
            {
                return known;
            }

            if (sql.SelectKey(key) is { } stored)
            {
                _keyCache[key] = stored;
                return stored;
            }
        }

        return keys[0];
    }

    private StoreProfile LoadProfile(Statements sql, string customerKey, CustomerEvent e)
    {
        if (_profileCache.TryGetValue(customerKey, out var cached))
        {
            return cached;
        }

        var profile = sql.SelectProfile(customerKey) is { } json ? ProfileJson.Deserialize(json) : ProfileMath.Create(customerKey, e);
        _profileCache[customerKey] = profile;
        return profile;
    }

    private void TryRefillFromOverflow(SqliteConnection conn, Statements sql)
    {
        if (_stats.OverflowCustomers == 0 || _stats.OutboxBytes > _budgetBytes * 8 / 10)
        {
            return;
        }

        _lastRefillTick = Environment.TickCount64;
        try
        {
            var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            using var tx = conn.BeginTransaction();
            var customers = sql.TakeOverflow(_options.Uplink.BatchSize);
            long rows = 0, bytes = 0;
            foreach (var key in customers)
            {
                if (sql.SelectProfile(key) is not { } json)
                {
                    continue;
                }

                var delta = _deltas.Encode(ProfileJson.Deserialize(json), now);
                sql.InsertOutbox(now, key, delta);
                rows++;
                bytes += delta.Length;
            }

            tx.Commit();
            _stats.AddCommitted(0, 0, 0, 0, rows, bytes, now, -customers.Count);
            LogOverflowRefilled(_logger, customers.Count, _stats.OverflowCustomers);
            _signal.Notify();
        }
        catch (Exception ex)
        {
            LogCommitFailed(_logger, ex, 0);
        }
    }

    private void CheckpointFeatures(SqliteConnection conn, Statements sql, bool force)
    {
        try
        {
            _features.Checkpoint(conn, sql, _clock.GetUtcNow().ToUnixTimeMilliseconds(), force);
        }
        catch (Exception ex)
        {
            // The log holds every event: the next checkpoint (or a replay at start) covers these.
            LogCheckpointFailed(_logger, ex);
        }
    }

    private void ApplyPendingErasures(SqliteConnection conn)
    {
        while (_pendingErasures.TryDequeue(out var pending))
        {
            try
            {
                using (_runtime.Write())
                {
                    // Deleted content is overwritten in the file, not just unlinked.
                    EdgeDatabase.Exec(conn, "PRAGMA secure_delete = ON;");
                    List<string> primaries, keys;
                    using (var tx = conn.BeginTransaction())
                    {
                        (primaries, keys) = EdgeErasure.Erase(conn, tx, pending.RequestId, pending.Keys, _clock.GetUtcNow().ToUnixTimeMilliseconds());
                        tx.Commit();
                    }

                    EdgeDatabase.Exec(conn, "PRAGMA secure_delete = OFF;");
                    foreach (var primary in primaries)
                    {
                        _profileCache.Remove(primary);
                        _features.Forget(primary);
                    }

                    _scoring?.Forget(primaries);

                    foreach (var key in keys)
                    {
                        _keyCache.Remove(key);
                        _suppressed.Add(Convert.ToHexString(EdgeErasure.KeyHash(key)));
                    }

                    foreach (var stale in _keyCache.Where(e => primaries.Contains(e.Value)).Select(e => e.Key).ToList())
                    {
                        _keyCache.Remove(stale);
                    }

                    LogErased(_logger, pending.RequestId, primaries.Count, keys.Count);
                }

                pending.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                LogEraseFailed(_logger, ex, pending.RequestId);
                pending.Done.TrySetException(ex);
            }
        }
    }

    private bool IsSuppressed(IReadOnlyList<string> keys)
    {
        if (_suppressed.Count == 0)
        {
            return false;
        }

        foreach (var key in keys)
        {
            if (_suppressed.Contains(Convert.ToHexString(EdgeErasure.KeyHash(key))))
            {
                return true;
            }
        }

        return false;
    }

    private void ApplyPendingSets(SqliteConnection conn, Statements sql)
    {
        while (_pendingSets.TryDequeue(out var pending))
        {
            try
            {
                // The hub's revision is authoritative: a lower one means the hub's registry was replaced, and its set
                // is served all the same. Only the very revision already served is skipped.
                if (pending.Set.Revision == _runtime.AppliedRevision && pending.Set.Revision != 0)
                {
                    pending.Done.TrySetResult();
                    continue;
                }

                var added = _features.Apply(conn, sql, pending.Set, _clock.GetUtcNow().ToUnixTimeMilliseconds());
                LogSetApplied(_logger, pending.Set.Revision, pending.Set.Definitions.Count, added.Count, _runtime.BackfillPending);
                pending.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                LogSetFailed(_logger, ex, pending.Set.Revision);
                pending.Done.TrySetException(ex);
            }
        }
    }

    private void Backfill(SqliteConnection conn, Statements sql)
    {
        try
        {
            var left = _features.BackfillStep(conn, sql, _options.Features.BackfillBatch, _clock.GetUtcNow().ToUnixTimeMilliseconds());
            if (_scoring is not null && _features.LastBackfilled.Count > 0)
            {
                // Their values of the new definitions changed: re-score them as after a commit.
                _scoring.Changed(_features.LastBackfilled);
            }

            if (left > 0)
            {
                // Come back for the next slice after whatever ingest has queued meanwhile.
                _queue.Writer.TryWrite(IngestItem.Tick);
            }
            else
            {
                LogBackfillDone(_logger, _runtime.AppliedRevision);
            }
        }
        catch (Exception ex)
        {
            LogBackfillFailed(_logger, ex);
        }
    }

    /// <summary>
    /// First start with a hub: every customer profiled while standalone is queued (through the overflow list, which
    /// the writer drains into the outbox as room allows), so the hub gets their latest state.
    /// </summary>
    private void SeedUplink(SqliteConnection conn)
    {
        using var tx = conn.BeginTransaction();
        EdgeDatabase.Exec(conn, "INSERT OR IGNORE INTO outbox_overflow(customer_key) SELECT customer_key FROM profiles", tx);
        EdgeDatabase.Exec(conn, "INSERT INTO counters(name,value) VALUES('uplink_seeded',1) ON CONFLICT(name) DO UPDATE SET value=1", tx);
        tx.Commit();
    }

    private void WarnOutboxFull(long nowMs)
    {
        if (nowMs - _lastFullWarning < 30_000)
        {
            return;
        }

        _lastFullWarning = nowMs;
        LogOutboxFull(_logger, _stats.OutboxBytes / (1024 * 1024), _options.Uplink.DiskBudgetMb, _stats.OverflowCustomers);
    }

    private void LoadState(SqliteConnection conn)
    {
        long Counter(string name) => EdgeDatabase.Scalar<long>(conn, $"SELECT value FROM counters WHERE name='{name}'");
        if (_uplink && Counter("uplink_seeded") == 0)
        {
            SeedUplink(conn);
        }

        _features.Load(conn);
        _deadLetterRows = EdgeDatabase.Scalar<long>(conn, "SELECT COUNT(*) FROM dead_letters");
        var backlog = EdgeDatabase.Scalar<long>(conn, "SELECT COUNT(*) FROM outbox");
        var bytes = EdgeDatabase.Scalar<long>(conn, "SELECT COALESCE(SUM(length(payload)),0) FROM outbox");
        var oldest = EdgeDatabase.Scalar<long>(conn, "SELECT COALESCE(MIN(created_at_ms),0) FROM outbox");
        var overflow = EdgeDatabase.Scalar<long>(conn, "SELECT COUNT(*) FROM outbox_overflow");
        _stats.Load(Counter("events_stored"), Counter("duplicates"), Counter("dead_lettered"), Counter("late_events"), backlog, bytes, oldest, overflow);
        _stats.LoadSuppressed(Counter("events_suppressed"));
        _suppressed = EdgeErasure.LoadSuppressed(conn);
        LogOpened(_logger, _db.Path, _stats.EventsStored, backlog);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tag rules version {Version}: every customer's rule tags are queued for the hub")]
    private static partial void LogRetagged(ILogger logger, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tag rules version {Version}: the retag pass failed ({Error}); it is retried")]
    private static partial void LogRetagFailed(ILogger logger, long version, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure {RequestId} carried out: {Customers} customer(s), {Keys} identifier(s) removed and suppressed")]
    private static partial void LogErased(ILogger logger, string requestId, int customers, int keys);

    [LoggerMessage(Level = LogLevel.Error, Message = "Erasure {RequestId} failed; it is retried when the hub sends it again")]
    private static partial void LogEraseFailed(ILogger logger, Exception exception, string requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event log {Path} open: {Events} events stored, {Backlog} deltas waiting for the hub")]
    private static partial void LogOpened(ILogger logger, string path, long events, long backlog);

    [LoggerMessage(Level = LogLevel.Information, Message = "Feature definitions of revision {Revision} served: {Count} definitions, {Added} new or changed, backfilling {Customers} customers from the log")]
    private static partial void LogSetApplied(ILogger logger, long revision, int count, int added, long customers);

    [LoggerMessage(Level = LogLevel.Error, Message = "Feature definitions of revision {Revision} could not be applied; the previous ones stay in service")]
    private static partial void LogSetFailed(ILogger logger, Exception ex, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feature checkpoint failed; events since the last one stay in the log and are replayed at start")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Feature backfill of revision {Revision} finished")]
    private static partial void LogBackfillDone(ILogger logger, long revision);

    [LoggerMessage(Level = LogLevel.Error, Message = "Feature backfill step failed; it is retried on the next turn")]
    private static partial void LogBackfillFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event log drained and closed ({Events} events stored)")]
    private static partial void LogDrained(ILogger logger, long events);

    [LoggerMessage(Level = LogLevel.Error, Message = "Commit of {Count} messages failed; none was acknowledged")]
    private static partial void LogCommitFailed(ILogger logger, Exception ex, int count);

    [LoggerMessage(Level = LogLevel.Critical, Message = "OUTBOX FULL: {UsedMb} MiB of Edge:Uplink:DiskBudgetMb={BudgetMb} used; the hub is not taking deltas. Ingest and local profiles continue; {Customers} customers' latest state will be sent when there is room")]
    private static partial void LogOutboxFull(ILogger logger, long usedMb, long budgetMb, long customers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Write-ahead log restart failed; it is asked for again at the next checkpoint")]
    private static partial void LogRestartFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox has room again: queued the latest state of {Count} customers ({Remaining} still waiting)")]
    private static partial void LogOverflowRefilled(ILogger logger, int count, long remaining);
}
