using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Storage;
using System.Data;
using System.Data.Common;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Hub.Enrollment;

/// <summary>Enrollment tokens and store credentials.</summary>
internal sealed class StoreRegistry
{
    private readonly HubDatabase _db;
    private readonly TimeProvider _time;
    private readonly HubOptions _options;

    public StoreRegistry(HubDatabase db, TimeProvider time, IOptions<HubOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _db = db;
        _time = time;
        _options = options.Value;
    }

    /// <summary>Creates a one-time token for <paramref name="storeId"/>; only its hash is stored.</summary>
    public Task<EnrollmentTokenResponse> CreateTokenAsync(string storeId, string kind, CancellationToken cancellationToken)
    {
        var token = Credentials.NewSecret();
        var now = _time.GetUtcNow();
        var expires = now + _options.EnrollmentTokenTtl;
        return _db.WriteAsync((connection, tx) =>
        {
            using var command = Command(connection, tx, """
                INSERT INTO enrollment_tokens (token_hash, store_id, kind, created_at, expires_at)
                VALUES (@hash, @store, @kind, @created, @expires);
                """);
            command.AddParameter("@hash", Credentials.Hash(token));
            command.AddParameter("@store", storeId);
            command.AddParameter("@kind", kind);
            command.AddParameter("@created", now.ToUnixTimeMilliseconds());
            command.AddParameter("@expires", expires.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
            return new EnrollmentTokenResponse(token, storeId, kind, expires);
        }, cancellationToken);
    }

    /// <summary>
    /// Trades a token for a fresh credential, atomically: the token must exist, be unused, unexpired and name this
    /// store. Enrolling a store again replaces its credential and lifts a revocation; the cursor and profiles stay.
    /// </summary>
    public Task<EnrollOutcome> EnrollAsync(string token, string storeId, CancellationToken cancellationToken)
    {
        var tokenHash = Credentials.Hash(token);
        return _db.WriteAsync((connection, tx) =>
        {
            var now = _time.GetUtcNow();
            string tokenStore, kind;
            long expiresAt;
            bool used, cancelled;
            using (var find = Command(connection, tx,
                "SELECT store_id, kind, expires_at, used_at IS NOT NULL, cancelled_at IS NOT NULL FROM enrollment_tokens WHERE token_hash = @hash;"))
            {
                find.AddParameter("@hash", tokenHash);
                using var reader = find.ExecuteReader();
                if (!reader.Read())
                {
                    return new EnrollOutcome(EnrollStatus.UnknownToken);
                }

                tokenStore = reader.GetString(0);
                kind = reader.GetString(1);
                expiresAt = reader.GetInt64(2);
                used = reader.GetBoolean(3);
                cancelled = reader.GetBoolean(4);
            }

            if (used)
            {
                return new EnrollOutcome(EnrollStatus.TokenUsed, TokenStoreId: tokenStore);
            }

            if (cancelled)
            {
                return new EnrollOutcome(EnrollStatus.TokenCancelled, TokenStoreId: tokenStore);
            }

            if (now.ToUnixTimeMilliseconds() >= expiresAt)
            {
                return new EnrollOutcome(EnrollStatus.TokenExpired, TokenStoreId: tokenStore, ExpiredAt: DateTimeOffset.FromUnixTimeMilliseconds(expiresAt));
            }

            if (!string.Equals(tokenStore, storeId, StringComparison.Ordinal))
            {
                // The token stays usable: a typo in the edge's store id should not burn it.
                return new EnrollOutcome(EnrollStatus.WrongStore, TokenStoreId: tokenStore);
            }

            using (var use = Command(connection, tx, "UPDATE enrollment_tokens SET used_at = @now WHERE token_hash = @hash;"))
            {
                use.AddParameter("@now", now.ToUnixTimeMilliseconds());
                use.AddParameter("@hash", tokenHash);
                use.ExecuteNonQuery();
            }

            var credential = Credentials.NewSecret();
            using (var upsert = Command(connection, tx, """
                INSERT INTO stores (store_id, kind, credential_hash, enrolled_at)
                VALUES (@store, @kind, @cred, @now)
                ON CONFLICT (store_id) DO UPDATE SET
                    kind = excluded.kind,
                    credential_hash = excluded.credential_hash,
                    enrolled_at = excluded.enrolled_at,
                    revoked_at = NULL;
                """))
            {
                upsert.AddParameter("@store", storeId);
                upsert.AddParameter("@kind", kind);
                upsert.AddParameter("@cred", Credentials.Hash(credential));
                upsert.AddParameter("@now", now.ToUnixTimeMilliseconds());
                upsert.ExecuteNonQuery();
            }

            return new EnrollOutcome(EnrollStatus.Enrolled, kind, credential, tokenStore);
        }, cancellationToken);
    }

    /// <summary>Checks a store's credential in constant time against its stored hash.</summary>
    public Task<(AuthStatus Status, string Kind)> AuthenticateAsync(string storeId, string credential, CancellationToken cancellationToken) =>
        _db.ReadAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT credential_hash, revoked_at IS NOT NULL, kind FROM stores WHERE store_id = @store;";
            command.AddParameter("@store", storeId);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return (AuthStatus.UnknownStore, "");
            }

