using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Core.Features;
using System.Globalization;
using EdgeProfile.Edge.Features;
using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Log;
using EdgeProfile.Explanations;
using EdgeProfile.Models.Serving;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Scoring;

/// <summary>
/// The edge's serving model (in a <see cref="ModelHost"/> whose models each bring their own features) and every
/// customer's latest scores: customers whose features changed are marked here by the log writer after its commit (a
/// set, so a busy customer is scored once however many events it had meanwhile) and scored by
/// <see cref="ScoringService"/>; the scores live in memory (the most recent ones) and in the <c>model_scores</c> table.
/// The model at start is the one the hub last assigned and this edge accepted (<see cref="ModelStore"/>), else
/// <c>Edge:Models:File</c>, else none until the hub assigns one (<see cref="ModelSubscriber"/>); every later model is
/// deployed through <see cref="Deploy"/> behind a canary and swapped atomically under load.
/// </summary>
/// <remarks>
/// Erasure safety: a score is written only while the customer's profile row exists (one statement), and the write and
/// the in-memory update happen under the same lock that <see cref="Forget"/> takes after an erasure commits, so a
/// scoring pass that read a customer just before its erasure can leave nothing behind.
/// </remarks>
public sealed class ModelScoring : IDisposable
{
    /// <summary>Scores kept in memory; past this the memory starts over and reads go to SQLite.</summary>
    private const int MaxCached = 100_000;

    private readonly ModelHost _host;
    private readonly FeatureRuntime _runtime;
    private readonly EdgeDatabase _db;
    private readonly EventDecoder _decoder;
    private readonly EdgeOptions.ModelSettings _settings;
    private readonly Lock _dirtyGate = new();
    private readonly Lock _storeGate = new();
    private readonly ConcurrentDictionary<string, CustomerScores> _cache = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly OutboxSignal _uplink;
    private HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<ModelExplainer?>> _explainers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _explainProblems = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<JsonObject?>> _importance = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;
    private long _generation;
    private long _prunedAtMs;

    /// <summary>Deploys the start model, if there is one: the hub's last accepted assignment, else the configured file.</summary>
    /// <exception cref="InvalidDataException">The configured file cannot serve (named by its key).</exception>
    public ModelScoring(IOptions<EdgeOptions> options, FeatureRuntime runtime, EdgeDatabase db, EventDecoder decoder, ModelStore store, TimeProvider clock,
        OutboxSignal uplink)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        _uplink = uplink;
        _runtime = runtime;
        _db = db;
        _decoder = decoder;
        _settings = options.Value.Models;
        _clock = clock;
        _host = new ModelHost(new ModelHostOptions { MaxAucDrop = _settings.MaxAucDrop }, clock);
        if (store.Load() is { } saved)
        {
            var result = Deploy(saved.Content, saved.Version);
            if (result.Accepted)
            {
                StartSource = $"the hub's assignment (revision {saved.Revision})";
                return;
            }

            // The saved file no longer passes (e.g. the features it takes were retired): fall back to the configured file.
            StartProblem = result.Message;
        }

        var path = options.Value.Models.File;
        if (string.IsNullOrWhiteSpace(path))
        {
            return;
        }

        // Its version is the one its metadata (or hash) gives; the file was checked at start (ModelFile.Problem).
        var deployed = DeployAs(File.ReadAllBytes(path), version: null);
        if (!deployed.Accepted)
        {
            _host.Dispose();
            throw new InvalidDataException($"{ModelFile.Key} '{path}': {deployed.Message}");
        }

