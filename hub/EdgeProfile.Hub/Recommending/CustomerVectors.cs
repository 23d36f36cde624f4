using System.Threading.Channels;
using EdgeProfile.Hub.Storage;
using EdgeProfile.Models.Recommending;
using EdgeProfile.Semantic.Vectors;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Recommending;

/// <summary>One similar customer: the profile id and the cosine of the two SASRec embeddings.</summary>
internal sealed record SimilarCustomer(string ProfileId, float Similarity);

/// <summary>
/// "Similar customers" at the hub: every profile's SASRec embedding (the live recommender's last hidden state over the
/// customer's products at every store) in an HNSW index. The index is rebuilt when a recommender with another SASRec
/// goes live, kept up to date as uploads change profiles (re-embedded in the background, in batches), saved under
/// <c>{DataDir}/customer-vectors/</c> so a restart resumes it, and never holds a customer who withdrew analytics consent.
/// </summary>
internal sealed partial class CustomerVectors(RecommenderRegistry registry, HubDatabase db, HubPaths paths, ILogger<CustomerVectors> logger) : BackgroundService
{
    private readonly Channel<string> _changed = Channel.CreateBounded<string>(new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Lock _gate = new();
    private State? _state;
    private long _updates;

    /// <summary>Customers in the index (0 when no recommender with SASRec is live).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _state?.Index.Count ?? 0;
            }
        }
    }

    /// <summary>The recommender version the index was built with, or null.</summary>
    public string? Version
    {
        get
        {
            lock (_gate)
            {
                return _state?.Version;
            }
        }
    }

    /// <summary>Profiles re-embedded after uploads since the start.</summary>
    public long Updates => Interlocked.Read(ref _updates);

    /// <summary>Queues profiles whose products changed (never blocks; called after an upload commits).</summary>
    public void Changed(IEnumerable<string> profileIds)
    {
        foreach (var id in profileIds)
        {
            _changed.Writer.TryWrite(id);
        }
    }

    /// <summary>
    /// The <paramref name="k"/> customers most like <paramref name="profileId"/>, best first; null when there is no
    /// index or the customer has no embedding (no product the recommender knows).
    /// </summary>
    public async Task<IReadOnlyList<SimilarCustomer>?> SimilarAsync(string profileId, int k, CancellationToken cancellationToken)
    {
        State? state;
        lock (_gate)
        {
            state = _state;
        }

        if (state is null)
        {
            return null;
        }

        var id = Bare(profileId);
        var vector = state.Ids.TryGetValue(id, out var key) ? state.Index.GetVector(key) : null;
        if (vector is null)
        {
            var history = await ReadAsync([id], cancellationToken).ConfigureAwait(false);
            if (!history.TryGetValue(id, out var items) || state.Recommender.Embed(items) is not { } embedded)
            {
                return null;
            }

            vector = embedded;
        }

        var hits = state.Index.Search(vector, k + 1, hit => !(state.Ids.TryGetValue(id, out var self) && hit == self));
        lock (state.Keys)
        {
            return [.. hits.Take(k).Select(h => new SimilarCustomer("ep:" + state.Keys[(int)h.Key], h.Similarity))];
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var known = "";
        var rebuild = Task.CompletedTask;
        using var rebuildStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var live = registry.WaitForChangeAsync(known, stoppingToken);
        var batch = new HashSet<string>(StringComparer.Ordinal);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var read = _changed.Reader.WaitToReadAsync(stoppingToken).AsTask();
                var done = await Task.WhenAny(live, read).ConfigureAwait(false);
                if (done == live)
                {
                    var snapshot = await live.ConfigureAwait(false);
                    known = snapshot.Sha256;
                    live = registry.WaitForChangeAsync(known, stoppingToken);
                    await RebuildAsync(snapshot, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                await read.ConfigureAwait(false);
                // Let a burst of uploads gather, then re-embed it at once.
                await Task.Delay(200, stoppingToken).ConfigureAwait(false);
                batch.Clear();
                while (batch.Count < 5000 && _changed.Reader.TryRead(out var id))
                {
                    batch.Add(Bare(id));
                }

                await UpdateAsync(batch, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException or ArgumentException or IOException or System.Data.Common.DbException)
            {
                LogFailed(logger, ex.Message);
            }
        }

        State? last;
        lock (_gate)
        {
            last = _state;
        }

        if (last is not null)
        {
            Save(last);
        }
    }

    private async Task RebuildAsync(RecommenderSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (snapshot.Recommender is not { EmbeddingDimensions: > 0 } recommender)
        {
            Swap(null);
            return;
        }

        // A saved index of this very bundle: load it instead of embedding every customer again.
        var file = Path.Combine(paths.DataDir, "customer-vectors", snapshot.Sha256[..16] + ".hnsw");
        if (File.Exists(file) && TryLoad(file, snapshot.Version, recommender) is { } loaded)
        {
            Swap(loaded);
            LogLoaded(logger, loaded.Index.Count, snapshot.Version);
            return;
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var histories = await ReadAsync(null, cancellationToken).ConfigureAwait(false);
        var state = new State(snapshot.Version, snapshot.Sha256, recommender, new HnswIndex(recommender.EmbeddingDimensions, new HnswOptions { M = 16, EfConstruction = 100, EfSearch = 128 }));
        var keys = new List<long>();
        var vectors = new List<float[]>();
        foreach (var (profile, items) in histories)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (recommender.Embed(items) is { } vector)
            {
                keys.Add(state.KeyOf(profile));
                vectors.Add(vector);
            }
        }

        state.Index.UpsertRange(keys, vectors);
        Swap(state);
        Save(state);
        LogBuilt(logger, state.Index.Count, snapshot.Version, watch.Elapsed.TotalSeconds);
    }

    private async Task UpdateAsync(HashSet<string> profiles, CancellationToken cancellationToken)
    {
        State? state;
        lock (_gate)
        {
            state = _state;
        }

        if (state is null || profiles.Count == 0)
        {
            return;
        }

        var histories = await ReadAsync(profiles, cancellationToken).ConfigureAwait(false);
        foreach (var profile in profiles)
        {
            var vector = histories.TryGetValue(profile, out var items) ? state.Recommender.Embed(items) : null;
            if (vector is not null)
            {
                state.Index.Upsert(state.KeyOf(profile), vector);
            }
            else if (state.Ids.TryGetValue(profile, out var key))
            {
                state.Index.Remove(key); // erased, merged away, or withdrew consent
            }

            Interlocked.Increment(ref _updates);
        }
    }

    /// <summary>
    /// The products of every store's view of each profile (or of the given ones), merged in time order, leaving out
    /// customers who withdrew analytics consent under any of their keys.
    /// </summary>
    private Task<Dictionary<string, List<RecentInteraction>>> ReadAsync(IReadOnlyCollection<string>? only, CancellationToken cancellationToken) =>
        db.ReadAsync(connection =>
        {
            using var command = Sql.Command(connection, null, """
                SELECT ik.profile_id, sp.store_id, sp.items FROM identity_keys ik JOIN store_profiles sp ON sp.customer_key = ik.customer_key
                WHERE sp.items <> '[]'
                  AND NOT EXISTS (SELECT 1 FROM identity_keys k2 JOIN consents c ON c.customer_key = k2.customer_key
                                  WHERE k2.profile_id = ik.profile_id AND c.analytics <> 0)
                ORDER BY ik.profile_id;
                """);
            using var reader = command.ExecuteReader();
            var rows = new Dictionary<string, List<(string Store, string Json)>>(StringComparer.Ordinal);
            var wanted = only is null ? null : new HashSet<string>(only, StringComparer.Ordinal);
            while (reader.Read())
            {
                var profile = reader.GetString(0);
                if (wanted is not null && !wanted.Contains(profile))
                {
                    continue;
                }

                if (!rows.TryGetValue(profile, out var list))
                {
                    rows[profile] = list = [];
                }

                list.Add((reader.GetString(1), reader.GetString(2)));
            }

            var result = new Dictionary<string, List<RecentInteraction>>(StringComparer.Ordinal);
            foreach (var (profile, stores) in rows)
            {
                result[profile] = [.. StoreItems.Merge(stores).Select(i => new RecentInteraction(i.Sku, i.Name, i.Type))];
            }

            return result;
        }, cancellationToken);

    private void Swap(State? next)
    {
        State? previous;
        lock (_gate)
        {
            previous = _state;
            _state = next;
        }

        if (previous is not null && !ReferenceEquals(previous, next))
        {
            _ = Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None).ContinueWith(_ => previous.Index.Dispose(), TaskScheduler.Default);
        }
    }

    private void Save(State state)
    {
        try
        {
            var dir = Path.Combine(paths.DataDir, "customer-vectors");
            Directory.CreateDirectory(dir);
            var file = Path.Combine(dir, state.Sha256[..16] + ".hnsw");
            using (var stream = File.Create(file + ".tmp"))
            {
                state.Index.Save(stream);
                using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                writer.Write(state.Keys.Count);
                foreach (var key in state.Keys)
                {
                    writer.Write(key);
                }
            }

            File.Move(file + ".tmp", file, overwrite: true);
            foreach (var old in Directory.EnumerateFiles(dir, "*.hnsw").Where(f => f != file))
            {
                File.Delete(old);
            }
        }
        catch (IOException ex)
        {
            LogFailed(logger, $"saving the customer index: {ex.Message}");
        }
    }

    private State? TryLoad(string file, string version, Recommender recommender)
    {
        try
        {
            using var stream = File.OpenRead(file);
            var index = HnswIndex.Load(stream);
            using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            var count = reader.ReadInt32();
            var state = new State(version, Path.GetFileNameWithoutExtension(file), recommender, index);
            for (var i = 0; i < count; i++)
            {
                state.KeyOf(reader.ReadString());
            }

            return index.Dimensions == recommender.EmbeddingDimensions ? state : null;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or EndOfStreamException)
        {
            LogFailed(logger, $"{file} not loaded ({ex.Message}); rebuilding");
            return null;
        }
    }

    private static string Bare(string profileId) => profileId.StartsWith("ep:", StringComparison.Ordinal) ? profileId[3..] : profileId;

    [LoggerMessage(Level = LogLevel.Information, Message = "Customer vectors: {Count} customers embedded with recommender {Version} in {Seconds:F1} s")]
    private static partial void LogBuilt(ILogger logger, int count, string version, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Customer vectors: {Count} customers loaded for recommender {Version}")]
    private static partial void LogLoaded(ILogger logger, int count, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Customer vectors: {Error}")]
    private static partial void LogFailed(ILogger logger, string error);

    /// <summary>An index with the profile ids behind its keys (key = position in <see cref="Keys"/>).</summary>
    private sealed class State(string version, string sha256, Recommender recommender, HnswIndex index)
    {
        public string Version { get; } = version;

        public string Sha256 { get; } = sha256;

        public Recommender Recommender { get; } = recommender;

        public HnswIndex Index { get; } = index;

        public List<string> Keys { get; } = [];

        public System.Collections.Concurrent.ConcurrentDictionary<string, long> Ids { get; } = new(StringComparer.Ordinal);

        public long KeyOf(string profile)
        {
            lock (Keys)
            {
                if (!Ids.TryGetValue(profile, out var key))
                {
                    key = Keys.Count;
                    Keys.Add(profile);
                    Ids[profile] = key;
                }

                return key;
            }
        }
    }
}
