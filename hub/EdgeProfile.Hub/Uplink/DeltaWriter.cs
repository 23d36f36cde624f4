using System.Runtime.CompilerServices;
using System.Text.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Downlink;
using EdgeProfile.Hub.Erasure;
using EdgeProfile.Hub.Profiles;
using EdgeProfile.Hub.Segments;
using EdgeProfile.Hub.Storage;
using Grpc.Core;
using System.Data;
using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Uplink;

/// <summary>
/// Applies a store's batch and advances its cursor in one transaction, so a crash leaves either both or neither.
/// Idempotent on (store, sequence): sequences at or below the cursor are skipped; a batch starting past cursor+1 is a gap.
/// </summary>
internal sealed class DeltaWriter
{
    private readonly HubDatabase _db;
    private readonly TimeProvider _time;
    private readonly ILogger<DeltaWriter> _logger;
    private readonly HubIdentity _identity;
    private readonly DownlinkQueue _downlink;
    private readonly SegmentIndex _segments;
    private readonly ProfileCache _cache;
    private readonly HubChanges _changes;
    private readonly Knowledge.InterestFeed? _interests;
    private readonly Recommending.CustomerVectors? _customers;

    public DeltaWriter(HubDatabase db, HubIdentity identity, DownlinkQueue downlink, SegmentIndex segments, ProfileCache cache, HubChanges changes, TimeProvider time, ILogger<DeltaWriter> logger,
        Knowledge.InterestFeed? interests = null, Recommending.CustomerVectors? customers = null)
    {
        _interests = interests;
        _customers = customers;
        _changes = changes;
        _cache = cache;
        _segments = segments;
        _db = db;
        _identity = identity;
        _downlink = downlink;
        _time = time;
        _logger = logger;
    }