        StartSource = $"{ModelFile.Key} '{path}'";
    }

    /// <summary>The serving model's features, in input order (empty without a model).</summary>
    public IReadOnlyList<string> Features => _host.Current?.Features ?? [];

    /// <summary>The serving model's version, or null when none serves.</summary>
    public string? Version => _host.Current?.Version;

    /// <summary>Where the model served at start came from, or null when none did.</summary>
    public string? StartSource { get; }

    /// <summary>Why the hub's saved assignment could not serve at start, or null.</summary>
    public string? StartProblem { get; }

    /// <summary>The model host (for its history, current and previous model).</summary>
    public ModelHost Host => _host;

    /// <summary>Grows by one with every deploy or rollback, so the scoring service knows to re-score everyone.</summary>
    internal long Generation => Interlocked.Read(ref _generation);

    /// <summary>
    /// Deploys a model behind the canary (a customer without features must score finite values; the candidate must
    /// list its features, each a numeric online feature of this edge). Refused: the serving model keeps serving and
    /// the result says why. Accepted: the swap is atomic (in-flight scores finish on the old model), and every
    /// customer is re-scored with the new one.
    /// </summary>
    public DeployResult Deploy(byte[] content, string version)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        return DeployAs(content, version);
    }

    /// <summary>As <see cref="Deploy(byte[], string)"/>; a null <paramref name="version"/> is the file's own
    /// (<see cref="ModelArtifact.Version"/>).</summary>
    private DeployResult DeployAs(byte[] content, string? version)
    {
        ArgumentNullException.ThrowIfNull(content);
        ModelArtifact artifact;
        try
        {
            artifact = ModelArtifact.Inspect(content, "the file");
        }
        catch (InvalidDataException ex)
        {
            return _host.Refuse(version ?? "(unversioned)", DeployFailure.LoadError, ex.Message);
        }

        version ??= artifact.Version;

        // Its inputs must be what this edge computes now; a model fed zeros for unknown features would score garbage.
        if (ModelFile.FeatureProblem(artifact.Features, _runtime.Engine.Set) is { } problem)
        {
            return _host.Refuse(version, DeployFailure.ShapeMismatch, problem);
        }

        // With a model serving, the candidate must also not be worse on this store's own customers.
        LocalHoldout? holdout = null;
        var note = "";
        if (_host.Current is not null && _settings.HoldoutRows > 0)
        {
            try
            {
                holdout = LocalHoldout.Build(_db, _decoder, _runtime.Engine.Set, LocalHoldout.TaskLabels(artifact), _settings.HoldoutRows, _settings.HoldoutMinRows, out var why);
                note = holdout is null
                    ? $" (no local holdout: {why})"
                    : string.Create(CultureInfo.InvariantCulture, $" (local holdout: {holdout.Rows} customers as of {holdout.Cutoff.UtcDateTime:yyyy-MM-dd HH:mm}Z)");
            }
            catch (SqliteException ex)
            {
                note = $" (no local holdout: reading the log failed: {ex.Message})";
            }
        }

        var result = _host.TryDeploy(content, version, features => new Canary(new float[features.Count], holdout?.For(features)));
        result = result with { Message = result.Message + note };
        if (result.Accepted)
        {
            // Kept for audits: a past decision's explanation is recomputed from this version's file.
            Archive(version, content);
            Interlocked.Increment(ref _generation);
            Signal();
        }

        return result;
    }

    /// <summary>Serves the previous model again (the hub assigned it back, or an operator asked).</summary>
    /// <exception cref="InvalidOperationException">There is no previous model.</exception>
    public ServedModel Rollback(string reason)
    {
        var model = _host.Rollback(reason);
        Interlocked.Increment(ref _generation);
        Signal();
        return model;
    }

    /// <summary>Customers waiting to be (re-)scored.</summary>
    public int Pending
    {
        get
        {
            lock (_dirtyGate)
            {
                return _dirty.Count;
            }
        }
    }

    /// <summary>
    /// Marks customers (primary keys) whose features changed in a committed batch. Called on the log writer's thread:
    /// takes a short lock to add to a set and never waits for scoring.
    /// </summary>
    public void Changed(IEnumerable<string> customerKeys)
    {
        ArgumentNullException.ThrowIfNull(customerKeys);
        if (_host.Current is null)
        {
            // Nothing to score with; when a model arrives the scoring service goes through every customer anyway.
            return;
        }

        var added = false;
        lock (_dirtyGate)
        {
            foreach (var key in customerKeys)
            {
                added |= _dirty.Add(key);
            }
        }

        if (added)
        {
            Signal();
        }
    }

    /// <summary>The customer's latest scores (by primary key), or null when it has none yet.</summary>
    public CustomerScores? Find(string customerKey)
    {
        // Lock-free: the cache is only changed under the store lock, and a read never waits for a scoring pass.
        if (_cache.TryGetValue(customerKey, out var cached))
        {
            return cached;
        }

        using var c = _db.OpenRead();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT model_version, scored_at_ms, missing_features, scores FROM model_scores WHERE customer_key = $k";
        cmd.Parameters.AddWithValue("$k", customerKey);
        using var r = cmd.ExecuteReader();
        return r.Read() ? new CustomerScores(r.GetString(0), r.GetInt64(1), r.GetInt32(2), r.GetString(3)) : null;
    }

    /// <summary>Drops erased customers' scores from memory and from the queue (their rows went in the erasure's transaction).</summary>
    public void Forget(IEnumerable<string> customerKeys)
    {
        ArgumentNullException.ThrowIfNull(customerKeys);
        var keys = customerKeys.ToList();
        lock (_dirtyGate)
        {
            _dirty.ExceptWith(keys);
        }

        lock (_storeGate)
        {
            foreach (var key in keys)
            {
                _cache.TryRemove(key, out _);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _host.Dispose();
        _signal.Dispose();
    }

    /// <summary>Waits until customers are marked (or the token fires).</summary>
    internal Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    /// <summary>Takes every marked customer, leaving the set empty.</summary>
    internal HashSet<string> TakeChanged()
    {
        lock (_dirtyGate)
        {
            var taken = _dirty;
            _dirty = new HashSet<string>(StringComparer.Ordinal);
            return taken;
        }
    }

    /// <summary>
    /// Scores one customer from its online features as of <paramref name="nowMs"/>: each of the model's features in
    /// the model's order, its value when fresh, else 0 (missing, stale, not a number, or no longer served), counted.
    /// </summary>
    internal CustomerScores? Score(string customerKey, long nowMs)
    {
        if (_host.Current is null)
        {
            return null;
        }

        // One model for the whole customer: its features, its row, its outputs and its version.
        using var lease = _host.Lease();
        var features = lease.Model.Features;
        var readings = _runtime.Read(_db, customerKey, nowMs, features);
        var row = new float[features.Count];
        var missing = 0;
        for (var i = 0; i < row.Length; i++)
        {
            if (readings?[i] is { Status: FeatureStatus.Fresh, Value.Number: { } value } && double.IsFinite(value))
            {
                row[i] = (float)value;
            }
            else
            {
                missing++;
            }
        }

        var result = lease.Score(row);

        var values = new JsonObject();
        for (var o = 0; o < result.Outputs.Count; o++)
        {
            var output = result.Output(o);
            values[result.Outputs[o].Name] = output.Length == 1
                ? JsonValue.Create(output[0])
                : new JsonArray([.. output.ToArray().Select(v => (JsonNode?)JsonValue.Create(v))]);
        }

        return new CustomerScores(result.Version, nowMs, missing, values.ToJsonString()) { Inputs = row };
    }

    /// <summary>
    /// Stores scores in one transaction on <paramref name="connection"/> (the scoring service's own) and then in
    /// memory; a customer erased meanwhile (no profile row any more) gets neither. Stored scores are pending for the
    /// hub until the uplink sends them, so it is woken.
    /// </summary>
    internal void Store(SqliteConnection connection, IReadOnlyList<(string Key, CustomerScores Scores)> scored)
    {
        lock (_storeGate)
        {
            var stored = new List<(string Key, CustomerScores Scores)>(scored.Count);
            using (var tx = connection.BeginTransaction())
            {
                using var cmd = connection.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = """
                    INSERT INTO model_scores(customer_key, model_version, scored_at_ms, missing_features, scores, inputs, explanation)
                    SELECT $k, $v, $t, $m, $s, $e, NULL WHERE EXISTS (SELECT 1 FROM profiles WHERE customer_key = $k)
                    ON CONFLICT(customer_key) DO UPDATE SET model_version = excluded.model_version,
                        scored_at_ms = excluded.scored_at_ms, missing_features = excluded.missing_features, scores = excluded.scores,
                        inputs = excluded.inputs, explanation = NULL
                    """;
                var k = cmd.Parameters.Add("$k", SqliteType.Text);
                var v = cmd.Parameters.Add("$v", SqliteType.Text);
                var t = cmd.Parameters.Add("$t", SqliteType.Integer);
                var m = cmd.Parameters.Add("$m", SqliteType.Integer);
                var s = cmd.Parameters.Add("$s", SqliteType.Text);
                var e = cmd.Parameters.Add("$e", SqliteType.Text);

                // The decision history (for audits) gains a row when a decision differs from the customer's previous
                // one (another model, other scores), not at every re-score that changed nothing. It keeps the row and,
                // once explained, the numbers (attributions); the reasons' text is rewritten from them on request.
                using var history = connection.CreateCommand();
                history.Transaction = tx;
                history.CommandText = """
                    INSERT INTO decisions(customer_key, model_version, scored_at_ms, scores, inputs)
                    SELECT $k, $v, $t, $s, $e WHERE $keep AND EXISTS (SELECT 1 FROM profiles WHERE customer_key = $k)
                        AND NOT EXISTS (SELECT 1 FROM model_scores WHERE customer_key = $k AND model_version = $v AND scores = $s)
                    """;
                var hk = history.Parameters.Add("$k", SqliteType.Text);
                var hv = history.Parameters.Add("$v", SqliteType.Text);
                var ht = history.Parameters.Add("$t", SqliteType.Integer);
                var hs = history.Parameters.Add("$s", SqliteType.Text);
                var he = history.Parameters.Add("$e", SqliteType.Text);
                history.Parameters.AddWithValue("$keep", _settings.Explanations.RetainDecisions > TimeSpan.Zero);
                foreach (var (key, scores) in scored)
                {
                    k.Value = hk.Value = key;
                    v.Value = hv.Value = scores.ModelVersion;
                    t.Value = ht.Value = scores.ScoredAtMs;
                    s.Value = hs.Value = scores.ValuesJson;
                    m.Value = scores.MissingFeatures;
                    e.Value = he.Value = scores.Inputs is { } row ? JsonSerializer.Serialize(row) : DBNull.Value;
                    history.ExecuteNonQuery();
                    if (cmd.ExecuteNonQuery() > 0)
                    {
                        stored.Add((key, scores with { Inputs = null }));
                    }
                }

                PruneDecisions(connection, tx);

                tx.Commit();
            }

            if (_cache.Count + stored.Count > MaxCached)
            {
                _cache.Clear();
            }

            foreach (var (key, scores) in stored)
            {
                _cache[key] = scores;
            }
        }

        if (scored.Count > 0)
        {
            _uplink.Notify();
        }
    }

    /// <summary>The customer's latest decision's explanation as stored with it, or null (none yet, or not explained yet).</summary>
    public DecisionExplanation? FindExplanation(string customerKey)
    {
        using var c = _db.OpenRead();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT explanation FROM model_scores WHERE customer_key = $k";
        cmd.Parameters.AddWithValue("$k", customerKey);
        return cmd.ExecuteScalar() is string json ? Stored(json) : null;
    }

    /// <summary>
    /// A decision: the customer's latest (<paramref name="atMs"/> null) or the one in force at <paramref name="atMs"/>
    /// (its latest decision scored at or before it, from the history), with the row it was computed from and its
    /// stored explanation (null until explained; the history's holds numbers, no text); null when there is none.
    /// </summary>
    public StoredDecision? FindDecision(string customerKey, long? atMs)
    {
        using var c = _db.OpenRead();
        using var cmd = c.CreateCommand();
        cmd.CommandText = atMs is null
            ? "SELECT scored_at_ms, model_version, scores, inputs, explanation FROM model_scores WHERE customer_key = $k"
            : """
              SELECT scored_at_ms, model_version, scores, inputs, explanation FROM decisions
              WHERE customer_key = $k AND scored_at_ms <= $t ORDER BY scored_at_ms DESC, id DESC LIMIT 1
              """;
        cmd.Parameters.AddWithValue("$k", customerKey);
        cmd.Parameters.AddWithValue("$t", atMs ?? 0);
        using var r = cmd.ExecuteReader();
        if (!r.Read())
        {
            return null;
        }

        return new StoredDecision(r.GetInt64(0), r.GetString(1), r.GetString(2),
            r.IsDBNull(3) ? null : JsonSerializer.Deserialize<float[]>(r.GetString(3)),
            r.IsDBNull(4) ? null : Stored(r.GetString(4)));
    }

    /// <summary>A stored explanation; null for the mark of a decision its model could not explain (<c>{}</c>).</summary>
    private static DecisionExplanation? Stored(string json) => json == "{}" ? null : DecisionExplanation.Parse(json);

    /// <summary>
    /// Explains stored scores that have no explanation yet (up to <paramref name="limit"/>, on the scoring service's
    /// connection, after their scores were stored: a score never waits for its explanation). Each explanation is
    /// written only while its score is still the customer's latest, goes into the decision history (numbers), and
    /// makes the score pending for the hub again so that it travels up with its explanation. Returns how many rows
    /// it looked at (0: nothing left to explain).
    /// </summary>
    internal int ExplainPending(SqliteConnection connection, int limit)
    {
        if (!_settings.Explanations.Enabled)
        {
            return 0;
        }

        var pending = new List<(string Key, string Version, long At, string Scores, string Inputs)>();
        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = """
                SELECT customer_key, model_version, scored_at_ms, scores, inputs FROM model_scores
                WHERE explanation IS NULL AND inputs IS NOT NULL LIMIT $n
                """;
            cmd.Parameters.AddWithValue("$n", limit);
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                pending.Add((r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetString(4)));
            }
        }

        if (pending.Count == 0)
        {
            return 0;
        }

        var explained = new List<(string Key, long At, string Full, string Numbers)>(pending.Count);
        foreach (var (key, version, at, scores, inputs) in pending)
        {
            var row = JsonSerializer.Deserialize<double[]>(inputs) ?? [];
            var explanation = WithExplainer(version, e => row.Length == e.Features.Count ? e.Explain(row, Flatten(scores)) : null);

            // A version that cannot be explained here (or a row of another shape) is marked, so it is not retried forever.
            var full = explanation?.ToJson() ?? "{}";
            explained.Add((key, at, full, explanation?.WithoutReasons().ToJson() ?? "{}"));
        }

        lock (_storeGate)
        {
            using var tx = connection.BeginTransaction();
            using var update = connection.CreateCommand();
            update.Transaction = tx;
            update.CommandText = """
                UPDATE model_scores SET explanation = $e, uploaded_at_ms = MIN(uploaded_at_ms, scored_at_ms - 1)
                WHERE customer_key = $k AND scored_at_ms = $t AND explanation IS NULL
                """;
            var k = update.Parameters.Add("$k", SqliteType.Text);
            var t = update.Parameters.Add("$t", SqliteType.Integer);
            var e = update.Parameters.Add("$e", SqliteType.Text);
            using var history = connection.CreateCommand();
            history.Transaction = tx;
            history.CommandText = "UPDATE decisions SET explanation = $e WHERE customer_key = $k AND scored_at_ms = $t AND explanation IS NULL";
            var hk = history.Parameters.Add("$k", SqliteType.Text);
            var ht = history.Parameters.Add("$t", SqliteType.Integer);
            var he = history.Parameters.Add("$e", SqliteType.Text);
            foreach (var (key, at, full, numbers) in explained)
            {
                k.Value = hk.Value = key;
                t.Value = ht.Value = at;
                e.Value = full;
                he.Value = numbers;
                update.ExecuteNonQuery();
                history.ExecuteNonQuery();
            }

            tx.Commit();
        }

        _uplink.Notify();
        return pending.Count;
    }

    /// <summary>A stored score's outputs in model order (a scores JSON object: task → number or array).</summary>
    internal static float[]? Flatten(string scoresJson)
    {
        if (JsonNode.Parse(scoresJson) is not JsonObject values)
        {
            return null;
        }

        var flat = new List<float>();
        foreach (var (_, value) in values)
        {
            if (value is JsonArray array)
            {
                flat.AddRange(array.Select(v => v?.GetValue<float>() ?? float.NaN));
            }
            else if (value is not null)
            {
                flat.Add(value.GetValue<float>());
            }
        }

        return [.. flat];
    }

    /// <summary>
    /// The explainer of a model version this edge served (built on first use from the serving model or the archive),
    /// or null when the version is unknown here or cannot be explained (<see cref="ExplainProblem"/> says why).
    /// </summary>
    public ModelExplainer? Explainer(string version) =>
        _explainers.GetOrAdd(version, v => new Lazy<ModelExplainer?>(() => BuildExplainer(v))).Value;

    /// <summary>
    /// The global importance of a version this edge served (mean |φ| per group over its background rows, per output),
    /// computed once per version file; null when the version is unknown here or cannot be explained.
    /// </summary>
    public JsonObject? Importance(string version) =>
        _importance.GetOrAdd(version, v => new Lazy<JsonObject?>(() => WithExplainer(v, ExplanationView.Importance))).Value;

    /// <summary>Why <paramref name="version"/> cannot be explained, or null.</summary>
    public string? ExplainProblem(string version) => _explainProblems.TryGetValue(version, out var problem) ? problem : null;

    /// <summary>Runs <paramref name="explain"/> on the version's explainer under its lock (explainers keep buffers).</summary>
    public T? WithExplainer<T>(string version, Func<ModelExplainer, T?> explain) where T : class
    {
        ArgumentNullException.ThrowIfNull(explain);
        if (Explainer(version) is not { } explainer)
        {
            return null;
        }

        lock (explainer)
        {
            return explain(explainer);
        }
    }

    private ModelExplainer? BuildExplainer(string version)
    {
        byte[]? content = null;
        using (var c = _db.OpenRead())
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT content FROM model_archive WHERE version = $v";
            cmd.Parameters.AddWithValue("$v", version);
            content = cmd.ExecuteScalar() as byte[];
        }

        if (content is null)
        {
            _explainProblems[version] = $"model {version} is not in this edge's archive";
            return null;
        }

        try
        {
            return ModelExplainer.Create(content, version, _runtime.Engine.Set.Definitions, new ExplainerOptions
            {
                BackgroundRows = _settings.Explanations.BackgroundRows,
                TopReasons = _settings.Explanations.TopReasons,
            });
        }
        catch (InvalidDataException ex)
        {
            _explainProblems[version] = ex.Message;
            return null;
        }
    }

    private void Archive(string version, byte[] content)
    {
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            INSERT INTO model_archive(version, sha256, archived_at_ms, content) VALUES ($v, $h, $t, $c)
            ON CONFLICT(version) DO UPDATE SET sha256 = excluded.sha256, archived_at_ms = excluded.archived_at_ms, content = excluded.content
            WHERE model_archive.sha256 <> excluded.sha256
            """;
        cmd.Parameters.AddWithValue("$v", version);
        cmd.Parameters.AddWithValue("$h", ModelArtifact.Sha256Of(content));
        cmd.Parameters.AddWithValue("$t", _clock.GetUtcNow().ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$c", content);
        if (cmd.ExecuteNonQuery() > 0)
        {
            // The version's file changed (or is new): explain with this one.
            _explainers.TryRemove(version, out _);
            _explainProblems.TryRemove(version, out _);
            _importance.TryRemove(version, out _);
        }
    }

    private void PruneDecisions(SqliteConnection connection, SqliteTransaction tx)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (now - _prunedAtMs < 600_000 && _prunedAtMs != 0)
        {
            return;
        }

        _prunedAtMs = now;
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "DELETE FROM decisions WHERE scored_at_ms < $cut";
        cmd.Parameters.AddWithValue("$cut", now - (long)_settings.Explanations.RetainDecisions.TotalMilliseconds);
        cmd.ExecuteNonQuery();
    }

    private void Signal()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Signalled already: the service will take this customer with the others.
        }
        catch (ObjectDisposedException)
        {
            // Stopping.
        }
    }
}
