using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Storage;
using System.Data;
using System.Data.Common;

namespace EdgeProfile.Hub.Profiles;

/// <summary>
/// Builds the global profile of a customer from every store's latest view. Reads for the API run on pooled read
/// connections whose statements are prepared once; uploads, segments and the downlink build profiles inside their own
/// transaction through <see cref="Load"/>.
/// </summary>
internal sealed class ProfileReader(HubDatabase db, MergePolicies merge, Rules.RuleRegistry? rules = null) : IDisposable
{
    private readonly ConcurrentBag<ProfileQueries> _sessions = [];

    /// <summary>The profile that <paramref name="key"/> (canonical; any kind incl. <c>ep:</c>) belongs to, or null.</summary>
    public Task<GlobalProfile?> FindAsync(string key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (db.Postgres is { } source)
        {
            return FindOnPostgresAsync(source, key, cancellationToken);
        }

        if (!_sessions.TryTake(out var session))
        {
            session = new ProfileQueries(db.OpenRead(), ownsConnection: true, merge, rules: rules);
        }

        try
        {
            // The statements resolve the key themselves and run as one batch inside the read transaction.
            using var tx = HubDatabase.BeginRead(session.Connection);
            session.Use(tx);
            var profile = IsProfileId(key)
                ? session.LoadById(key[(CustomerKey.Profile.Length + 1)..])
                : session.LoadByKey(key);
            tx.Commit();
            _sessions.Add(session);
            session = null;
            return Task.FromResult(profile);
        }
        finally
        {
            session?.Dispose();
        }
    }

    private static bool IsProfileId(string key) => key.StartsWith(CustomerKey.Profile + ":", StringComparison.Ordinal);