    public Task<long> TouchAsync(string storeId, EdgeCounters? counters, CancellationToken cancellationToken) =>
        _db.WriteAsync((connection, tx) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = "UPDATE stores SET last_seen = @now WHERE store_id = @store AND revoked_at IS NULL RETURNING acked_through;";
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            command.AddParameter("@now", now);
            command.AddParameter("@store", storeId);
            var acked = command.ExecuteScalar() is long a ? a : throw Revoked(storeId);
            RecordCounters(connection, tx, storeId, counters, now);
            return acked;
        }, cancellationToken);

    /// <summary>
    /// Keeps the edge's ingest counters for the fleet view, and its ingest rate over windows of at least 10 s (a
    /// counter that went down means the edge restarted: the rate is unknown until the next window).
    /// </summary>
    private static void RecordCounters(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction tx, string storeId, EdgeCounters? counters, long now)
    {
        if (counters is null || counters.EventsStored < 0 || counters.DeadLettered < 0 || counters.LateEvents < 0 || counters.Duplicates < 0)
        {
            return;
        }

        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            UPDATE stores SET
                ingest_per_min = CASE
                    WHEN rate_at IS NULL OR @now - rate_at < 10000 THEN ingest_per_min
                    WHEN @events < rate_events THEN NULL
                    ELSE (@events - rate_events) * 60000.0 / (@now - rate_at) END,
                rate_events = CASE WHEN rate_at IS NULL OR @now - rate_at >= 10000 OR @events < rate_events THEN @events ELSE rate_events END,
                rate_at = CASE WHEN rate_at IS NULL OR @now - rate_at >= 10000 OR @events < rate_events THEN @now ELSE rate_at END,
                events_stored = @events, dead_lettered = @dead, late_events = @late, duplicates = @dup, counters_at = @now
            WHERE store_id = @store;
            """;
        command.AddParameter("@now", now);
        command.AddParameter("@events", counters.EventsStored);
        command.AddParameter("@dead", counters.DeadLettered);
        command.AddParameter("@late", counters.LateEvents);
        command.AddParameter("@dup", counters.Duplicates);
        command.AddParameter("@store", storeId);
        command.ExecuteNonQuery();
    }

    /// <param name="storeId">The authenticated store.</param>
    /// <param name="batch">A batch that passed <see cref="DeltaValidator"/>.</param>
    /// <param name="keySets">Each delta's distinct keys, from the validator.</param>
    /// <param name="scores">The batch's valid score entries, from <see cref="ScoreValidator"/> (applied whatever the cursor).</param>
    /// <param name="cancellationToken">Cancels waiting for the writer, not a running transaction.</param>
    public async Task<UploadResult> ApplyAsync(string storeId, DeltaBatch batch, IReadOnlyList<string[]> keySets, IReadOnlyList<CustomerScores> scores,
        CancellationToken cancellationToken)
    {
        var touched = new HashSet<string>(StringComparer.Ordinal);
        var scored = new HashSet<string>(StringComparer.Ordinal);
        var merged = new StrongBox<bool>();
        var observed = new List<(string ProfileId, string Category, long At)>();
        var result = await ApplyInTransactionAsync(storeId, batch, keySets, scores, touched, scored, merged, observed, cancellationToken).ConfigureAwait(false);
        if (result.Applied > 0)
        {
            // The knowledge graph's interest edges: pseudonymous profile ids and categories, after the commit.
            foreach (var (profileId, category, at) in observed)
            {
                _interests?.Enqueue(profileId, category, at);
            }

            // Committed: cached answers of these profiles (and, after a merge, of any key) are stale now.
            if (merged.Value)
            {
                _cache.IdentitiesChanged();
            }

            _cache.Changed(touched);
            _customers?.Changed(touched);
            _downlink.Notify();
        }

        if (scored.Count > 0)
        {
            // Scores are not part of the stores' global summary (no downlink), only of the hub's answer.
            _cache.Changed(scored);
        }

        return result;
    }

    private Task<UploadResult> ApplyInTransactionAsync(string storeId, DeltaBatch batch, IReadOnlyList<string[]> keySets, IReadOnlyList<CustomerScores> scores,
        HashSet<string> touched, HashSet<string> scored, StrongBox<bool> merged, List<(string ProfileId, string Category, long At)> observed, CancellationToken cancellationToken) =>
        _db.WriteAsync((connection, tx) =>
        {
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var acked = ReadCursor(connection, tx, storeId);
            var skip = 0;
            if (batch.Deltas.Count > 0)
            {
                var first = batch.Deltas[0].Sequence;
                if (first > acked + 1)
                {
                    throw new RpcException(new Status(StatusCode.FailedPrecondition,
                        $"gap: expected sequence {acked + 1}, got {first} (the hub has applied through {acked})"));
                }

                skip = (int)Math.Min(batch.Deltas.Count, acked + 1 - first);
            }

            var applied = batch.Deltas.Count - skip;
            if (applied > 0)
            {
                touched.Clear();
                observed.Clear();
                merged.Value = false;
                ApplyDeltas(connection, tx, storeId, batch, keySets, skip, now, touched, merged, observed);
                acked = batch.Deltas[^1].Sequence;
            }

            // After the deltas, so that a customer new in this batch already resolves to its profile.
            scored.Clear();
            var stored = scores.Count == 0 ? 0 : ApplyScores(connection, tx, storeId, scores, scored);

            using (var update = connection.CreateCommand())
            {
                update.Transaction = tx;
                update.CommandText = """
                    UPDATE stores SET acked_through = @acked, last_seen = @now, backlog = @backlog,
                        oldest_backlog_age_ms = @age, model_version = COALESCE(@model, model_version)
                    WHERE store_id = @store;
                    """;
                update.AddParameter("@acked", acked);
                update.AddParameter("@now", now);
                update.AddParameter("@backlog", batch.Backlog);
                update.AddParameter("@age", batch.OldestBacklogAgeMs);
                update.AddParameter("@model", batch.ModelVersion.Length == 0 ? DBNull.Value : batch.ModelVersion);
                update.AddParameter("@store", storeId);
                update.ExecuteNonQuery();
            }

            RecordCounters(connection, tx, storeId, batch.Counters, now);

            return new UploadResult(acked, applied, stored);
        }, cancellationToken);

    /// <summary>
    /// Upserts the store's latest scores (a row is replaced only by one scored at the same time or later), except for
    /// erased identifiers; collects the profiles whose answer changed. Returns how many rows were written.
    /// </summary>
    private int ApplyScores(DbConnection connection, DbTransaction tx, string storeId, IReadOnlyList<CustomerScores> scores, HashSet<string> scored)
    {
        using var upsert = connection.CreateCommand();
        upsert.Transaction = tx;
        upsert.CommandText = """
            INSERT INTO store_scores (store_id, customer_key, model_version, scored_at, missing_features, scores, explanation)
            VALUES (@store, @key, @model, @at, @missing, @scores, @explanation)
            ON CONFLICT (store_id, customer_key) DO UPDATE SET
                model_version = excluded.model_version, scored_at = excluded.scored_at,
                missing_features = excluded.missing_features, scores = excluded.scores, explanation = excluded.explanation
            WHERE excluded.scored_at >= store_scores.scored_at;
            """;
        upsert.AddParameter("@store", storeId);
        var key = upsert.AddParameter("@key");
        var model = upsert.AddParameter("@model");
        var at = upsert.AddParameter("@at");
        var missing = upsert.AddParameter("@missing");
        var values = upsert.AddParameter("@scores");
        var explanation = upsert.AddParameter("@explanation");
        upsert.PrepareLocal();

        using var profile = connection.CreateCommand();
        profile.Transaction = tx;
        profile.CommandText = "SELECT profile_id FROM identity_keys WHERE customer_key = @key;";
        var profileKey = profile.AddParameter("@key");

        var anySuppressed = Scalar(connection, tx, "SELECT CASE WHEN EXISTS (SELECT 1 FROM suppressed_keys) THEN 1 ELSE 0 END;") is 1L or 1;
        var written = 0;
        foreach (var s in scores)
        {
            if (anySuppressed && ErasureService.AnySuppressed(connection, tx, [s.CustomerKey]))
            {
                // A customer erased at the hub: nothing of it is stored again.
                continue;
            }

            key.Value = s.CustomerKey;
            model.Value = s.ModelVersion;
            at.Value = s.ScoredAtUnixMs;
            missing.Value = s.MissingFeatures;
            values.Value = s.ScoresJson;
            explanation.Value = s.ExplanationJson.Length == 0 ? DBNull.Value : s.ExplanationJson;
            if (upsert.ExecuteNonQuery() == 0)
            {
                continue;
            }

            written++;
            profileKey.Value = s.CustomerKey;
            if (profile.ExecuteScalar() is string id)
            {
                scored.Add(id);
            }
        }

        _changes.Publish(connection, tx, HubChanges.Profiles, scored);
        return written;
    }

    private void ApplyDeltas(DbConnection connection, DbTransaction tx, string storeId, DeltaBatch batch,
        IReadOnlyList<string[]> keySets, int skip, long now, HashSet<string> touched, StrongBox<bool> merged, List<(string ProfileId, string Category, long At)> observed)
    {
        using var identities = new IdentityResolver(connection, tx, _identity.Policy, storeId, now, _logger);
        using var upsert = connection.CreateCommand();
        upsert.Transaction = tx;
        upsert.CommandText = """
            INSERT INTO store_profiles (store_id, customer_key, identifiers, visits_7d, visits_30d, spend_7d, spend_30d,
                last_seen, last_category, last_channel, tags, events_total, updated_at, updated_seq, searches, items)
            VALUES (@store, @key, @ids, @v7, @v30, @s7, @s30, @seen, @cat, @chan, @tags, @events, @updated, @seq, @searches, @items)
            ON CONFLICT (store_id, customer_key) DO UPDATE SET
                identifiers = excluded.identifiers, visits_7d = excluded.visits_7d, visits_30d = excluded.visits_30d,
                spend_7d = excluded.spend_7d, spend_30d = excluded.spend_30d, last_seen = excluded.last_seen,
                last_category = excluded.last_category, last_channel = excluded.last_channel, tags = excluded.tags,
                events_total = excluded.events_total, updated_at = excluded.updated_at, updated_seq = excluded.updated_seq,
                searches = excluded.searches, items = excluded.items
            WHERE excluded.updated_seq > store_profiles.updated_seq;
            """;
        var p = new Dictionary<string, DbParameter>(StringComparer.Ordinal);
        foreach (var name in (string[])["@store", "@key", "@ids", "@v7", "@v30", "@s7", "@s30", "@seen", "@cat", "@chan", "@tags", "@events", "@updated", "@seq", "@searches", "@items"])
        {
            p[name] = upsert.AddParameter(name);
        }

        p["@store"].Value = storeId;
        upsert.PrepareLocal();

        // The delta is the store's full view of the customer: rows this store kept under another of the customer's
        // keys (its primary key changed) are superseded, or the global sums would count the customer twice.
        using var supersede = connection.CreateCommand();
        supersede.Transaction = tx;
        supersede.CommandText = "DELETE FROM store_profiles WHERE store_id = @store AND customer_key = @key AND updated_seq < @seq;";
        supersede.AddParameter("@store", storeId);
        var supKey = supersede.AddParameter("@key");
        var supSeq = supersede.AddParameter("@seq");
        supersede.PrepareLocal();

        var anySuppressed = Scalar(connection, tx, "SELECT CASE WHEN EXISTS (SELECT 1 FROM suppressed_keys) THEN 1 ELSE 0 END;") is 1L or 1;
        for (var i = skip; i < batch.Deltas.Count; i++)
        {
            var d = batch.Deltas[i];
            var keys = keySets[i];
            if (d.Tombstone || (anySuppressed && ErasureService.AnySuppressed(connection, tx, keys)))
            {
                // Nothing to apply: erased at the store after it was queued, or a customer erased at the hub.
                continue;
            }

            p["@key"].Value = d.CustomerKey;
            p["@ids"].Value = JsonSerializer.Serialize(keys);
            p["@v7"].Value = d.Visits7D;
            p["@v30"].Value = d.Visits30D;
            p["@s7"].Value = d.Spend7D;
            p["@s30"].Value = d.Spend30D;
            p["@seen"].Value = d.LastSeenUnixMs;
            p["@cat"].Value = d.LastCategory.Length == 0 ? DBNull.Value : d.LastCategory;
            p["@chan"].Value = d.LastChannel.Length == 0 ? DBNull.Value : d.LastChannel;
            p["@tags"].Value = JsonSerializer.Serialize(d.Tags);
            p["@events"].Value = d.EventsTotal;
            p["@updated"].Value = d.UpdatedAtUnixMs;
            p["@seq"].Value = d.Sequence;
            p["@searches"].Value = JsonSerializer.Serialize(d.Searches.Select(x => new ProfileReader.SearchJson(x.Text, x.AtUnixMs, x.Channel)).ToList());
            p["@items"].Value = d.Items.Count == 0 ? "[]" : JsonSerializer.Serialize(d.Items.Select(x => new ProfileReader.ItemJson(x.Sku, x.Name.Length == 0 ? null : x.Name, x.Type, x.AtUnixMs)).ToList());
            upsert.ExecuteNonQuery();

            supSeq.Value = d.Sequence;
            for (var k = 1; k < keys.Length; k++)
            {
                supKey.Value = keys[k];
                supersede.ExecuteNonQuery();
            }

            if (identities.Resolve(keys) is { } profileId)
            {
                touched.Add(profileId);
                if (d.LastCategory.Length > 0)
                {
                    observed.Add((profileId, d.LastCategory, d.LastSeenUnixMs));
                }
            }
        }

        merged.Value = identities.Merged;
        touched.UnionWith(identities.SeparateProfiles);
        _segments.OnProfilesChanged(connection, tx, touched, now);
        _downlink.Enqueue(connection, tx, touched, now);
        _changes.Publish(connection, tx, merged.Value ? HubChanges.Identities : HubChanges.Profiles, touched);
    }

    private static object? Scalar(DbConnection connection, DbTransaction tx, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static long ReadCursor(DbConnection connection, DbTransaction tx, string storeId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "SELECT acked_through FROM stores WHERE store_id = @store AND revoked_at IS NULL;";
        command.AddParameter("@store", storeId);
        return command.ExecuteScalar() is long acked ? acked : throw Revoked(storeId);
    }

    // Authenticated a moment ago but revoked (or re-keyed away) before the write: refuse like the interceptor would.
    private static RpcException Revoked(string storeId) =>
        new(new Status(StatusCode.Unauthenticated, $"store '{storeId}' has been revoked; enroll it again with a new token"));
}
