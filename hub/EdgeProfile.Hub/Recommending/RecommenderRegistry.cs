using System.Data.Common;
using EdgeProfile.Hub.Storage;
using EdgeProfile.Models.Recommending;
using EdgeProfile.Semantic.Text;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Recommending;

/// <summary>The live recommender: version and SHA-256 ("" when none), the file, and the loaded model the hub serves with.</summary>
internal sealed record RecommenderSnapshot(string Version, string Sha256, byte[] Content, long PublishedAtMs, string Action, Recommender? Recommender)
{
    public static RecommenderSnapshot None { get; } = new("", "", [], 0, "none", null);
}

/// <summary>A registered bundle, without its content.</summary>
internal sealed record RecommenderSummary(string Version, string Sha256, long Size, DateTimeOffset CreatedAt, string CreatedBy, string Description, bool Live);

/// <summary>A bundle refused: 400 (unusable), 404 (unknown version) or 409 (same version, other content).</summary>
internal sealed class RecommenderRegistryException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// The hub's recommender bundles: immutable files under a version in <c>recommenders</c>, the ordered publications
/// (publish or rollback) in <c>recommender_publications</c>, the live one loaded in memory for the hub's own
/// <c>/api/profiles/{key}/recommendations</c>, and watchers (<see cref="RecommenderDistributionService"/>) woken as soon as
/// a publication is committed. A bundle is loaded (every model inside) before it is stored, so edges only ever receive
/// bundles that load.
/// </summary>
internal sealed class RecommenderRegistry(HubDatabase db, HubChanges changes, TimeProvider time, ILogger<RecommenderRegistry> logger)
{
    /// <summary>Longest accepted description.</summary>
    public const int MaxDescriptionLength = 1000;

    private readonly Lock _gate = new();
    private RecommenderSnapshot _current = RecommenderSnapshot.None;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The live bundle (<see cref="RecommenderSnapshot.None"/> when nothing is published).</summary>
    public RecommenderSnapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>Loads the live bundle (at start, and when another replica published).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var latest = await db.ReadAsync(connection => Latest(connection, null), cancellationToken).ConfigureAwait(false);
        if (latest is null)
        {
            Swap(RecommenderSnapshot.None);
            return;
        }

        if (latest.Value.Sha256 == Current.Sha256)
        {
            return;
        }

