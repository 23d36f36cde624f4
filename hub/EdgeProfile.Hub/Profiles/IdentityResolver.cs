using System.Security.Cryptography;
using System.Text.Json;
using EdgeProfile.Core.Identity;
using System.Data;
using System.Data.Common;
using EdgeProfile.Hub.Storage;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Profiles;

/// <summary>
/// Maps the customer keys of one upload to a global profile inside the write transaction, under the hub's
/// <see cref="IdentityPolicy"/> (<see cref="IdentityPlanner"/> decides; this class reads and writes the tables):
/// blocked keys join nothing, a key that would break a per-kind limit or an operator's split keeps a profile of its
/// own, and the rest join one profile, merging profiles where needed (the one with more keys survives, then the
/// older; the absorbed id stays findable as an alias and the merge is audited so an operator can undo it). Every pair
/// of keys is recorded with the store and time it came from. Idempotent: the same upload again changes nothing.
/// </summary>
internal sealed class IdentityResolver : IIdentityView, IDisposable
{
    private readonly DbConnection _connection;
    private readonly DbTransaction _tx;
    private readonly IdentityPolicy _policy;
    private readonly string _actor;
    private readonly DbCommand _find;
    private readonly DbCommand _insertKey;
    private readonly DbCommand _newProfile;
    private readonly DbCommand _profileInfo;
    private readonly DbCommand _addKeyCount;
    private readonly DbCommand _kindCounts;
    private readonly DbCommand _separated;
    private readonly DbCommand _linkStatus;
    private readonly DbCommand _upsertLink;
    private readonly long _now;
    private readonly ILogger _logger;

    public IdentityResolver(DbConnection connection, DbTransaction tx, IdentityPolicy policy, string actor, long nowUnixMs, ILogger logger)
    {
        _connection = connection;
        _tx = tx;
        _policy = policy;
        _actor = actor;
        _now = nowUnixMs;
        _logger = logger;
        _find = Prepare("SELECT profile_id FROM identity_keys WHERE customer_key = @key;", "@key");
        _insertKey = Prepare("INSERT INTO identity_keys (customer_key, profile_id) VALUES (@key, @id);", "@key", "@id");
        _newProfile = Prepare("INSERT INTO profiles (profile_id, created_at, key_count) VALUES (@id, @now, 0) ON CONFLICT (profile_id) DO NOTHING;", "@id", "@now");
        _profileInfo = Prepare("SELECT seq, key_count FROM profiles WHERE profile_id = @id;", "@id");
        _addKeyCount = Prepare("UPDATE profiles SET key_count = key_count + @n WHERE profile_id = @id;", "@n", "@id");
        _kindCounts = Prepare(
            $"SELECT {Sql.Dialect(connection).KeyKind("customer_key")}, count(*) FROM identity_keys WHERE profile_id = @id GROUP BY 1;", "@id");
        _separated = Prepare("""
            SELECT 1 FROM identity_separations s
            JOIN identity_keys a ON a.customer_key = s.key_a
            JOIN identity_keys b ON b.customer_key = s.key_b
            WHERE (a.profile_id = @p AND b.profile_id = @q) OR (a.profile_id = @q AND b.profile_id = @p)
            LIMIT 1;
            """, "@p", "@q");
        _linkStatus = Prepare("SELECT status FROM identity_links WHERE key_a = @a AND key_b = @b;", "@a", "@b");
        _upsertLink = Prepare("""
            INSERT INTO identity_links (key_a, key_b, store_id, first_at, last_at, status, reason)
            VALUES (@a, @b, @store, @now, @now, @status, @reason)
            ON CONFLICT (key_a, key_b) DO UPDATE SET last_at = excluded.last_at, status = excluded.status, reason = excluded.reason;
            """, "@a", "@b", "@store", "@now", "@status", "@reason");
    }

    /// <summary>Whether any call merged profiles (identifiers moved between profiles).</summary>
    public bool Merged { get; private set; }

    /// <summary>Profiles created for keys kept out of another (they are new profiles this upload made).</summary>
    public List<string> SeparateProfiles { get; } = [];

    /// <summary>
    /// Links <paramref name="keys"/> (distinct, canonical, the store's primary key first) and returns the id (without
    /// "ep:") of the profile the strongest accepted key belongs to, or null when every key is blocked.
    /// </summary>
    public string? Resolve(IReadOnlyList<string> keys)
    {
        var plan = IdentityPlanner.Plan(keys, this, _policy);
        string? profileId = plan.Profiles.Count switch
        {
            0 => plan.NewKeys.Count > 0 ? CreateProfile() : null,
            1 => plan.Profiles[0],
            _ => Merge(plan.Profiles),
        };

        if (profileId is not null && plan.NewKeys.Count > 0)
        {
            _insertKey.Parameters[1].Value = profileId;
            foreach (var key in plan.NewKeys)
            {
                _insertKey.Parameters[0].Value = key;
                _insertKey.ExecuteNonQuery();
            }

            AddKeyCount(profileId, plan.NewKeys.Count);
        }

        var anchor = Anchor(keys, plan);
        foreach (var rejected in plan.Rejected)
        {
            if (!rejected.Blocked && ProfileOf(rejected.Key) is null)
            {
                // Kept out of this profile, but still a customer: a profile of its own.
                var own = CreateProfile();
                SeparateProfiles.Add(own);
                _insertKey.Parameters[0].Value = rejected.Key;
                _insertKey.Parameters[1].Value = own;
                _insertKey.ExecuteNonQuery();
                AddKeyCount(own, 1);
            }

            if (anchor is not null && RecordLink(anchor, rejected.Key, rejected.Blocked ? "blocked" : "rejected", rejected.Reason))
            {
                HubLog.IdentityRejected(_logger, _actor, rejected.Key, anchor, rejected.Reason);
                if (!rejected.Blocked)
                {
                    Audit("reject", profileId ?? "", ProfileOf(rejected.Key), [rejected.Key], rejected.Reason);
                }
            }
        }

        if (anchor is not null)
        {
            foreach (var key in keys)
            {
                if (key != anchor && plan.Rejected.All(r => r.Key != key))
                {
                    RecordLink(anchor, key, "linked", null);
                }
            }
        }

        return profileId;
    }

