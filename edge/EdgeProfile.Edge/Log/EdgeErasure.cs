using System.Security.Cryptography;
using System.Text;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Customers;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Edge.Log;

/// <summary>
/// Removes one customer from this edge's database inside the caller's transaction: events, late events, store profile,
/// feature state, model scores, keys, the hub's global view, dead letters that name a clear-text identifier, and its queued uplink
/// deltas (turned into tombstones so the uplink's sequence stays contiguous). The identifiers are then suppressed:
/// only their SHA-256 is kept, so events that carry them again are not stored.
/// </summary>
internal static class EdgeErasure
{
    /// <summary>SHA-256 of a customer key, the only form in which an erased identifier is kept.</summary>
    public static byte[] KeyHash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Erases every customer any of <paramref name="keys"/> belongs to; returns their primary keys and all their keys.</summary>
    public static (List<string> Primaries, List<string> Keys) Erase(SqliteConnection connection, SqliteTransaction tx, string requestId,
        IReadOnlyList<string> keys, long nowUnixMs)
    {
        // Every key of every customer the request names (the store may know more identifiers than the hub sent).
        var all = new HashSet<string>(keys, StringComparer.Ordinal);
        var primaries = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            primaries.Add(Scalar(connection, tx, "SELECT customer_key FROM customer_keys WHERE key = $a;", key) ?? key);
        }

        foreach (var primary in primaries)
        {
            foreach (var key in Column(connection, tx, "SELECT key FROM customer_keys WHERE customer_key = $a;", primary))
            {
                all.Add(key);
            }

            all.Add(primary);
        }

        foreach (var primary in primaries)
        {
            Exec(connection, tx, "DELETE FROM events WHERE customer_key = $a;", primary);
            Exec(connection, tx, "DELETE FROM late_events WHERE customer_key = $a;", primary);
            Exec(connection, tx, "DELETE FROM profiles WHERE customer_key = $a;", primary);
            Exec(connection, tx, "DELETE FROM feature_state WHERE customer_key = $a;", primary);
            Exec(connection, tx, "DELETE FROM backfill_pending WHERE customer_key = $a;", primary);
            Exec(connection, tx, "DELETE FROM model_scores WHERE customer_key = $a;", primary);
            Exec(connection, tx, "DELETE FROM decisions WHERE customer_key = $a;", primary);
            Exec(connection, tx, "DELETE FROM outbox_overflow WHERE customer_key = $a;", primary);
            foreach (var seq in Column(connection, tx, "SELECT CAST(seq AS TEXT) FROM outbox WHERE customer_key = $a;", primary))
            {
                var tombstone = new ProfileDelta { Sequence = long.Parse(seq, System.Globalization.CultureInfo.InvariantCulture), Tombstone = true }.ToByteArray();
                using var update = Command(connection, tx, "UPDATE outbox SET customer_key = '', payload = $b WHERE seq = $a;", seq);
                update.Parameters.AddWithValue("$b", tombstone);
                update.ExecuteNonQuery();
            }
        }

        foreach (var key in all)
        {
            Exec(connection, tx, "DELETE FROM customer_keys WHERE key = $a OR customer_key = $a;", key);
            Exec(connection, tx, "DELETE FROM global_keys WHERE customer_key = $a;", key);
            if (CustomerKey.TryParse(key, out var parsed) && parsed.Kind is CustomerKey.Loyalty or CustomerKey.App or CustomerKey.Device)
            {
                // A rejected message that names the customer in the clear (pseudonymised kinds never appear raw here).
                Exec(connection, tx, "DELETE FROM dead_letters WHERE instr(CAST(payload AS TEXT), $a) > 0;", "\"" + parsed.Value + "\"");
            }

            using var suppress = Command(connection, tx, "INSERT OR IGNORE INTO suppressed_keys (key_hash, request_id) VALUES ($h, $a);", requestId);
            suppress.Parameters.AddWithValue("$h", KeyHash(key));
            suppress.ExecuteNonQuery();
        }

        Exec(connection, tx, "DELETE FROM global_profiles WHERE profile_id NOT IN (SELECT profile_id FROM global_keys);", "");
        using (var record = Command(connection, tx, "INSERT OR IGNORE INTO erasures_applied (request_id, applied_at_ms) VALUES ($a, $now);", requestId))
        {
            record.Parameters.AddWithValue("$now", nowUnixMs);
            record.ExecuteNonQuery();
        }

        return ([.. primaries], [.. all]);
    }

    /// <summary>The hashes of every suppressed key.</summary>
    public static HashSet<string> LoadSuppressed(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT key_hash FROM suppressed_keys;";
        using var reader = command.ExecuteReader();
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            set.Add(Convert.ToHexString((byte[])reader.GetValue(0)));
        }

        return set;
    }

    /// <summary>Erasure requests carried out here that the hub has not confirmed yet.</summary>
    public static List<string> Unconfirmed(SqliteConnection connection) =>
        Column(connection, null, "SELECT request_id FROM erasures_applied WHERE confirmed = 0 AND request_id <> $a ORDER BY applied_at_ms;", "");

    /// <summary>Whether this edge has carried out <paramref name="requestId"/>.</summary>
    public static bool Applied(SqliteConnection connection, string requestId) =>
        Scalar(connection, null, "SELECT request_id FROM erasures_applied WHERE request_id = $a;", requestId) is not null;

    /// <summary>The hub has the confirmation of <paramref name="requestId"/>.</summary>
    public static void MarkConfirmed(SqliteConnection connection, string requestId)
    {
        using var command = Command(connection, null, "UPDATE erasures_applied SET confirmed = 1 WHERE request_id = $a;", requestId);
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? tx, string sql, string a)
    {
        var command = connection.CreateCommand();
        if (tx is not null)
        {
            command.Transaction = tx;
        }

        command.CommandText = sql;
        command.Parameters.AddWithValue("$a", a);
        return command;
    }

    private static void Exec(SqliteConnection connection, SqliteTransaction tx, string sql, string a)
    {
        using var command = Command(connection, tx, sql, a);
        command.ExecuteNonQuery();
    }

    private static string? Scalar(SqliteConnection connection, SqliteTransaction? tx, string sql, string a)
    {
        using var command = Command(connection, tx, sql, a);
        return command.ExecuteScalar() as string;
    }

    private static List<string> Column(SqliteConnection connection, SqliteTransaction? tx, string sql, string a)
    {
        using var command = Command(connection, tx, sql, a);
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
