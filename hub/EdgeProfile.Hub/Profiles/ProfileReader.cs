using System.Globalization;
using System.Text.Json;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Storage;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Hub.Profiles;

/// <summary>Builds the global profile of a customer from every store's latest view.</summary>
internal sealed class ProfileReader
{
    private readonly HubDatabase _db;

    public ProfileReader(HubDatabase db)
    {
        _db = db;
    }

    /// <summary>The profile that <paramref name="key"/> (canonical; any kind incl. ep) belongs to, or null.</summary>
    public Task<GlobalProfile?> FindAsync(CustomerKey key, CancellationToken cancellationToken) =>
        _db.ReadAsync(connection =>
        {
            var profileId = key.Kind == CustomerKey.Profile ? FindById(connection, key.Value) : FindByKey(connection, key.ToString());
            return profileId is null ? null : Load(connection, profileId, key);
        }, cancellationToken);

    private static string? FindById(SqliteConnection connection, string id) =>
        Scalar(connection, "SELECT profile_id FROM profiles WHERE profile_id = $v;", id)
        ?? Scalar(connection, "SELECT profile_id FROM profile_aliases WHERE old_id = $v;", id);

    private static string? FindByKey(SqliteConnection connection, string key) =>
        Scalar(connection, "SELECT profile_id FROM identity_keys WHERE customer_key = $v;", key);

    /// <summary>The global profile <paramref name="profileId"/>, read on <paramref name="connection"/> (inside its current transaction, if any).</summary>
    internal static GlobalProfile Load(SqliteConnection connection, string profileId, CustomerKey askedFor)
    {
        var identifiers = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT customer_key FROM identity_keys WHERE profile_id = $id ORDER BY customer_key;";
            command.Parameters.AddWithValue("$id", profileId);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                identifiers.Add(reader.GetString(0));
            }
        }

        var stores = new List<StoreProfileEntry>();
        var searches = new List<StoreSearchEntry>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT sp.store_id, sp.customer_key, sp.visits_7d, sp.visits_30d, sp.spend_7d, sp.spend_30d, sp.last_seen,
                       sp.last_category, sp.last_channel, sp.events_total, sp.tags, sp.updated_seq, sp.searches
                FROM identity_keys ik JOIN store_profiles sp ON sp.customer_key = ik.customer_key
                WHERE ik.profile_id = $id
                ORDER BY sp.store_id, sp.customer_key;
                """;
            command.Parameters.AddWithValue("$id", profileId);
            using var reader = command.ExecuteReader();
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
                foreach (var note in JsonSerializer.Deserialize<List<SearchJson>>(reader.GetString(12)) ?? [])
                {
                    searches.Add(new StoreSearchEntry(reader.GetString(0), note.Text, DateTimeOffset.FromUnixTimeMilliseconds(note.AtUnixMs), note.Channel));
                }
            }
        }

        var latest = stores.Where(s => s.LastSeen is not null).OrderByDescending(s => s.LastSeen).FirstOrDefault();
        var storeIds = stores.Select(s => s.StoreId).Distinct(StringComparer.Ordinal).ToList();
        var global = new GlobalFeatures(
            stores.Sum(s => s.Visits7d),
            stores.Sum(s => s.Visits30d),
            Math.Round(stores.Sum(s => s.Spend7d), 2),
            Math.Round(stores.Sum(s => s.Spend30d), 2),
            latest?.LastSeen,
            stores.Where(s => s.LastCategory is not null).OrderByDescending(s => s.LastSeen).FirstOrDefault()?.LastCategory,
            stores.Select(s => s.LastChannel).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            storeIds.Count);

        var tags = stores
            .SelectMany(s => s.Tags.Select(t => (Tag: t, s.StoreId)))
            .GroupBy(x => x.Tag, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new TagReason(g.Key, "reported by " + string.Join(", ", g.Select(x => x.StoreId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))))
            .ToList();

        var reasons = new List<string>();
        var asked = askedFor.ToString();
        reasons.Add(askedFor.Kind == CustomerKey.Profile
            ? $"profile ep:{profileId} has {identifiers.Count} identifier(s)"
            : $"{asked} resolves to ep:{profileId} with {identifiers.Count} identifier(s); identifiers uploaded together by any store are linked");
        if (storeIds.Count > 0)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture,
                $"visits and spend are summed over {storeIds.Count} store(s): {string.Join(", ", storeIds)}"));
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
            Consent = Consent.ConsentStore.Effective(connection, identifiers),
        };
    }

    /// <summary>A search as the hub keeps it in <c>store_profiles.searches</c>.</summary>
    internal sealed record SearchJson(string Text, long AtUnixMs, string Channel);

    private static string? Scalar(SqliteConnection connection, string sql, string value)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$v", value);
        return command.ExecuteScalar() as string;
    }
}
