using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Profiles;
using System.Data;
using System.Data.Common;
using EdgeProfile.Hub.Storage;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Segments;

/// <summary>
/// Keeps <c>segment_members</c> up to date as profiles change (called inside the upload's transaction): each changed
/// profile is re-evaluated against every segment, entering (with <c>since</c> = now) or leaving as its rule says.
/// Profiles merged into a changed one, and changed ids that no longer exist, leave every segment. The parsed rules are
/// cached until <see cref="Invalidate"/> or until <c>segments</c> changes under them (another hub replica on the same
/// PostgreSQL database may define a segment: every caller holds the single writer, so a fingerprint of the table read
/// in the caller's transaction is exact, and the cache needs no lock of its own).
/// </summary>
internal sealed class SegmentIndex
{
    private readonly ILogger<SegmentIndex> _logger;
    private readonly ProfileReader _profiles;
    private volatile IReadOnlyList<Rule>? _rules;
    private (long Count, long Versions, long Updated) _fingerprint;

    public SegmentIndex(ProfileReader profiles, ILogger<SegmentIndex> logger)
    {
        _profiles = profiles;
        _logger = logger;
    }

    /// <summary>Re-evaluates every segment for <paramref name="profileIds"/>, which an upload just changed.</summary>
    public void OnProfilesChanged(DbConnection connection, DbTransaction tx, IReadOnlyCollection<string> profileIds, long nowUnixMs)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(profileIds);
        if (profileIds.Count == 0)
        {
            return;
        }

        var rules = Rules(connection, tx);
        if (rules.Count == 0)
        {
            // Deleting a segment deletes its members, so without segments there is nothing to keep up to date.
            return;
        }