            var hash = (byte[])reader.GetValue(0);
            var matches = Credentials.Matches(credential, hash);
            var kind = reader.GetString(2);
            if (reader.GetBoolean(1))
            {
                return (AuthStatus.Revoked, kind);
            }

            return (matches ? AuthStatus.Ok : AuthStatus.WrongCredential, kind);
        }, cancellationToken);

    /// <summary>Revokes a store's credential and cancels its unused tokens; null when the store is unknown.</summary>
    public Task<RevokeResponse?> RevokeAsync(string storeId, CancellationToken cancellationToken) =>
        _db.WriteAsync<RevokeResponse?>((connection, tx) =>
        {
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            using (var revoke = Command(connection, tx,
                "UPDATE stores SET revoked_at = COALESCE(revoked_at, @now) WHERE store_id = @store RETURNING revoked_at;"))
            {
                revoke.AddParameter("@now", now);
                revoke.AddParameter("@store", storeId);
                var revokedAt = revoke.ExecuteScalar();
                if (revokedAt is not long at)
                {
                    return null;
                }

                using var cancel = Command(connection, tx,
                    "UPDATE enrollment_tokens SET cancelled_at = @now WHERE store_id = @store AND used_at IS NULL AND cancelled_at IS NULL;");
                cancel.AddParameter("@now", now);
                cancel.AddParameter("@store", storeId);
                cancel.ExecuteNonQuery();
                return new RevokeResponse(storeId, true, DateTimeOffset.FromUnixTimeMilliseconds(at));
            }
        }, cancellationToken);

    public Task<IReadOnlyList<StoreSummary>> ListAsync(CancellationToken cancellationToken) =>
        _db.ReadAsync<IReadOnlyList<StoreSummary>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT store_id, kind, enrolled_at, revoked_at IS NOT NULL, last_seen, backlog, oldest_backlog_age_ms, acked_through, model_version,
                       events_stored, dead_lettered, late_events, duplicates, counters_at, ingest_per_min
                FROM stores ORDER BY store_id;
                """;
            using var reader = command.ExecuteReader();
            var stores = new List<StoreSummary>();
            while (reader.Read())
            {
                stores.Add(new StoreSummary(
                    reader.GetString(0),
                    reader.GetString(1),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                    reader.GetBoolean(3),
                    reader.IsDBNull(4) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                    reader.GetInt64(5),
                    reader.GetInt64(6),
                    reader.GetInt64(7),
                    reader.IsDBNull(8) ? null : reader.GetString(8))
                {
                    EventsStored = reader.IsDBNull(13) ? null : reader.GetInt64(9),
                    DeadLettered = reader.IsDBNull(13) ? null : reader.GetInt64(10),
                    LateEvents = reader.IsDBNull(13) ? null : reader.GetInt64(11),
                    Duplicates = reader.IsDBNull(13) ? null : reader.GetInt64(12),
                    CountersAt = reader.IsDBNull(13) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(13)),
                    IngestPerMinute = reader.IsDBNull(14) ? null : reader.GetDouble(14),
                });
            }

            return stores;
        }, cancellationToken);

    private static DbCommand Command(DbConnection connection, DbTransaction tx, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        return command;
    }
}
