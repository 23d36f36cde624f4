using System.Data.Common;
using System.Text.Json;
using EdgeProfile.Core.Features;
using EdgeProfile.Hub.Features;
using EdgeProfile.Hub.Storage;
using EdgeProfile.Models.Serving;

namespace EdgeProfile.Hub.Models;

/// <summary>
/// The hub's model registry: immutable ONNX files under a version (with their metadata: features, tasks, metrics,
/// training window), the ordered history of deployments (which version which stores should serve; a rollback undoes
/// each targeted store's latest deployment), and what every store last reported doing with its assignment. The
/// deployment history is small and kept in memory as well; its revision (the last deployment's number) is what edges
/// watch through <see cref="WaitForChangeAsync"/>.
/// </summary>
internal sealed class ModelRegistry
{
    /// <summary>Longest accepted description.</summary>
    public const int MaxDescriptionLength = 1000;

    // Paths under /api/models that a version must not shadow.
    private static readonly HashSet<string> ReservedVersions = new(["status", "deployments", "rollback"], StringComparer.OrdinalIgnoreCase);

    private readonly HubDatabase _db;
    private readonly HubChanges _changes;
    private readonly DefinitionRegistry _features;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private DeploymentHistory _history = DeploymentHistory.Empty;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _loaded;

    public ModelRegistry(HubDatabase db, HubChanges changes, DefinitionRegistry features, TimeProvider time)
    {
        _db = db;
        _changes = changes;
        _features = features;
        _time = time;
    }

    /// <summary>The deployment history as last loaded or written.</summary>
    public DeploymentHistory History
    {
        get
        {
            lock (_gate)
            {
                return _history;
            }
        }
    }

    /// <summary>Re-reads the deployment history (at start, and when another replica changed it).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken) =>
        Publish(await _db.ReadAsync(connection => LoadHistory(connection, null), cancellationToken).ConfigureAwait(false));

    /// <summary>Completes with the history as soon as its revision differs from <paramref name="knownRevision"/>.</summary>
    public async Task<DeploymentHistory> WaitForChangeAsync(long knownRevision, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_history.Revision != knownRevision)
                {
                    return _history;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Registers a model file. It must load and score (see <see cref="ModelArtifact.Inspect"/>), and every feature it
    /// takes must be a current numeric definition of the feature registry, since that is what edges compute. The same
    /// file registered again is a no-op; a different file under an existing version is a conflict.
    /// </summary>
    /// <exception cref="ModelRegistryException">400 for an unusable file, 409 for a version conflict.</exception>
    public async Task<(ModelSummary Model, bool Created)> RegisterAsync(byte[] content, string? description, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ModelArtifact artifact;
        try
        {
            artifact = ModelArtifact.Inspect(content, "the model");
        }
        catch (InvalidDataException ex)
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, ex.Message);
        }

