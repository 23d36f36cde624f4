using System.Data.Common;
using Npgsql;

namespace EdgeProfile.Hub.Storage;

/// <summary>
/// What one hub process tells the other replicas on the same PostgreSQL database, so that their in-memory state
/// (profile answers, downlink watchers, the feature registry) follows writes they did not make. A message is a
/// <c>pg_notify</c> issued inside the writing transaction, so it is delivered at commit or not at all; the listener
/// (<see cref="Hosting.HubChangeListener"/>) applies the ones from other processes. On SQLite there is one process
/// and nothing to tell.
/// </summary>
internal sealed class HubChanges(HubDatabase db)
{
    /// <summary>Profiles changed: the payload lists their ids.</summary>
    public const string Profiles = "profiles";

    /// <summary>Identifiers moved between profiles (merge, unmerge, erasure): every cached answer may be stale.</summary>
    public const string Identities = "identities";

    /// <summary>The feature registry has a new revision.</summary>
    public const string Registry = "registry";

    /// <summary>A model was deployed or rolled back.</summary>
    public const string Models = "models";

    /// <summary>A tag rule set was published or rolled back.</summary>
    public const string Rules = "rules";

    /// <summary>A recommender bundle was published or rolled back.</summary>
    public const string Recommenders = "recommenders";

    // pg_notify payloads are limited to 8,000 bytes; more ids than this are sent as Identities (everything stale).
    private const int MaxIds = 300;

    /// <summary>This process's id in messages, so that it can ignore its own.</summary>
    public string Instance { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Queues a message on the writing transaction (PostgreSQL only).</summary>
    public void Publish(DbConnection connection, DbTransaction tx, string kind, IReadOnlyCollection<string>? profileIds = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection is not NpgsqlConnection || db.ChangeChannel is not { } channel)
        {
            return;
        }

        if (kind == Profiles && (profileIds is null || profileIds.Count == 0))
        {
            return;
        }

        var payload = kind == Profiles && profileIds!.Count > MaxIds
            ? $"{Instance}|{Identities}|"
            : $"{Instance}|{kind}|{(profileIds is null ? "" : string.Join(',', profileIds))}";
        Sql.Exec(connection, tx, "SELECT pg_notify(@c, @p);", ("@c", channel), ("@p", payload));
    }

    /// <summary>Splits a received payload; null for this process's own messages and for malformed ones.</summary>
    public (string Kind, string[] ProfileIds)? Parse(string payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var parts = payload.Split('|', 3);
        if (parts.Length != 3 || parts[0] == Instance)
        {
            return null;
        }

        return (parts[1], parts[2].Length == 0 ? [] : parts[2].Split(','));
    }
}