    /// <inheritdoc />
    public string? ProfileOf(string key)
    {
        _find.Parameters[0].Value = key;
        return _find.ExecuteScalar() as string;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, int> KindCounts(string profileId)
    {
        _kindCounts.Parameters[0].Value = profileId;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        using var reader = _kindCounts.ExecuteReader();
        while (reader.Read())
        {
            counts[reader.GetString(0)] = reader.GetInt32(1);
        }

        return counts;
    }

    /// <inheritdoc />
    public bool Separated(string profileA, string profileB)
    {
        _separated.Parameters[0].Value = profileA;
        _separated.Parameters[1].Value = profileB;
        return _separated.ExecuteScalar() is not null;
    }

    public void Dispose()
    {
        _find.Dispose();
        _insertKey.Dispose();
        _newProfile.Dispose();
        _profileInfo.Dispose();
        _addKeyCount.Dispose();
        _kindCounts.Dispose();
        _separated.Dispose();
        _linkStatus.Dispose();
        _upsertLink.Dispose();
    }

    /// <summary>The key the upload's pairs are recorded from: its strongest accepted key, else its first key.</summary>
    private static string? Anchor(IReadOnlyList<string> keys, IdentityPlan plan)
    {
        string? best = null;
        foreach (var key in keys)
        {
            if (plan.Rejected.Any(r => r.Key == key))
            {
                continue;
            }

            best ??= key;
        }

        return best ?? (keys.Count > 0 ? keys[0] : null);
    }

    /// <summary>Records the pair; true when its status is new or changed (so a rejection is logged once, not per upload).</summary>
    private bool RecordLink(string a, string b, string status, string? reason)
    {
        _linkStatus.Parameters[0].Value = a;
        _linkStatus.Parameters[1].Value = b;
        var before = _linkStatus.ExecuteScalar() as string;
        _upsertLink.Parameters[0].Value = a;
        _upsertLink.Parameters[1].Value = b;
        _upsertLink.Parameters[2].Value = _actor;
        _upsertLink.Parameters[3].Value = _now;
        _upsertLink.Parameters[4].Value = status;
        _upsertLink.Parameters[5].Value = (object?)reason ?? DBNull.Value;
        _upsertLink.ExecuteNonQuery();
        return before != status;
    }

    private string CreateProfile()
    {
        _newProfile.Parameters[1].Value = _now;
        while (true)
        {
            // 64 random bits: short enough to read out, collisions retried.
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            _newProfile.Parameters[0].Value = id;
            if (_newProfile.ExecuteNonQuery() == 1)
            {
                return id;
            }
        }
    }

    private string Merge(IReadOnlyList<string> ids)
    {
        var winner = ids[0];
        var (winnerSeq, winnerCount) = Info(winner);
        for (var i = 1; i < ids.Count; i++)
        {
            var (seq, count) = Info(ids[i]);
            if (count > winnerCount || (count == winnerCount && seq < winnerSeq))
            {
                (winner, winnerSeq, winnerCount) = (ids[i], seq, count);
            }
        }

        foreach (var loser in ids)
        {
            if (loser != winner)
            {
                var absorbed = IdentityStore.KeysOf(_connection, _tx, loser);
                IdentityStore.MoveProfile(_connection, _tx, loser, winner);
                Audit("merge", winner, loser, absorbed, null);
                HubLog.ProfilesMerged(_logger, loser, winner);
                Merged = true;
            }
        }

        return winner;
    }

    private void Audit(string action, string profileId, string? otherId, IReadOnlyList<string> keys, string? reason) =>
        IdentityStore.Audit(_connection, _tx, _now, action, _actor, profileId, otherId, JsonSerializer.Serialize(keys), reason);

    private (long Seq, long KeyCount) Info(string id)
    {
        _profileInfo.Parameters[0].Value = id;
        using var reader = _profileInfo.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidOperationException($"identity_keys points to missing profile '{id}'.");
        }

        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private void AddKeyCount(string id, long n)
    {
        _addKeyCount.Parameters[0].Value = n;
        _addKeyCount.Parameters[1].Value = id;
        _addKeyCount.ExecuteNonQuery();
    }

    private DbCommand Prepare(string sql, params string[] parameters) => Sql.Prepared(_connection, _tx, sql, parameters);
}
