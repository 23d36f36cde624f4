using System.Text.Json;
using EdgeProfile.Core.Identity;
using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Storage;
using System.Data;
using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Profiles;

/// <summary>
/// The operator's side of identity resolution: how a profile came together (links with provenance, audited merges
/// and rejections), and undoing a merge. An unmerge moves the absorbed profile's identifiers back under its old id and
/// records a separation, so later uploads that carry both sides are kept apart instead of merging them again.
/// </summary>
internal sealed class IdentityAdmin(HubDatabase db, HubIdentity identity, Segments.SegmentIndex segments, Downlink.DownlinkQueue downlink, ProfileCache cache, HubChanges changes, TimeProvider time, ILogger<IdentityAdmin> logger)
{
    /// <summary>The history of the profile <paramref name="key"/> (canonical; <c>ep:</c> ids and aliases too) belongs to, or null.</summary>
    public Task<IdentityHistory?> HistoryAsync(string key, CancellationToken cancellationToken) =>
        db.ReadAsync(connection =>
        {
            var profileId = key.StartsWith("ep:", StringComparison.Ordinal)
                ? IdentityStore.Current(connection, null, key[3..])
                : Sql.Text(connection, null, "SELECT profile_id FROM identity_keys WHERE customer_key = @a;", ("@a", key));
            if (profileId is null)
            {
                return null;
            }

            var identifiers = IdentityStore.KeysOf(connection, null, profileId);
            var links = new List<IdentityLinkEntry>();
            using (var command = connection.CreateCommand())
            {
                command.CommandText = """
                    SELECT key_a, key_b, store_id, first_at, last_at, status, reason FROM identity_links
                    WHERE key_a IN (SELECT customer_key FROM identity_keys WHERE profile_id = @p)
                       OR key_b IN (SELECT customer_key FROM identity_keys WHERE profile_id = @p)
                    ORDER BY first_at, key_a, key_b;
                    """;
                command.AddParameter("@p", profileId);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    links.Add(new IdentityLinkEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                        reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
                }
            }

            var audit = new List<IdentityAuditEntry>();
            using (var command = connection.CreateCommand())
            {
                command.CommandText = """
                    SELECT seq, at, action, actor, profile_id, other_id, keys, reason, undone_by FROM identity_audit
                    WHERE profile_id = @p OR other_id = @p
                       OR profile_id IN (SELECT old_id FROM profile_aliases WHERE profile_id = @p)
                       OR other_id IN (SELECT old_id FROM profile_aliases WHERE profile_id = @p)
                    ORDER BY seq;
                    """;
                command.AddParameter("@p", profileId);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    audit.Add(ReadAudit(reader));
                }
            }

            return new IdentityHistory("ep:" + profileId, identifiers, links, audit);
        }, cancellationToken);

    /// <summary>Reverts merge <paramref name="mergeSeq"/>; null when there is no such audit record.</summary>
    /// <exception cref="IdentityConflictException">It is not a merge, is already undone, or its identifiers have all moved on.</exception>
    public async Task<UnmergeResult?> UnmergeAsync(long mergeSeq, CancellationToken cancellationToken)
    {
        var result = await db.WriteAsync((connection, tx) =>
        {
            IdentityAuditEntry? merge;
            using (var command = connection.CreateCommand())
            {
                command.Transaction = tx;
                command.CommandText = "SELECT seq, at, action, actor, profile_id, other_id, keys, reason, undone_by FROM identity_audit WHERE seq = @s;";
                command.AddParameter("@s", mergeSeq);
                using var reader = command.ExecuteReader();
                merge = reader.Read() ? ReadAudit(reader) : null;
            }

            if (merge is null)
            {
                return null;
            }

            if (merge.Action != "merge" || merge.Other is null)
            {
                throw new IdentityConflictException($"audit record {mergeSeq} is a {merge.Action}, not a merge");
            }

            if (merge.UndoneBy is { } undone)
            {
                throw new IdentityConflictException($"merge {mergeSeq} was already undone by unmerge {undone}");
            }

            var from = IdentityStore.Current(connection, tx, merge.Profile)
                ?? throw new IdentityConflictException($"profile ep:{merge.Profile} of merge {mergeSeq} no longer exists");
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var present = IdentityStore.KeysOf(connection, tx, from);
            var moving = merge.Keys.Where(k => present.Contains(k, StringComparer.Ordinal)).ToList();
            var staying = present.Where(k => !moving.Contains(k, StringComparer.Ordinal)).ToList();
            if (moving.Count == 0 || staying.Count == 0)
            {
                throw new IdentityConflictException(
                    $"merge {mergeSeq} cannot be undone: none of its identifiers {(moving.Count == 0 ? "are" : "would stay")} in ep:{from} any more");
            }

            var restored = merge.Other;
            IdentityStore.Exec(connection, tx, "DELETE FROM profile_aliases WHERE old_id = @a;", restored);
            using (var insert = connection.CreateCommand())
            {
                insert.Transaction = tx;
                insert.CommandText = """
                    INSERT INTO profiles (profile_id, created_at, key_count) VALUES (@id, @now, @n);
                    UPDATE profiles SET key_count = key_count - @n WHERE profile_id = @from;
                    """;
                insert.AddParameter("@id", restored);
                insert.AddParameter("@now", now);
                insert.AddParameter("@n", moving.Count);
                insert.AddParameter("@from", from);
                insert.ExecuteNonQuery();
            }

            foreach (var key in moving)
            {
                IdentityStore.Exec(connection, tx, "UPDATE identity_keys SET profile_id = @b WHERE customer_key = @a;", key, restored);
                // The pairs that tied the two sides together are undone, in either direction.
                foreach (var other in staying)
                {
                    IdentityStore.Exec(connection, tx,
                        "UPDATE identity_links SET status = 'split', reason = 'unmerged by an operator' WHERE (key_a = @a AND key_b = @b) OR (key_a = @b AND key_b = @a);",
                        key, other);
                }
            }

            var policy = identity.Policy;
            var anchorMoving = moving.OrderBy(k => policy.Rank(IdentityPolicy.KindOf(k))).ThenBy(k => k, StringComparer.Ordinal).First();
            var anchorStaying = staying.OrderBy(k => policy.Rank(IdentityPolicy.KindOf(k))).ThenBy(k => k, StringComparer.Ordinal).First();
            using (var separate = connection.CreateCommand())
            {
                separate.Transaction = tx;
                separate.CommandText = "INSERT INTO identity_separations (key_a, key_b, created_at) VALUES (@a, @b, @now) ON CONFLICT DO NOTHING;";
                separate.AddParameter("@a", anchorMoving);
                separate.AddParameter("@b", anchorStaying);
                separate.AddParameter("@now", now);
                separate.ExecuteNonQuery();
            }

            var seq = IdentityStore.Audit(connection, tx, now, "unmerge", "operator", from, restored, JsonSerializer.Serialize(moving),
                $"reverts merge {mergeSeq}");
            using (var mark = connection.CreateCommand())
            {
                mark.Transaction = tx;
                mark.CommandText = "UPDATE identity_audit SET undone_by = @u WHERE seq = @s;";
                mark.AddParameter("@u", seq);
                mark.AddParameter("@s", mergeSeq);
                mark.ExecuteNonQuery();
            }

            // Both sides' segments and the stores' global views follow the split.
            segments.OnProfilesChanged(connection, tx, [from, restored], now);
            downlink.Enqueue(connection, tx, [from, restored], now, evenForOneStore: true);
            changes.Publish(connection, tx, HubChanges.Identities);
            return new UnmergeResult(seq, mergeSeq, "ep:" + from, "ep:" + restored, moving);
        }, cancellationToken).ConfigureAwait(false);

        if (result is not null)
        {
            cache.IdentitiesChanged();
            downlink.Notify();
            HubLog.ProfileUnmerged(logger, result.Merge, result.From, result.Restored, result.Identifiers.Count);
        }

        return result;
    }

    private static IdentityAuditEntry ReadAudit(DbDataReader reader) => new(
        reader.GetInt64(0),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetString(4),
        reader.IsDBNull(5) ? null : reader.GetString(5),
        JsonSerializer.Deserialize<List<string>>(reader.GetString(6)) ?? [],
        reader.IsDBNull(7) ? null : reader.GetString(7),
        reader.IsDBNull(8) ? null : reader.GetInt64(8));
}
