using EdgeProfile.Core.Profiles;
using EdgeProfile.Edge.Log;

namespace EdgeProfile.Edge.Api;

/// <summary>Reads store profiles for the API (its own connection; WAL lets it read beside the writer).</summary>
public static class ProfileStore
{
    /// <summary>The profile of the customer known by <paramref name="key"/>, or null.</summary>
    public static StoreProfile? Find(EdgeDatabase db, string key)
    {
        ArgumentNullException.ThrowIfNull(db);
        using var c = db.OpenRead();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT p.state FROM profiles p
            WHERE p.customer_key = COALESCE((SELECT customer_key FROM customer_keys WHERE key = $key), $key)
            """;
        cmd.Parameters.AddWithValue("$key", key);
        return cmd.ExecuteScalar() is string json ? ProfileJson.Deserialize(json) : null;
    }
}
