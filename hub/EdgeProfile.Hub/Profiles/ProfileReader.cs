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
internal sealed class ProfileReader(HubDatabase db, MergePolicies merge) : IDisposable
{
    private readonly ConcurrentBag<ProfileQueries> _sessions = [];

    /// <summary>The profile that <paramref name="key"/> (canonical; any kind incl. <c>ep:</c>) belongs to, or null.</summary>
    public Task<GlobalProfile?> FindAsync(string key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_sessions.TryTake(out var session))
        {
            session = new ProfileQueries(db.OpenRead(), ownsConnection: true, merge);
        }

        try
        {
            using var tx = HubDatabase.BeginRead(session.Connection);
            session.Use(tx);
            var profileId = key.StartsWith(CustomerKey.Profile + ":", StringComparison.Ordinal) ? session.FindById(key[(CustomerKey.Profile.Length + 1)..]) : session.FindByKey(key);
            var profile = profileId is null ? null : session.Load(profileId);
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

    /// <summary>The global profile <paramref name="profileId"/>, read on <paramref name="connection"/> (inside its current transaction, if any).</summary>
    internal GlobalProfile Load(DbConnection connection, string profileId)
    {
        using var queries = new ProfileQueries(connection, ownsConnection: false, merge);
        return queries.Load(profileId);
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

    /// <summary>The statements that build a profile, on one connection.</summary>
    private sealed class ProfileQueries : IDisposable
    {
        private readonly bool _ownsConnection;
        private readonly MergePolicies _merge;
        private readonly DbCommand _byKey;
        private readonly DbCommand _byId;
        private readonly DbCommand _byAlias;
        private readonly DbCommand _identifiers;
        private readonly DbCommand _stores;
        private readonly DbCommand _consent;

        public ProfileQueries(DbConnection connection, bool ownsConnection, MergePolicies merge)
        {
            Connection = connection;
            _ownsConnection = ownsConnection;
            _merge = merge;
            _byKey = Command("SELECT profile_id FROM identity_keys WHERE customer_key = @v;");
            _byId = Command("SELECT profile_id FROM profiles WHERE profile_id = @v;");
            _byAlias = Command("SELECT profile_id FROM profile_aliases WHERE old_id = @v;");
            _identifiers = Command("SELECT customer_key FROM identity_keys WHERE profile_id = @v ORDER BY customer_key;");
            _stores = Command("""
                SELECT sp.store_id, sp.customer_key, sp.visits_7d, sp.visits_30d, sp.spend_7d, sp.spend_30d, sp.last_seen,
                       sp.last_category, sp.last_channel, sp.events_total, sp.tags, sp.updated_seq, sp.searches
                FROM identity_keys ik JOIN store_profiles sp ON sp.customer_key = ik.customer_key
                WHERE ik.profile_id = @v
                ORDER BY sp.store_id, sp.customer_key;
                """);
            _consent = Command("""
                SELECT COALESCE(max(c.analytics), 0), COALESCE(max(c.personalisation), 0), COALESCE(max(c.training), 0)
                FROM identity_keys ik JOIN consents c ON c.customer_key = ik.customer_key WHERE ik.profile_id = @v;
                """);
        }

        public DbConnection Connection { get; }

        public void Use(DbTransaction tx)
        {
            foreach (var command in (DbCommand[])[_byKey, _byId, _byAlias, _identifiers, _stores, _consent])
            {
                command.Transaction = tx;
            }
        }

        public string? FindByKey(string key) => Scalar(_byKey, key);

        public string? FindById(string id) => Scalar(_byId, id) ?? Scalar(_byAlias, id);

        public GlobalProfile Load(string profileId)
        {
            var identifiers = new List<string>();
            _identifiers.Parameters[0].Value = profileId;
            using (var reader = _identifiers.ExecuteReader())
            {
                while (reader.Read())
                {
                    identifiers.Add(reader.GetString(0));
                }
            }

            var stores = new List<StoreProfileEntry>();
            var searches = new List<StoreSearchEntry>();
            _stores.Parameters[0].Value = profileId;
            using (var reader = _stores.ExecuteReader())
            {
                while (reader.Read())
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
            }

            ConsentState consent;
            _consent.Parameters[0].Value = profileId;
            using (var reader = _consent.ExecuteReader())
            {
                consent = reader.Read() ? new ConsentState(reader.GetInt64(0) == 0, reader.GetInt64(1) == 0, reader.GetInt64(2) == 0) : ConsentState.Granted;
            }

            var latest = stores.Where(s => s.LastSeen is not null).OrderByDescending(s => s.LastSeen).FirstOrDefault();
            var storeIds = stores.Select(s => s.StoreId).Distinct(StringComparer.Ordinal).ToList();
            var global = _merge.Combine(stores);

            var tags = stores
                .SelectMany(s => s.Tags.Select(t => (Tag: t, s.StoreId)))
                .GroupBy(x => x.Tag, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new TagReason(g.Key, "reported by " + string.Join(", ", g.Select(x => x.StoreId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))))
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

            return new GlobalProfile("ep:" + profileId, identifiers, stores, global, tags, [], reasons)
            {
                Searches = searches.OrderByDescending(x => x.At).ThenBy(x => x.StoreId, StringComparer.Ordinal).Take(10).ToList(),
                Consent = consent,
            };
        }

        public void Dispose()
        {
            foreach (var command in (DbCommand[])[_byKey, _byId, _byAlias, _identifiers, _stores, _consent])
            {
                command.Dispose();
            }

            if (_ownsConnection)
            {
                Connection.Dispose();
            }
        }

        private static string? Scalar(DbCommand command, string value)
        {
            command.Parameters[0].Value = value;
            return command.ExecuteScalar() as string;
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