        if (ReservedVersions.Contains(artifact.Version))
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, $"version '{artifact.Version}' is reserved (it names an endpoint under /api/models); export the model under another version");
        }

        if (description is { Length: > MaxDescriptionLength })
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, $"description: longer than {MaxDescriptionLength} characters");
        }

        if (FeatureProblem(artifact.Features, _features.Current.Set) is { } problem)
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, $"model {artifact.Version}: {problem}");
        }

        var metadata = JsonSerializer.Serialize(artifact.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value));
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var created = await _db.WriteAsync((connection, tx) =>
        {
            var existing = Sql.Text(connection, tx, "SELECT sha256 FROM models WHERE version = @v;", ("@v", artifact.Version));
            if (existing is not null)
            {
                return existing == artifact.Sha256
                    ? false
                    : throw new ModelRegistryException(ModelRegistryError.Conflict,
                        $"version {artifact.Version} is registered with other content (sha256 {existing[..12]}…, this file {artifact.Sha256[..12]}…); models are immutable: export it under a new version");
            }

            Sql.Exec(connection, tx, """
                INSERT INTO models(version, sha256, size, metadata, description, created_at, created_by, content)
                VALUES (@v, @h, @n, @m, @d, @t, @a, @c);
                """, ("@v", artifact.Version), ("@h", artifact.Sha256), ("@n", artifact.Size), ("@m", metadata),
                ("@d", description ?? ""), ("@t", now), ("@a", actor), ("@c", content));
            return true;
        }, cancellationToken).ConfigureAwait(false);
        var summary = await GetAsync(artifact.Version, cancellationToken).ConfigureAwait(false);
        return (summary!, created);
    }

    /// <summary>Every registered model, newest first, with the stores assigned to it and serving it.</summary>
    public async Task<IReadOnlyList<ModelSummary>> ListAsync(CancellationToken cancellationToken)
    {
        var history = History;
        var (models, statuses, stores) = await _db.ReadAsync(connection =>
            (ReadModels(connection, null), ReadStatuses(connection), EnrolledStores(connection, null)), cancellationToken).ConfigureAwait(false);
        return [.. models.Select(m => Summarise(m, history, statuses, stores))];
    }

    /// <summary>One model's summary, or null.</summary>
    public async Task<ModelSummary?> GetAsync(string version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        var history = History;
        var (models, statuses, stores) = await _db.ReadAsync(connection =>
            (ReadModels(connection, version), ReadStatuses(connection), EnrolledStores(connection, null)), cancellationToken).ConfigureAwait(false);
        return models.Count == 0 ? null : Summarise(models[0], history, statuses, stores);
    }

    /// <summary>A model's ONNX file and its hash, or null for an unknown version.</summary>
    public Task<(byte[] Content, string Sha256)?> ContentAsync(string version, CancellationToken cancellationToken) =>
        _db.ReadAsync<(byte[] Content, string Sha256)?>(connection =>
        {
            using var command = Sql.Command(connection, null, "SELECT content, sha256 FROM models WHERE version = @v;", ("@v", version));
            using var reader = command.ExecuteReader();
            return reader.Read() ? ((byte[])reader.GetValue(0), reader.GetString(1)) : null;
        }, cancellationToken);

    /// <summary>
    /// Assigns <paramref name="version"/> to <paramref name="stores"/> (empty: every store, including stores enrolled
    /// later). The version must be registered and every named store enrolled and not revoked.
    /// </summary>
    public async Task<ModelDeployment> DeployAsync(string version, IReadOnlyList<string> stores, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(stores);
        var (deployment, history) = await _db.WriteAsync((connection, tx) =>
        {
            if (Sql.Text(connection, tx, "SELECT version FROM models WHERE version = @v;", ("@v", version)) is null)
            {
                throw new ModelRegistryException(ModelRegistryError.NotFound, $"model {version} is not registered (see GET /api/models)");
            }

            CheckStores(connection, tx, stores);
            var row = Insert(connection, tx, "deploy", version, stores, actor);
            return (row, LoadHistory(connection, tx));
        }, cancellationToken).ConfigureAwait(false);
        Publish(history);
        return deployment;
    }

    /// <summary>
    /// Undoes the latest deployment of each of <paramref name="stores"/> (empty: every enrolled store), so each
    /// returns to the model it was assigned before. A store with no earlier model cannot roll back: naming one is a
    /// conflict; with "every store" such stores are skipped, it is a conflict only when none can, and stores enrolled
    /// later are rolled back too (their assignment history replays the same entries).
    /// </summary>
    public async Task<RollbackResult> RollbackAsync(IReadOnlyList<string> stores, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stores);
        var (result, history) = await _db.WriteAsync((connection, tx) =>
        {
            CheckStores(connection, tx, stores);
            var before = LoadHistory(connection, tx);
            var targets = stores.Count > 0 ? stores : EnrolledStores(connection, tx);
            var moves = new List<StoreMove>();
            var stuck = new List<string>();
            foreach (var store in targets)
            {
                var stack = before.StackOf(store);
                if (stack.Count < 2)
                {
                    stuck.Add(store);
                    continue;
                }

                moves.Add(new StoreMove(store, stack[^1], stack[^2]));
            }

            if (moves.Count == 0 || (stores.Count > 0 && stuck.Count > 0))
            {
                throw new ModelRegistryException(ModelRegistryError.Conflict, stuck.Count == 0
                    ? "no store is enrolled, so there is nothing to roll back"
                    : $"nothing to roll back to for {string.Join(", ", stuck)}: no earlier model was deployed there");
            }

            // "Every store" stays every store: a store enrolled later follows the fleet's rollback too (a store with
            // nothing to undo is unaffected either way).
            var row = Insert(connection, tx, "rollback", null, stores.Count > 0 ? [.. moves.Select(m => m.StoreId)] : [], actor);
            return (new RollbackResult(row, moves, stuck), LoadHistory(connection, tx));
        }, cancellationToken).ConfigureAwait(false);
        Publish(history);
        return result;
    }

    /// <summary>Stores what a store reported about an assignment.</summary>
    public Task ReportAsync(string storeId, long revision, string version, string outcome, string message, string? servingVersion, CancellationToken cancellationToken) =>
        _db.WriteAsync((connection, tx) =>
        {
            var at = _time.GetUtcNow().ToUnixTimeMilliseconds();
            Sql.Exec(connection, tx, """
                INSERT INTO model_status(store_id, revision, version, outcome, message, serving_version, reported_at)
                VALUES (@s, @r, @v, @o, @m, @sv, @t)
                ON CONFLICT(store_id) DO UPDATE SET revision = excluded.revision, version = excluded.version,
                    outcome = excluded.outcome, message = excluded.message, serving_version = excluded.serving_version,
                    reported_at = excluded.reported_at;
                """, ("@s", storeId), ("@r", revision), ("@v", version), ("@o", outcome), ("@m", message),
                ("@sv", (object?)servingVersion ?? DBNull.Value), ("@t", at));
            Sql.Exec(connection, tx, "UPDATE stores SET model_version = @sv WHERE store_id = @s;",
                ("@sv", (object?)servingVersion ?? DBNull.Value), ("@s", storeId));
            return 0;
        }, cancellationToken);

    /// <summary>Every store's assignment and last report, for <c>GET /api/models/status</c>.</summary>
    public async Task<IReadOnlyList<StoreModelStatus>> StatusAsync(CancellationToken cancellationToken)
    {
        var history = History;
        var (statuses, stores) = await _db.ReadAsync(connection => (ReadStatuses(connection), EnrolledStores(connection, null)), cancellationToken).ConfigureAwait(false);
        return [.. stores.Select(s =>
        {
            statuses.TryGetValue(s, out var st);
            return new StoreModelStatus(s, history.AssignedTo(s), st?.Version, st?.Outcome, st?.Message, st?.ServingVersion, st?.ReportedAt);
        })];
    }

    /// <summary>Why a model taking <paramref name="features"/> cannot be fed by edges computing <paramref name="set"/>, or null.</summary>
    internal static string? FeatureProblem(IReadOnlyList<string> features, FeatureSet set)
    {
        var unknown = features.Where(n => set.Find(n) is null).ToList();
        if (unknown.Count > 0)
        {
            return $"{Count(unknown.Count, "feature")} {Preview(unknown)} {(unknown.Count == 1 ? "is" : "are")} not in the feature registry (register the definitions first: PUT /api/features/{{name}})";
        }

        var text = features.Where(n => !set.Find(n)!.IsNumeric()).ToList();
        return text.Count > 0
            ? $"{Count(text.Count, "feature")} {Preview(text)} {(text.Count == 1 ? "is" : "are")} not numeric (top-k rankings and text values cannot feed a model)"
            : null;
    }

    private static string Count(int n, string word) => n == 1 ? word : word + "s";

    private static string Preview(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(5).Select(n => $"'{n}'")) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");

    private ModelDeployment Insert(DbConnection connection, DbTransaction tx, string action, string? version, IReadOnlyList<string> stores, string actor)
    {
        var at = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var storesJson = JsonSerializer.Serialize(stores);
        Sql.Exec(connection, tx, "INSERT INTO model_deployments(at, action, version, stores, actor) VALUES (@t, @a, @v, @s, @by);",
            ("@t", at), ("@a", action), ("@v", (object?)version ?? DBNull.Value), ("@s", storesJson), ("@by", actor));
        using var command = Sql.Command(connection, tx, "SELECT max(seq) FROM model_deployments;");
        var seq = Sql.Long(command.ExecuteScalar()) ?? 0;
        _changes.Publish(connection, tx, HubChanges.Models);
        return new ModelDeployment(seq, DateTimeOffset.FromUnixTimeMilliseconds(at), action, version, stores, actor);
    }

    private static void CheckStores(DbConnection connection, DbTransaction tx, IReadOnlyList<string> stores)
    {
        if (stores.Count == 0)
        {
            return;
        }

        var enrolled = EnrolledStores(connection, tx).ToHashSet(StringComparer.Ordinal);
        var unknown = stores.Where(s => !enrolled.Contains(s)).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, $"stores: {Preview(unknown)} {(unknown.Count == 1 ? "is" : "are")} not enrolled (or revoked); see GET /api/stores");
        }
    }

    private static List<string> EnrolledStores(DbConnection connection, DbTransaction? tx) =>
        Sql.Texts(connection, tx, "SELECT store_id FROM stores WHERE revoked_at IS NULL ORDER BY store_id;");

    private static DeploymentHistory LoadHistory(DbConnection connection, DbTransaction? tx)
    {
        using var command = Sql.Command(connection, tx, "SELECT seq, at, action, version, stores, actor FROM model_deployments ORDER BY seq;");
        using var reader = command.ExecuteReader();
        var rows = new List<ModelDeployment>();
        while (reader.Read())
        {
            rows.Add(new ModelDeployment(
                reader.GetInt64(0),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                JsonSerializer.Deserialize<string[]>(reader.GetString(4)) ?? [],
                reader.GetString(5)));
        }

        return new DeploymentHistory(rows);
    }

    private static List<StoredModel> ReadModels(DbConnection connection, string? version)
    {
        using var command = version is null
            ? Sql.Command(connection, null, "SELECT version, sha256, size, metadata, description, created_at, created_by FROM models ORDER BY created_at DESC, version;")
            : Sql.Command(connection, null, "SELECT version, sha256, size, metadata, description, created_at, created_by FROM models WHERE version = @v;", ("@v", version));
        using var reader = command.ExecuteReader();
        var models = new List<StoredModel>();
        while (reader.Read())
        {
            models.Add(new StoredModel(reader.GetString(0), reader.GetString(1), reader.GetInt64(2),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(3)) ?? [],
                reader.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)), reader.GetString(6)));
        }

        return models;
    }

    private static Dictionary<string, StatusRow> ReadStatuses(DbConnection connection)
    {
        using var command = Sql.Command(connection, null, "SELECT store_id, version, outcome, message, serving_version, reported_at FROM model_status;");
        using var reader = command.ExecuteReader();
        var statuses = new Dictionary<string, StatusRow>(StringComparer.Ordinal);
        while (reader.Read())
        {
            statuses[reader.GetString(0)] = new StatusRow(reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));
        }

        return statuses;
    }

    private static ModelSummary Summarise(StoredModel m, DeploymentHistory history, Dictionary<string, StatusRow> statuses, List<string> stores)
    {
        var assigned = stores.Where(s => history.AssignedTo(s) == m.Version).ToList();
        var serving = statuses.Where(kv => kv.Value.ServingVersion == m.Version).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        var refused = statuses.Where(kv => kv.Value.Version == m.Version && kv.Value.Outcome == ModelOutcomes.Refused)
            .Select(kv => new StoreRefusal(kv.Key, kv.Value.Message)).OrderBy(r => r.StoreId, StringComparer.Ordinal).ToList();
        return ModelSummary.From(m.Version, m.Sha256, m.Size, m.Metadata, m.Description, m.CreatedAt, m.CreatedBy, assigned, serving, refused);
    }

    private void Publish(DeploymentHistory history)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            // Writers may finish in either order after their commits; only ever move forward.
            if (_loaded && history.Revision <= _history.Revision)
            {
                return;
            }

            _loaded = true;
            _history = history;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    private sealed record StoredModel(string Version, string Sha256, long Size, Dictionary<string, string> Metadata, string Description, DateTimeOffset CreatedAt, string CreatedBy);

    private sealed record StatusRow(string Version, string Outcome, string Message, string? ServingVersion, DateTimeOffset ReportedAt);
}