        try
        {
            Swap(Load(latest.Value.Version, latest.Value.Sha256, latest.Value.Content, latest.Value.PublishedAt, latest.Value.Action));
        }
        catch (InvalidDataException ex)
        {
            // Stored bundles were loaded when registered; one that no longer loads (a newer format?) is not served.
            logger.LogError("recommender {Version} no longer loads: {Message}", latest.Value.Version, ex.Message);
        }
    }

    /// <summary>Registers a bundle (loads every model inside first) and, with <paramref name="publish"/>, makes it live.</summary>
    /// <exception cref="RecommenderRegistryException">400 unusable, 409 version conflict.</exception>
    public async Task<(RecommenderSummary Summary, bool Created)> RegisterAsync(byte[] content, string? description, string actor, bool publish, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (description is { Length: > MaxDescriptionLength })
        {
            throw new RecommenderRegistryException(400, $"description: longer than {MaxDescriptionLength} characters");
        }

        RecommenderBundle bundle;
        try
        {
            bundle = RecommenderBundle.FromBytes(content);
            using var check = new Recommender(bundle);
        }
        catch (InvalidDataException ex)
        {
            throw new RecommenderRegistryException(400, ex.Message);
        }

        var sha = RecommenderBundle.Sha256(content);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var created = await db.WriteAsync((connection, tx) =>
        {
            var existing = Sql.Text(connection, tx, "SELECT sha256 FROM recommenders WHERE version = @v;", ("@v", bundle.Version));
            if (existing is not null)
            {
                return existing == sha
                    ? false
                    : throw new RecommenderRegistryException(409,
                        $"recommender {bundle.Version} is registered with other content (sha256 {existing[..12]}…, this file {sha[..12]}…); bundles are immutable: build it under a new version");
            }

            Sql.Exec(connection, tx, """
                INSERT INTO recommenders (version, sha256, size, manifest, description, created_at, created_by, content)
                VALUES (@v, @h, @n, @m, @d, @t, @a, @c);
                """, ("@v", bundle.Version), ("@h", sha), ("@n", (long)content.Length), ("@m", ManifestText(bundle)), ("@d", description ?? ""),
                ("@t", now), ("@a", actor), ("@c", content));
            return true;
        }, cancellationToken).ConfigureAwait(false);

        if (publish)
        {
            await PublishAsync(bundle.Version, actor, cancellationToken).ConfigureAwait(false);
        }

        var summary = (await ListAsync(cancellationToken).ConfigureAwait(false)).First(s => s.Version == bundle.Version);
        return (summary, created);
    }

    /// <summary>Makes a registered version live.</summary>
    /// <exception cref="RecommenderRegistryException">404 when the version is not registered.</exception>
    public Task<RecommenderSnapshot> PublishAsync(string version, string actor, CancellationToken cancellationToken) =>
        StoreAsync(version, "publish", actor, cancellationToken);

    /// <summary>
    /// Makes live again the bundle that was live before the current one (the latest earlier publication of another
    /// version); null when there is none.
    /// </summary>
    public async Task<RecommenderSnapshot?> RollbackAsync(string actor, CancellationToken cancellationToken)
    {
        var current = Current;
        var target = await db.ReadAsync(connection => Sql.Text(connection, null, """
            SELECT version FROM recommender_publications WHERE version <> @v ORDER BY seq DESC LIMIT 1;
            """, ("@v", current.Version)), cancellationToken).ConfigureAwait(false);
        return target is null ? null : await StoreAsync(target, "rollback", actor, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every registered bundle, newest first.</summary>
    public Task<List<RecommenderSummary>> ListAsync(CancellationToken cancellationToken)
    {
        var live = Current.Version;
        return db.ReadAsync(connection =>
        {
            using var command = Sql.Command(connection, null, "SELECT version, sha256, size, created_at, created_by, description FROM recommenders ORDER BY created_at DESC, version;");
            using var reader = command.ExecuteReader();
            var list = new List<RecommenderSummary>();
            while (reader.Read())
            {
                var version = reader.GetString(0);
                list.Add(new RecommenderSummary(version, reader.GetString(1), Sql.Long(reader.GetValue(2)) ?? 0,
                    DateTimeOffset.FromUnixTimeMilliseconds(Sql.Long(reader.GetValue(3)) ?? 0), reader.GetString(4), reader.GetString(5), version == live));
            }

            return list;
        }, cancellationToken);
    }

    /// <summary>Completes with the live bundle as soon as its SHA-256 differs from <paramref name="knownSha256"/>.</summary>
    public async Task<RecommenderSnapshot> WaitForChangeAsync(string knownSha256, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_current.Sha256 != knownSha256)
                {
                    return _current;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<RecommenderSnapshot> StoreAsync(string version, string action, string actor, CancellationToken cancellationToken)
    {
        var stored = await db.WriteAsync((connection, tx) =>
        {
            using var command = Sql.Command(connection, tx, "SELECT sha256, content FROM recommenders WHERE version = @v;", ("@v", version));
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                throw new RecommenderRegistryException(404, $"no recommender {version} is registered");
            }

            var sha = reader.GetString(0);
            var content = (byte[])reader.GetValue(1);
            reader.Close();
            var next = (Sql.Long(Sql.Command(connection, tx, "SELECT COALESCE(MAX(seq), 0) FROM recommender_publications;").ExecuteScalar()) ?? 0) + 1;
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            Sql.Exec(connection, tx, "INSERT INTO recommender_publications (seq, version, published_at, action, actor) VALUES (@s, @v, @t, @a, @who);",
                ("@s", next), ("@v", version), ("@t", now), ("@a", action), ("@who", actor));
            changes.Publish(connection, tx, HubChanges.Recommenders);
            return (sha, content, now);
        }, cancellationToken).ConfigureAwait(false);
        var snapshot = stored.sha == Current.Sha256
            ? Current with { PublishedAtMs = stored.now, Action = action }
            : Load(version, stored.sha, stored.content, stored.now, action);
        Swap(snapshot);
        return snapshot;
    }

    private static RecommenderSnapshot Load(string version, string sha, byte[] content, long publishedAt, string action)
    {
        var bundle = RecommenderBundle.FromBytes(content);
        return new(version, sha, content, publishedAt, action, new Recommender(bundle, Semantic.MiniLm.SharedTextEmbedders.ForName(bundle.TextVectors?.Name)));
    }

    private static (string Version, string Sha256, byte[] Content, long PublishedAt, string Action)? Latest(DbConnection connection, DbTransaction? tx)
    {
        using var command = Sql.Command(connection, tx, """
            SELECT p.version, r.sha256, r.content, p.published_at, p.action
            FROM recommender_publications p JOIN recommenders r ON r.version = p.version
            ORDER BY p.seq DESC LIMIT 1;
            """);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? (reader.GetString(0), reader.GetString(1), (byte[])reader.GetValue(2), Sql.Long(reader.GetValue(3)) ?? 0, reader.GetString(4))
            : null;
    }

    private static string ManifestText(RecommenderBundle bundle) => System.Text.Json.JsonSerializer.Serialize(new
    {
        version = bundle.Version,
        createdAt = bundle.CreatedAt,
        items = bundle.Items.Count,
        vocabulary = bundle.VocabularySize,
        sasrec = bundle.SasRecOnnx is not null,
        item2vec = bundle.Item2Vec is not null,
        textEmbedder = bundle.TextVectors?.Name,
        metrics = bundle.Metrics,
        source = bundle.Source,
    });

    private void Swap(RecommenderSnapshot snapshot)
    {
        TaskCompletionSource changed;
        RecommenderSnapshot previous;
        lock (_gate)
        {
            if (snapshot.Sha256 == _current.Sha256 && snapshot.PublishedAtMs == _current.PublishedAtMs)
            {
                return;
            }

            previous = _current;
            _current = snapshot;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
        if (previous.Recommender is { } old && !ReferenceEquals(old, snapshot.Recommender))
        {
            // Requests may still be using it: release its ONNX session a little later.
            _ = Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None).ContinueWith(_ => old.Dispose(), TaskScheduler.Default);
        }
    }
}