        var now = DateTimeOffset.FromUnixTimeMilliseconds(nowUnixMs);
        using var members = new Members(connection, tx);
        foreach (var profileId in profileIds)
        {
            // A merge retires the absorbed id as an alias of the survivor (which is the id the upload reports).
            members.RemoveAliasesOf(profileId);
            if (!members.ProfileExists(profileId))
            {
                members.RemoveProfile(profileId);
                continue;
            }

            var profile = _profiles.Load(connection, profileId);
            var current = members.SegmentsOf(profileId);
            foreach (var rule in rules)
            {
                // A customer who withdrew analytics consent is in no segment (nor in its exports).
                var member = profile.Consent.Analytics && SegmentEvaluator.Matches(rule.Expression, profile, now);
                if (member && !current.Contains(rule.Name))
                {
                    members.Add(rule.Name, profileId, nowUnixMs);
                }
                else if (!member && current.Contains(rule.Name))
                {
                    members.Remove(rule.Name, profileId);
                }
            }
        }
    }

    /// <summary>
    /// Recomputes segment <paramref name="name"/> over every profile with <paramref name="expression"/>: members that
    /// stay keep their <c>since</c>, new ones get <paramref name="nowUnixMs"/>. Returns the number of members.
    /// </summary>
    public int Rebuild(DbConnection connection, DbTransaction tx, string name, SegmentExpression expression, long nowUnixMs)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(expression);
        var before = new HashSet<string>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.Transaction = tx;
            command.CommandText = "SELECT profile_id FROM segment_members WHERE segment = @s;";
            command.AddParameter("@s", name);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                before.Add(reader.GetString(0));
            }
        }

        var profileIds = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = tx;
            command.CommandText = "SELECT profile_id FROM profiles ORDER BY seq;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                profileIds.Add(reader.GetString(0));
            }
        }

        var now = DateTimeOffset.FromUnixTimeMilliseconds(nowUnixMs);
        var count = 0;
        using var members = new Members(connection, tx);
        foreach (var profileId in profileIds)
        {
            var profile = _profiles.Load(connection, profileId);
            if (!profile.Consent.Analytics || !SegmentEvaluator.Matches(expression, profile, now))
            {
                continue;
            }

            count++;
            if (!before.Remove(profileId))
            {
                members.Add(name, profileId, nowUnixMs);
            }
        }

        // Left the segment, or no longer a profile at all.
        foreach (var profileId in before)
        {
            members.Remove(name, profileId);
        }

        return count;
    }

    /// <summary>Drops the cached rules; the next change reloads them from <c>segments</c>. Call after changing that table.</summary>
    public void Invalidate() => _rules = null;

    private IReadOnlyList<Rule> Rules(DbConnection connection, DbTransaction tx)
    {
        (long, long, long) fingerprint;
        using (var stamp = connection.CreateCommand())
        {
            stamp.Transaction = tx;
            stamp.CommandText = "SELECT count(*), coalesce(sum(version), 0), coalesce(max(updated_at), 0) FROM segments;";
            using var reader = stamp.ExecuteReader();
            reader.Read();
            fingerprint = (Sql.Long(reader.GetValue(0)) ?? 0, Sql.Long(reader.GetValue(1)) ?? 0, Sql.Long(reader.GetValue(2)) ?? 0);
        }

        if (_rules is { } cached && fingerprint == _fingerprint)
        {
            return cached;
        }

        _fingerprint = fingerprint;

        var rules = new List<Rule>();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = tx;
            command.CommandText = "SELECT name, expression FROM segments ORDER BY name;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var name = reader.GetString(0);
                try
                {
                    rules.Add(new Rule(name, SegmentExpression.Parse(reader.GetString(1))));
                }
                catch (SegmentSyntaxException ex)
                {
                    // Written by a hub that understood more of the language: keep its members as they are.
                    SegmentLog.Unreadable(_logger, name, ex.Message);
                }
            }
        }

        SegmentLog.Loaded(_logger, rules.Count);
        _rules = rules;
        return rules;
    }

    private sealed record Rule(string Name, SegmentExpression Expression);

    /// <summary>Prepared statements on <c>segment_members</c>, for one transaction.</summary>
    private sealed class Members : IDisposable
    {
        private readonly DbCommand _exists;
        private readonly DbCommand _segmentsOf;
        private readonly DbCommand _add;
        private readonly DbCommand _remove;
        private readonly DbCommand _removeProfile;
        private readonly DbCommand _removeAliases;

        public Members(DbConnection connection, DbTransaction tx)
        {
            DbCommand Prepare(string sql, params string[] names) => Sql.Prepared(connection, tx, sql, names);

            _exists = Prepare("SELECT 1 FROM profiles WHERE profile_id = @p;", "@p");
            _segmentsOf = Prepare("SELECT segment FROM segment_members WHERE profile_id = @p;", "@p");
            _add = Prepare("INSERT INTO segment_members (segment, profile_id, since) VALUES (@s, @p, @since) ON CONFLICT DO NOTHING;", "@s", "@p", "@since");
            _remove = Prepare("DELETE FROM segment_members WHERE segment = @s AND profile_id = @p;", "@s", "@p");
            _removeProfile = Prepare("DELETE FROM segment_members WHERE profile_id = @p;", "@p");
            _removeAliases = Prepare(
                "DELETE FROM segment_members WHERE profile_id IN (SELECT old_id FROM profile_aliases WHERE profile_id = @p);", "@p");
        }

        public bool ProfileExists(string profileId)
        {
            _exists.Parameters[0].Value = profileId;
            return _exists.ExecuteScalar() is not null;
        }

        public HashSet<string> SegmentsOf(string profileId)
        {
            _segmentsOf.Parameters[0].Value = profileId;
            var segments = new HashSet<string>(StringComparer.Ordinal);
            using var reader = _segmentsOf.ExecuteReader();
            while (reader.Read())
            {
                segments.Add(reader.GetString(0));
            }

            return segments;
        }

        public void Add(string segment, string profileId, long since)
        {
            _add.Parameters[0].Value = segment;
            _add.Parameters[1].Value = profileId;
            _add.Parameters[2].Value = since;
            _add.ExecuteNonQuery();
        }

        public void Remove(string segment, string profileId)
        {
            _remove.Parameters[0].Value = segment;
            _remove.Parameters[1].Value = profileId;
            _remove.ExecuteNonQuery();
        }

        public void RemoveProfile(string profileId)
        {
            _removeProfile.Parameters[0].Value = profileId;
            _removeProfile.ExecuteNonQuery();
        }

        public void RemoveAliasesOf(string profileId)
        {
            _removeAliases.Parameters[0].Value = profileId;
            _removeAliases.ExecuteNonQuery();
        }

        public void Dispose()
        {
            _exists.Dispose();
            _segmentsOf.Dispose();
            _add.Dispose();
            _remove.Dispose();
            _removeProfile.Dispose();
            _removeAliases.Dispose();
        }
    }
}