    // PostgreSQL: a pooled connection per read, asynchronously (a blocked thread per waiting request would starve the
    // pool under load), one round trip: the batch is one implicit transaction, so one snapshot. Npgsql keeps the
    // statements prepared on each physical connection.
    private async Task<GlobalProfile?> FindOnPostgresAsync(Npgsql.NpgsqlDataSource source, string key, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var queries = new ProfileQueries(connection, ownsConnection: false, merge, rules: rules);
        return IsProfileId(key)
            ? await queries.ReadAsync(byId: true, key[(CustomerKey.Profile.Length + 1)..], async: true, cancellationToken).ConfigureAwait(false)
            : await queries.ReadAsync(byId: false, key, async: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The global profile <paramref name="profileId"/>, read on <paramref name="connection"/> (inside its current transaction, if any).</summary>
    internal GlobalProfile Load(DbConnection connection, string profileId)
    {
        using var queries = new ProfileQueries(connection, ownsConnection: false, merge, exact: true, rules: rules);
        return queries.LoadExact(profileId);
    }

    public void Dispose()
    {
        while (_sessions.TryTake(out var session))
        {
            session.Dispose();
        }
    }

    /// <summary>A search as the hub keeps it in <c>store_profiles.searches</c>.</summary>
    internal sealed record SearchJson(string Text, long AtUnixMs, string Channel);

    /// <summary>A product in a store's behaviour sequence as the hub keeps it in <c>store_profiles.items</c>.</summary>
    internal sealed record ItemJson(string Sku, string? Name, string Type, long AtUnixMs);

    /// <summary>The statements that build a profile, on one connection.</summary>
    private sealed class ProfileQueries : IDisposable
    {
        private readonly bool _ownsConnection;
        private readonly MergePolicies _merge;
        private readonly Rules.RuleRegistry? _rules;
        private readonly DbCommand _byKey;
        private readonly DbCommand _byId;

        public ProfileQueries(DbConnection connection, bool ownsConnection, MergePolicies merge, bool exact = false, Rules.RuleRegistry? rules = null)
        {
            _rules = rules;
            Connection = connection;
            _ownsConnection = ownsConnection;
            _merge = merge;
            if (exact)
            {
                // Inside a writer's transaction: exactly this id's rows (an absorbed id has none), no alias followed.
                _byKey = _byId = Command(Batch("CAST(@v AS TEXT)"));
                return;
            }

            _byKey = Command(Batch("(SELECT profile_id FROM identity_keys WHERE customer_key = @v)"));
            _byId = Command(Batch("COALESCE((SELECT profile_id FROM profiles WHERE profile_id = @v), (SELECT profile_id FROM profile_aliases WHERE old_id = @v))"));
        }

        public DbConnection Connection { get; }

        public void Use(DbTransaction? tx)
        {
            _byKey.Transaction = tx;
            _byId.Transaction = tx;
        }

        public GlobalProfile? LoadByKey(string key) => Sync(ReadAsync(byId: false, key, async: false, CancellationToken.None));

        /// <summary>The profile <paramref name="id"/>, or the one it was merged into.</summary>
        public GlobalProfile? LoadById(string id) => Sync(ReadAsync(byId: true, id, async: false, CancellationToken.None));

        /// <summary>The rows of exactly <paramref name="id"/> (empty when it has none).</summary>
        public GlobalProfile LoadExact(string id) => LoadById(id)!;

        // The profile id, its identifiers, every store's view, the consent withdrawals and every store's latest model
        // scores (of the keys the store's views stand under, so a superseded key's scores do not count twice), each
        // statement resolving the profile from @v through <paramref name="profile"/>.
        private static string Batch(string profile) => $"""
            SELECT {profile};
            SELECT customer_key FROM identity_keys WHERE profile_id = {profile} ORDER BY customer_key;
            SELECT sp.store_id, sp.customer_key, sp.visits_7d, sp.visits_30d, sp.spend_7d, sp.spend_30d, sp.last_seen,
                   sp.last_category, sp.last_channel, sp.events_total, sp.tags, sp.updated_seq, sp.searches
            FROM identity_keys ik JOIN store_profiles sp ON sp.customer_key = ik.customer_key
            WHERE ik.profile_id = {profile}
            ORDER BY sp.store_id, sp.customer_key;
            SELECT COALESCE(max(c.analytics), 0), COALESCE(max(c.personalisation), 0), COALESCE(max(c.training), 0)
            FROM identity_keys ik JOIN consents c ON c.customer_key = ik.customer_key WHERE ik.profile_id = {profile};
            SELECT ss.store_id, ss.model_version, ss.scored_at, ss.missing_features, ss.scores, ss.explanation
            FROM identity_keys ik JOIN store_profiles sp ON sp.customer_key = ik.customer_key
            JOIN store_scores ss ON ss.store_id = sp.store_id AND ss.customer_key = sp.customer_key
            WHERE ik.profile_id = {profile}
            ORDER BY ss.store_id, ss.scored_at DESC;
            """;

        /// <summary>
        /// Reads the batch for <paramref name="value"/>; <paramref name="async"/> false completes synchronously (for
        /// callers inside the writer's transaction, and on SQLite, whose I/O is synchronous anyway).
        /// </summary>
        public async ValueTask<GlobalProfile?> ReadAsync(bool byId, string value, bool async, CancellationToken cancellationToken)
        {
            var command = byId ? _byId : _byKey;
            command.Parameters[0].Value = value;
            var reader = async
                ? await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false)
                : command.ExecuteReader();
            try
            {
                return await ReadBatchAsync(reader, async, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (async)
                {
                    await reader.DisposeAsync().ConfigureAwait(false);
                }
                else
                {
                    reader.Dispose();
                }
            }
        }

        private async ValueTask<GlobalProfile?> ReadBatchAsync(DbDataReader reader, bool async, CancellationToken cancellationToken)
        {
            async ValueTask<bool> Read() => async ? await reader.ReadAsync(cancellationToken).ConfigureAwait(false) : reader.Read();
            async ValueTask<bool> Next() => async ? await reader.NextResultAsync(cancellationToken).ConfigureAwait(false) : reader.NextResult();

            if (!await Read().ConfigureAwait(false) || reader.IsDBNull(0))
            {
                return null;
            }

            var profileId = reader.GetString(0);
            var identifiers = new List<string>();
            await Next().ConfigureAwait(false);
            while (await Read().ConfigureAwait(false))
            {
                identifiers.Add(reader.GetString(0));
            }

            var stores = new List<StoreProfileEntry>();
            var searches = new List<StoreSearchEntry>();
            await Next().ConfigureAwait(false);
            while (await Read().ConfigureAwait(false))
            {
                stores.Add(new StoreProfileEntry(
                    reader.GetString(0),
                    reader.GetString(1),
                    reader.GetInt32(2),
                    reader.GetInt32(3),
                    reader.GetDouble(4),
                    reader.GetDouble(5),
                    reader.GetInt64(6) > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)) : null,
                    reader.IsDBNull(7) ? null : reader.GetString(7),
                    reader.IsDBNull(8) ? null : reader.GetString(8),
                    reader.GetInt64(9),
                    JsonSerializer.Deserialize<List<string>>(reader.GetString(10)) ?? [],
                    reader.GetInt64(11)));
                var notes = reader.GetString(12);
                if (notes.Length > 2)
                {
                    foreach (var note in JsonSerializer.Deserialize<List<SearchJson>>(notes) ?? [])
                    {
                        searches.Add(new StoreSearchEntry(reader.GetString(0), note.Text, DateTimeOffset.FromUnixTimeMilliseconds(note.AtUnixMs), note.Channel));
                    }
                }
            }

            await Next().ConfigureAwait(false);
            var consent = await Read().ConfigureAwait(false) ? new ConsentState(Sql.Long(reader.GetValue(0)) == 0, Sql.Long(reader.GetValue(1)) == 0, Sql.Long(reader.GetValue(2)) == 0) : ConsentState.Granted;
            var scores = new List<ProfileScore>();
            await Next().ConfigureAwait(false);
            string? lastStore = null;
            while (await Read().ConfigureAwait(false))
            {
                // Newest first per store: a store that knows the customer under two keys contributes its latest scores.
                var storeId = reader.GetString(0);
                if (storeId == lastStore)
                {
                    continue;
                }

                lastStore = storeId;
                scores.AddRange(Scores(storeId, reader.GetString(1), reader.GetInt64(2), (int)reader.GetInt64(3), reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5)));
            }

            // Like the stores (GET /api/profiles at the edge), no scores of a customer who withdrew either purpose.
            return Build(profileId, identifiers, stores, searches, consent, consent.Analytics && consent.Personalisation ? scores : []);
        }

