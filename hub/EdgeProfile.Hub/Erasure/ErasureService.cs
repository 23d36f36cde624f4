using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Downlink;
using EdgeProfile.Hub.Profiles;
using EdgeProfile.Hub.Storage;
using Google.Protobuf;
using System.Data;
using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Erasure;

/// <summary>
/// The right to erasure across the fleet. A request removes the customer's global profile and every hub row that
/// names one of its identifiers, suppresses the identifiers (only their SHA-256 is kept, so uploads carrying them are
/// dropped), and queues an erase order to every enrolled store on the downlink — a store that is offline gets it when
/// it reconnects. What is kept of the request is what the law allows: its id, when, how many identifiers, and which
/// systems confirmed.
/// </summary>
internal sealed partial class ErasureService(HubDatabase db, DownlinkQueue downlink, ProfileCache cache, HubChanges changes, TimeProvider time, ILogger<ErasureService> logger,
    Knowledge.InterestFeed? interests = null)
{
    /// <summary>SHA-256 of a customer key: the only form in which an erased identifier is kept.</summary>
    public static byte[] KeyHash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Erases the customer <paramref name="key"/> (canonical) belongs to; null when the hub has no such customer.</summary>
    public async Task<ErasureStatus?> EraseAsync(string key, CancellationToken cancellationToken)
    {
        var erasedIds = new List<string>();
        var status = await db.WriteAsync((connection, tx) =>
        {
            var profileId = key.StartsWith("ep:", StringComparison.Ordinal)
                ? IdentityStore.Current(connection, tx, key[3..])
                : Sql.Text(connection, tx, "SELECT profile_id FROM identity_keys WHERE customer_key = @a;", ("@a", key));
            var keys = profileId is null ? [] : IdentityStore.KeysOf(connection, tx, profileId);
            if (profileId is null)
            {
                // Not resolved at the hub (e.g. only ever seen with blocked identifiers): the stores may still hold it.
                // (Scores may have arrived before the store's delta of the customer.)
                if (key.StartsWith("ep:", StringComparison.Ordinal) || Sql.Text(connection, tx,
                    "SELECT customer_key FROM store_profiles WHERE customer_key = @a UNION ALL SELECT customer_key FROM store_scores WHERE customer_key = @a LIMIT 1;",
                    ("@a", key)) is null)
                {
                    return null;
                }

                keys = [key];
            }

            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var requestId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            var ids = new List<string>();
            if (profileId is not null)
            {
                ids.Add(profileId);
                ids.AddRange(Sql.Texts(connection, tx, "SELECT old_id FROM profile_aliases WHERE profile_id = @a;", ("@a", profileId)));
            }

            erasedIds.Clear();
            erasedIds.AddRange(ids);
            foreach (var id in ids)
            {
                Sql.Exec(connection, tx, "DELETE FROM identity_audit WHERE profile_id = @a OR other_id = @a;", ("@a", id));
                Sql.Exec(connection, tx, "DELETE FROM segment_members WHERE profile_id = @a;", ("@a", id));
                Sql.Exec(connection, tx, "DELETE FROM downlink WHERE profile_id = @a;", ("@a", id));
                Sql.Exec(connection, tx, "DELETE FROM profile_aliases WHERE profile_id = @a OR old_id = @a;", ("@a", id));
                Sql.Exec(connection, tx, "DELETE FROM profiles WHERE profile_id = @a;", ("@a", id));
            }

            foreach (var k in keys)
            {
                Sql.Exec(connection, tx, "DELETE FROM store_profiles WHERE customer_key = @a;", ("@a", k));
                Sql.Exec(connection, tx, "DELETE FROM store_scores WHERE customer_key = @a;", ("@a", k));
                Sql.Exec(connection, tx, "DELETE FROM identity_keys WHERE customer_key = @a;", ("@a", k));
                Sql.Exec(connection, tx, "DELETE FROM consents WHERE customer_key = @a;", ("@a", k));
                Sql.Exec(connection, tx, "DELETE FROM identity_links WHERE key_a = @a OR key_b = @a;", ("@a", k));
                Sql.Exec(connection, tx, "DELETE FROM identity_separations WHERE key_a = @a OR key_b = @a;", ("@a", k));
                // Rejections audited under another profile still name the key.
                Sql.Exec(connection, tx, "DELETE FROM identity_audit WHERE " + Sql.Dialect(connection).Position("keys", "@a") + " > 0;", ("@a", JsonString(k)));
                using var suppress = Sql.Command(connection, tx, "INSERT INTO suppressed_keys (key_hash, request_id) VALUES (@h, @a) ON CONFLICT DO NOTHING;", ("@a", requestId));
                suppress.AddParameter("@h", KeyHash(k));
                suppress.ExecuteNonQuery();
            }

            var stores = Sql.Texts(connection, tx, "SELECT store_id FROM stores WHERE revoked_at IS NULL ORDER BY store_id;");
            var order = new ErasureRequest { RequestId = requestId };
            order.Identifiers.AddRange(keys);
            DownlinkQueue.EnqueueErasure(connection, tx, stores, order, now);
            using (var insert = connection.CreateCommand())
            {
                insert.Transaction = tx;
                insert.CommandText = """
                    INSERT INTO erasures (request_id, requested_at, requested_by, key_count, stores, completed_at)
                    VALUES (@id, @now, 'operator', @n, @stores, CASE WHEN @stores = 0 THEN @now END);
                    INSERT INTO erasure_confirmations (request_id, system, confirmed_at) VALUES (@id, 'hub', @now);
                    """;
                insert.AddParameter("@id", requestId);
                insert.AddParameter("@now", now);
                insert.AddParameter("@n", keys.Count);
                insert.AddParameter("@stores", stores.Count);
                insert.ExecuteNonQuery();
            }

            changes.Publish(connection, tx, HubChanges.Identities);
            return Status(connection, requestId);
        }, cancellationToken).ConfigureAwait(false);

        if (status is not null)
        {
            cache.IdentitiesChanged();
            downlink.Notify();
            if (interests is not null && erasedIds.Count > 0)
            {
                // The knowledge graph's interest edges of the profile (and of the profiles merged into it).
                await interests.ForgetAsync(erasedIds, cancellationToken).ConfigureAwait(false);
            }

            LogRequested(logger, status.RequestId, status.Identifiers, status.Stores);
        }

        return status;
    }

    /// <summary>Records that <paramref name="storeId"/> carried out <paramref name="requestId"/>; true when every store has.</summary>
    public async Task<bool> ConfirmAsync(string storeId, string requestId, CancellationToken cancellationToken)
    {
        var complete = await db.WriteAsync((connection, tx) =>
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = """
                INSERT INTO erasure_confirmations (request_id, system, confirmed_at)
                SELECT @id, @store, @now WHERE EXISTS (SELECT 1 FROM erasures WHERE request_id = @id)
                ON CONFLICT DO NOTHING;
                -- The order named the identifiers: once carried out it must not outlive the erasure here.
                DELETE FROM downlink WHERE store_id = @store AND profile_id = 'erase:' || @id;
                UPDATE erasures SET completed_at = @now WHERE request_id = @id AND completed_at IS NULL
                    AND (SELECT count(*) FROM erasure_confirmations c WHERE c.request_id = @id AND c.system <> 'hub') >= stores;
                SELECT CASE WHEN completed_at IS NOT NULL THEN 1 ELSE 0 END FROM erasures WHERE request_id = @id;
                """;
            command.AddParameter("@id", requestId);
            command.AddParameter("@store", storeId);
            command.AddParameter("@now", now);
            return Sql.IsTrue(command.ExecuteScalar());
        }, cancellationToken).ConfigureAwait(false);
        LogConfirmed(logger, requestId, storeId, complete);
        return complete;
    }

    /// <summary>The request's record, or null.</summary>
    public Task<ErasureStatus?> StatusAsync(string requestId, CancellationToken cancellationToken) =>
        db.ReadAsync(connection => Status(connection, requestId), cancellationToken);

    /// <summary>Whether any of <paramref name="keys"/> was erased (uploads naming one are dropped).</summary>
    public static bool AnySuppressed(DbConnection connection, DbTransaction tx, IEnumerable<string> keys)
    {
        using var command = Sql.Command(connection, tx, "SELECT 1 FROM suppressed_keys WHERE key_hash = @h;");
        var h = command.AddParameter("@h", DbType.Binary);
        foreach (var key in keys)
        {
            h.Value = KeyHash(key);
            if (command.ExecuteScalar() is not null)
            {
                return true;
            }
        }

        return false;
    }

    private static ErasureStatus? Status(DbConnection connection, string requestId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT requested_at, key_count, stores, completed_at FROM erasures WHERE request_id = @id;";
        command.AddParameter("@id", requestId);
        DateTimeOffset requested;
        int identifiers, stores;
        DateTimeOffset? completed;

        // One open reader per connection at a time (PostgreSQL has no multiple active result sets).
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read())
            {
                return null;
            }

            requested = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0));
            identifiers = reader.GetInt32(1);
            stores = reader.GetInt32(2);
            completed = reader.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3));
        }

        var confirmations = new List<ErasureConfirmationEntry>();
        using var c = connection.CreateCommand();
        c.CommandText = "SELECT system, confirmed_at FROM erasure_confirmations WHERE request_id = @id ORDER BY confirmed_at, system;";
        c.AddParameter("@id", requestId);
        using var r = c.ExecuteReader();
        while (r.Read())
        {
            confirmations.Add(new ErasureConfirmationEntry(r.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1))));
        }

        return new ErasureStatus(requestId, requested, identifiers, stores, confirmations, completed);
    }

    private static string JsonString(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Erasure {RequestId}: {Identifiers} identifier(s) removed from the hub and suppressed; {Stores} store(s) asked to erase")]
    private static partial void LogRequested(ILogger logger, string requestId, int identifiers, int stores);

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure {RequestId} confirmed by {StoreId} (all stores: {Complete})")]
    private static partial void LogConfirmed(ILogger logger, string requestId, string storeId, bool complete);
}
