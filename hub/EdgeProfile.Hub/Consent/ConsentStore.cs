using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Downlink;
using EdgeProfile.Hub.Storage;
using System.Data;
using System.Data.Common;

namespace EdgeProfile.Hub.Consent;

/// <summary>
/// Consent per identifier and purpose (<c>consents</c>). Recording it for a known customer pushes the customer's summary,
/// with the withdrawals, to every store that knows them, so the stores stop using the data for that purpose too, and
/// re-evaluates the customer's segments (no analytics consent: no segment).
/// </summary>
internal sealed class ConsentStore(HubDatabase db, DownlinkQueue downlink, Segments.SegmentIndex segments, Profiles.ProfileCache cache, HubChanges changes, TimeProvider time)
{
    /// <summary>The effective consent over <paramref name="keys"/> (withdrawn where any key's is).</summary>
    public static ConsentState Effective(DbConnection connection, IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        bool analytics = true, personalisation = true, training = true;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT analytics, personalisation, training FROM consents WHERE customer_key = @k;";
        var k = command.AddParameter("@k", DbType.String);
        foreach (var key in keys)
        {
            k.Value = key;
            using var reader = command.ExecuteReader();
            if (reader.Read())
            {
                analytics &= reader.GetInt64(0) == 0;
                personalisation &= reader.GetInt64(1) == 0;
                training &= reader.GetInt64(2) == 0;
            }
        }

        return new ConsentState(analytics, personalisation, training);
    }

    /// <summary>Records <paramref name="change"/> under <paramref name="key"/> (canonical); returns the effective consent of its profile (or of the key alone).</summary>
    public async Task<ConsentState> SetAsync(string key, ConsentChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var result = await db.WriteAsync((connection, tx) =>
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            using (var upsert = connection.CreateCommand())
            {
                upsert.Transaction = tx;
                upsert.CommandText = """
                    INSERT INTO consents (customer_key, analytics, personalisation, training, source, updated_at)
                    VALUES (@k, COALESCE(@a, 0), COALESCE(@p, 0), COALESCE(@t, 0), @src, @now)
                    ON CONFLICT (customer_key) DO UPDATE SET
                        analytics = COALESCE(@a, consents.analytics), personalisation = COALESCE(@p, consents.personalisation),
                        training = COALESCE(@t, consents.training), source = @src, updated_at = @now;
                    """;
                upsert.AddParameter("@k", key);
                upsert.AddParameter("@a", Withdrawn(change.Analytics));
                upsert.AddParameter("@p", Withdrawn(change.Personalisation));
                upsert.AddParameter("@t", Withdrawn(change.Training));
                upsert.AddParameter("@src", string.IsNullOrWhiteSpace(change.Source) ? "operator" : change.Source.Trim());
                upsert.AddParameter("@now", now);
                upsert.ExecuteNonQuery();
            }

            var profileId = ProfileOf(connection, tx, key);
            if (profileId is null)
            {
                return (Effective(connection, [key]), Pushed: false, ProfileId: (string?)null);
            }

            segments.OnProfilesChanged(connection, tx, [profileId], now);
            downlink.Enqueue(connection, tx, [profileId], now, evenForOneStore: true);
            changes.Publish(connection, tx, HubChanges.Profiles, [profileId]);
            return (Effective(connection, Profiles.IdentityStore.KeysOf(connection, tx, profileId)), Pushed: true, ProfileId: profileId);
        }, cancellationToken).ConfigureAwait(false);
        if (result.ProfileId is { } changed)
        {
            cache.Changed([changed]);
            downlink.Notify();
        }

        return result.Item1;
    }

    /// <summary>The effective consent of the profile <paramref name="key"/> belongs to (or of the key alone when unknown).</summary>
    public Task<ConsentState> GetAsync(string key, CancellationToken cancellationToken) =>
        db.ReadAsync(connection => ProfileOf(connection, null, key) is { } profileId
            ? Effective(connection, Profiles.IdentityStore.KeysOf(connection, null, profileId))
            : Effective(connection, [key]), cancellationToken);

    private static object Withdrawn(bool? granted) => granted is null ? DBNull.Value : granted.Value ? 0 : 1;

    private static string? ProfileOf(DbConnection connection, DbTransaction? tx, string key)
    {
        if (key.StartsWith("ep:", StringComparison.Ordinal))
        {
            return Profiles.IdentityStore.Current(connection, tx, key[3..]);
        }

        using var command = Profiles.IdentityStore.Command(connection, tx, "SELECT profile_id FROM identity_keys WHERE customer_key = @a;", key);
        return command.ExecuteScalar() as string;
    }
}
