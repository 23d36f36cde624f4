using EdgeProfile.Contracts.V1;
using EdgeProfile.Edge.Log;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Edge.Uplink;

/// <summary>
/// The hub's global view of this store's customers (<c>global_profiles</c>, <c>global_keys</c>): what the store knows of
/// a customer from other stores and channels, e.g. the app searches of a member who walks in.
/// </summary>
public static class GlobalProfileStore
{
    /// <summary>The number of the last downlink item applied (0: none).</summary>
    public static long AppliedSeq(SqliteConnection connection) =>
        EdgeDatabase.Scalar<long>(connection, "SELECT COALESCE((SELECT applied_seq FROM downlink_state WHERE id = 1), 0);");

    /// <summary>Applies one item and records its number, in one transaction.</summary>
    public static void Apply(SqliteConnection connection, DownlinkItem item, long nowUnixMs)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(item);
        using var tx = connection.BeginTransaction();
        if (item.BodyCase == DownlinkItem.BodyOneofCase.Profile)
        {
            var summary = item.Profile;
            Run(connection, tx, "INSERT OR REPLACE INTO global_profiles (profile_id, summary, updated_at_ms) VALUES ($p, $s, $now);",
                ("$p", summary.ProfileId), ("$s", summary.ToByteArray()), ("$now", nowUnixMs));
            Run(connection, tx, "DELETE FROM global_keys WHERE profile_id = $p;", ("$p", summary.ProfileId));
            foreach (var key in summary.Identifiers)
            {
                Run(connection, tx, "INSERT OR REPLACE INTO global_keys (customer_key, profile_id) VALUES ($k, $p);", ("$k", key), ("$p", summary.ProfileId));
            }

            // Profiles that lost all their identifiers to this one (merged at the hub) are gone.
            Run(connection, tx, "DELETE FROM global_profiles WHERE profile_id NOT IN (SELECT profile_id FROM global_keys);");
        }

        Run(connection, tx, "INSERT INTO downlink_state (id, applied_seq) VALUES (1, $q) ON CONFLICT (id) DO UPDATE SET applied_seq = excluded.applied_seq;",
            ("$q", item.Seq));
        tx.Commit();
    }

    /// <summary>The global summary of the customer any of <paramref name="keys"/> belongs to, or null.</summary>
    public static GlobalSummary? Find(SqliteConnection connection, IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT g.summary FROM global_keys k JOIN global_profiles g ON g.profile_id = k.profile_id WHERE k.customer_key = $k;";
            command.Parameters.AddWithValue("$k", key);
            if (command.ExecuteScalar() is byte[] bytes)
            {
                return GlobalSummary.Parser.ParseFrom(bytes);
            }
        }

        return null;
    }

    private static void Run(SqliteConnection connection, SqliteTransaction tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        command.ExecuteNonQuery();
    }
}
