using System.Globalization;
using System.Runtime.CompilerServices;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Profiles;
using EdgeProfile.Hub.Storage;
using System.Data;
using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Segments;

/// <summary>
/// Segments for operators: define (create or replace: validated, version +1, membership recomputed over every profile
/// in the same transaction), list and get with member counts, delete, and the members for export.
/// </summary>
internal sealed class SegmentStore
{
    public const int MaxDescriptionLength = 1000;

    /// <summary>Members read per snapshot while exporting.</summary>
    private const int ExportPage = 500;

    private const string SelectSummary = """
        SELECT s.name, s.expression, s.description, s.version, s.created_at, s.updated_at,
               (SELECT count(*) FROM segment_members m JOIN profiles p ON p.profile_id = m.profile_id WHERE m.segment = s.name)
        FROM segments s
        """;

    private readonly HubDatabase _db;
    private readonly SegmentIndex _index;
    private readonly TimeProvider _time;
    private readonly ILogger<SegmentStore> _logger;
    private readonly ProfileReader _profiles;

    public SegmentStore(HubDatabase db, SegmentIndex index, ProfileReader profiles, TimeProvider time, ILogger<SegmentStore> logger)
    {
        _profiles = profiles;
        _db = db;
        _index = index;
        _time = time;
        _logger = logger;
    }

    public Task<List<SegmentSummary>> ListAsync(CancellationToken cancellationToken) =>
        _db.ReadAsync(connection => Query(connection, null, null), cancellationToken);

    /// <summary>The segment, or null when there is none by that name.</summary>
    public async Task<SegmentSummary?> GetAsync(string name, CancellationToken cancellationToken) =>
        SegmentNames.IsValid(name)
            ? (await _db.ReadAsync(connection => Query(connection, null, name), cancellationToken).ConfigureAwait(false)).SingleOrDefault()
            : null;

    /// <summary>
    /// Creates or replaces segment <paramref name="name"/>; <c>Created</c> is true when the name is new. A null
    /// <paramref name="description"/> keeps the current one.
    /// </summary>
    /// <exception cref="SegmentDefinitionException">The name, expression or description is not valid; the message names which.</exception>
    public async Task<(SegmentSummary Segment, bool Created)> DefineAsync(string name, string? expression, string? description, CancellationToken cancellationToken)
    {
        var (text, parsed, about) = Validate(name, expression, description);
        var (segment, created) = await _db.WriteAsync((connection, tx) =>
        {
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            long version;
            using (var upsert = connection.CreateCommand())
            {
                upsert.Transaction = tx;
                upsert.CommandText = """
                    INSERT INTO segments (name, expression, description, version, created_at, updated_at)
                    VALUES (@name, @expression, COALESCE(@description, ''), 1, @now, @now)
                    ON CONFLICT (name) DO UPDATE SET expression = excluded.expression,
                        description = COALESCE(@description, segments.description),
                        version = segments.version + 1, updated_at = excluded.updated_at
                    RETURNING version;
                    """;
                upsert.AddParameter("@name", name);
                upsert.AddParameter("@expression", text);
                upsert.AddParameter("@description", (object?)about ?? DBNull.Value);
                upsert.AddParameter("@now", now);
                version = (long)upsert.ExecuteScalar()!;
            }

            _index.Rebuild(connection, tx, name, parsed, now);
            _index.Invalidate();
            return (Query(connection, tx, name).Single(), version == 1);
        }, cancellationToken).ConfigureAwait(false);

        SegmentLog.Defined(_logger, name, segment.Version, text, (int)segment.Members);
        return (segment, created);
    }

    /// <summary>Deletes the segment and its members; returns it as it was, or null when there is none by that name.</summary>
    public async Task<SegmentSummary?> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        if (!SegmentNames.IsValid(name))
        {
            return null;
        }