        private static GlobalProfile? Sync(ValueTask<GlobalProfile?> read) =>
            read.IsCompletedSuccessfully ? read.Result : read.AsTask().GetAwaiter().GetResult();

        /// <summary>One entry per task of a stored <c>store_scores</c> row, in the model's task order.</summary>
        private static IEnumerable<ProfileScore> Scores(string storeId, string model, long scoredAtMs, int missing, string json, string? explanationJson)
        {
            // Why, as the store explained its decision: the top reasons per task in both languages.
            Dictionary<string, List<string>>? en = null, zh = null;
            if (explanationJson is not null)
            {
                try
                {
                    var explanation = EdgeProfile.Explanations.DecisionExplanation.Parse(explanationJson);
                    en = EdgeProfile.Explanations.ExplanationView.ReasonTexts(explanation, EdgeProfile.Core.Explanations.ReasonLanguage.En);
                    zh = EdgeProfile.Explanations.ExplanationView.ReasonTexts(explanation, EdgeProfile.Core.Explanations.ReasonLanguage.ZhCn);
                }
                catch (JsonException)
                {
                    // Validated at upload; a row from an older format shows its scores without reasons.
                }
            }

            var at = DateTimeOffset.FromUnixTimeMilliseconds(scoredAtMs);
            var reason = string.Create(CultureInfo.InvariantCulture,
                $"scored by {storeId} with model {model} at {at:O}{(missing > 0 ? $" ({missing} feature(s) missing or stale there)" : "")}");
            using var doc = JsonDocument.Parse(json);
            var entries = new List<ProfileScore>();
            foreach (var task in doc.RootElement.EnumerateObject())
            {
                var entry = task.Value.ValueKind == JsonValueKind.Array
                    ? new ProfileScore(storeId, task.Name, null, [.. task.Value.EnumerateArray().Select(v => v.GetDouble())], model, at, missing, reason)
                    : new ProfileScore(storeId, task.Name, task.Value.GetDouble(), null, model, at, missing, reason);
                entries.Add(entry with
                {
                    Reasons = en is not null && en.TryGetValue(task.Name, out var r) ? r : null,
                    ReasonsZh = zh is not null && zh.TryGetValue(task.Name, out var rz) ? rz : null,
                });
            }

            return entries;
        }

