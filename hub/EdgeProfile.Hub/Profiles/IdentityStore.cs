using EdgeProfile.Hub.Storage;
using System.Data;
using System.Data.Common;

namespace EdgeProfile.Hub.Profiles;

/// <summary>Statements on the identity tables shared by upload resolution and operator actions; run inside the caller's transaction.</summary>
internal static class IdentityStore
{
    /// <summary>The keys of <paramref name="profileId"/>, ordered.</summary>
    public static List<string> KeysOf(DbConnection connection, DbTransaction? tx, string profileId)
    {
        using var command = Command(connection, tx, "SELECT customer_key FROM identity_keys WHERE profile_id = @a ORDER BY customer_key;", profileId);
        using var reader = command.ExecuteReader();
        var keys = new List<string>();
        while (reader.Read())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    /// <summary>The live profile an id names: itself, or the profile it was merged into; null when unknown.</summary>
    public static string? Current(DbConnection connection, DbTransaction? tx, string profileId)
    {
        using (var command = Command(connection, tx, "SELECT profile_id FROM profiles WHERE profile_id = @a;", profileId))
        {
            if (command.ExecuteScalar() is string live)
            {
                return live;
            }
        }

        using var alias = Command(connection, tx, "SELECT profile_id FROM profile_aliases WHERE old_id = @a;", profileId);
        return alias.ExecuteScalar() as string;
    }

    /// <summary>Moves every key (and alias) of <paramref name="from"/> into <paramref name="to"/> and retires <paramref name="from"/> as an alias.</summary>
    public static void MoveProfile(DbConnection connection, DbTransaction tx, string from, string to)
    {
        Exec(connection, tx, """
            UPDATE profiles SET key_count = key_count + (SELECT key_count FROM profiles WHERE profile_id = @a) WHERE profile_id = @b;
            UPDATE identity_keys SET profile_id = @b WHERE profile_id = @a;
            UPDATE profile_aliases SET profile_id = @b WHERE profile_id = @a;
            INSERT INTO profile_aliases (old_id, profile_id) VALUES (@a, @b) ON CONFLICT (old_id) DO UPDATE SET profile_id = excluded.profile_id;
            DELETE FROM profiles WHERE profile_id = @a;
            """, from, to);
    }

    /// <summary>Appends an audit record; returns its sequence number.</summary>
    public static long Audit(DbConnection connection, DbTransaction tx, long now, string action, string actor, string profileId,
        string? otherId, string keysJson, string? reason)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            INSERT INTO identity_audit (at, action, actor, profile_id, other_id, keys, reason)
            VALUES (@at, @action, @actor, @profile, @other, @keys, @reason) RETURNING seq;
            """;
        command.AddParameter("@at", now);
        command.AddParameter("@action", action);
        command.AddParameter("@actor", actor);
        command.AddParameter("@profile", profileId);
        command.AddParameter("@other", (object?)otherId ?? DBNull.Value);
        command.AddParameter("@keys", keysJson);
        command.AddParameter("@reason", (object?)reason ?? DBNull.Value);
        return (long)command.ExecuteScalar()!;
    }

    public static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, string a, string? b = null) =>
        b is null ? Sql.Command(connection, tx, sql, ("@a", a)) : Sql.Command(connection, tx, sql, ("@a", a), ("@b", b));

    public static int Exec(DbConnection connection, DbTransaction tx, string sql, string a, string? b = null)
    {
        using var command = Command(connection, tx, sql, a, b);
        return command.ExecuteNonQuery();
    }
}