        var deleted = await _db.WriteAsync((connection, tx) =>
        {
            var found = Query(connection, tx, name).SingleOrDefault();
            if (found is null)
            {
                return null;
            }

            using var delete = connection.CreateCommand();
            delete.Transaction = tx;
            delete.CommandText = "DELETE FROM segment_members WHERE segment = @name; DELETE FROM segments WHERE name = @name;";
            delete.AddParameter("@name", name);
            delete.ExecuteNonQuery();
            _index.Invalidate();
            return found;
        }, cancellationToken).ConfigureAwait(false);

        if (deleted is not null)
        {
            SegmentLog.Deleted(_logger, name, (int)deleted.Members);
        }

        return deleted;
    }

    /// <summary>
    /// The members of <paramref name="name"/> in profile id order, read a page at a time (each page one snapshot, so a
    /// long export does not hold a read transaction open while the client downloads).
    /// </summary>
    public async IAsyncEnumerable<SegmentMember> MembersAsync(string name, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var after = "";
        while (true)
        {
            var page = await _db.ReadAsync(connection => MembersPage(connection, name, after), cancellationToken).ConfigureAwait(false);
            foreach (var member in page.Members)
            {
                yield return member;
            }

            if (page.Last is null)
            {
                yield break;
            }

            after = page.Last;
        }
    }

    private (List<SegmentMember> Members, string? Last) MembersPage(DbConnection connection, string name, string after)
    {
        var rows = new List<(string ProfileId, long Since)>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT m.profile_id, m.since FROM segment_members m JOIN profiles p ON p.profile_id = m.profile_id
                WHERE m.segment = @s AND m.profile_id > @after ORDER BY m.profile_id LIMIT @n;
                """;
            command.AddParameter("@s", name);
            command.AddParameter("@after", after);
            command.AddParameter("@n", ExportPage);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                rows.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }

        var members = rows
            .Select(r => new SegmentMember(
                _profiles.Load(connection, r.ProfileId),
                DateTimeOffset.FromUnixTimeMilliseconds(r.Since)))
            .ToList();
        return (members, rows.Count == ExportPage ? rows[^1].ProfileId : null);
    }

    private static (string Expression, SegmentExpression Parsed, string? Description) Validate(string name, string? expression, string? description)
    {
        if (!SegmentNames.IsValid(name))
        {
            throw new SegmentDefinitionException($"name: '{name}' is not a segment name: {SegmentNames.Rule}");
        }

        if (string.IsNullOrWhiteSpace(expression))
        {
            throw new SegmentDefinitionException("expression: required, e.g. {\"expression\": \"spend_30d >= 100 and has_tag(\\\"vip\\\")\"}");
        }

        SegmentExpression parsed;
        try
        {
            // The text as sent, so that positions in errors count in what the operator wrote.
            parsed = SegmentExpression.Parse(expression);
        }
        catch (SegmentSyntaxException ex)
        {
            throw new SegmentDefinitionException("expression: " + ex.Message, ex);
        }

        // Null keeps the current description (a rule is often changed without restating what it is for); "" clears it.
        var about = description?.Trim();
        if (about?.Length > MaxDescriptionLength)
        {
            throw new SegmentDefinitionException(string.Create(CultureInfo.InvariantCulture,
                $"description: longer than {MaxDescriptionLength} characters"));
        }

        return (expression.Trim(), parsed, about);
    }

    private static List<SegmentSummary> Query(DbConnection connection, DbTransaction? tx, string? name)
    {
        using var command = connection.CreateCommand();
        if (tx is not null)
        {
            command.Transaction = tx;
        }

        command.CommandText = SelectSummary + (name is null ? " ORDER BY s.name;" : " WHERE s.name = @name;");
        if (name is not null)
        {
            command.AddParameter("@name", name);
        }

        using var reader = command.ExecuteReader();
        var segments = new List<SegmentSummary>();
        while (reader.Read())
        {
            segments.Add(new SegmentSummary(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetInt64(3),
                reader.GetInt64(6),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
        }

        return segments;
    }
}