        // A tag the live rules set names its rule and the rule's own description (the stores evaluate the same rules);
        // any other tag, the stores that reported it.
        private TagReason Reason(string tag, string stores) =>
            _rules?.RuleFor(tag) is { } rule
                ? new TagReason(tag, string.Create(CultureInfo.InvariantCulture, $"rule {rule.RuleId}@v{rule.RuleVersion} (rules version {rule.RulesVersion}): {rule.En}; reported by {stores}"))
                {
                    ReasonZh = string.Create(CultureInfo.InvariantCulture, $"规则 {rule.RuleId}@v{rule.RuleVersion}（规则版本 {rule.RulesVersion}）：{rule.Zh}；来自 {stores}"),
                    Rule = string.Create(CultureInfo.InvariantCulture, $"{rule.RuleId}@v{rule.RuleVersion}"),
                }
                : new TagReason(tag, "reported by " + stores);

        private GlobalProfile Build(string profileId, List<string> identifiers, List<StoreProfileEntry> stores, List<StoreSearchEntry> searches, ConsentState consent,
            List<ProfileScore> scores)
        {
            var latest = stores.Where(s => s.LastSeen is not null).OrderByDescending(s => s.LastSeen).FirstOrDefault();
            var storeIds = stores.Select(s => s.StoreId).Distinct(StringComparer.Ordinal).ToList();
            var global = _merge.Combine(stores);

            var tags = stores
                .SelectMany(s => s.Tags.Select(t => (Tag: t, s.StoreId)))
                .GroupBy(x => x.Tag, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => Reason(g.Key, string.Join(", ", g.Select(x => x.StoreId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))))
                .ToList();

            var reasons = new List<string>();
            // The same answer whichever key was asked (so it is cached once per profile).
            reasons.Add($"ep:{profileId} has {identifiers.Count} identifier(s); identifiers uploaded together by any store are linked under the hub's identity rules");
            if (storeIds.Count > 0)
            {
                reasons.Add(_merge.Explain(storeIds));
            }

            if (latest is not null)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture,
                    $"last seen {latest.LastSeen:O} at {latest.StoreId}{(latest.LastChannel is null ? "" : " via " + latest.LastChannel)}"));
            }

            if (searches.Count > 0)
            {
                var newest = searches.OrderByDescending(x => x.At).First();
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"latest search \"{newest.Text}\" at {newest.StoreId} via {newest.Channel}, {newest.At:O}"));
            }

            return new GlobalProfile("ep:" + profileId, identifiers, stores, global, tags, scores, reasons)
            {
                Searches = searches.OrderByDescending(x => x.At).ThenBy(x => x.StoreId, StringComparer.Ordinal).Take(10).ToList(),
                Consent = consent,
            };
        }

        public void Dispose()
        {
            _byKey.Dispose();
            if (!ReferenceEquals(_byId, _byKey))
            {
                _byId.Dispose();
            }

            if (_ownsConnection)
            {
                Connection.Dispose();
            }
        }

        private DbCommand Command(string sql)
        {
            // Created on the connection: inside a transaction the command joins it.
            var command = Connection.CreateCommand();
            command.CommandText = sql;
            command.AddParameter("@v");
            if (_ownsConnection)
            {
                command.PrepareLocal();
            }

            return command;
        }
    }
}
