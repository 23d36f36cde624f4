using System.Text.Json;
using EdgeProfile.Core.Features;
using EdgeProfile.Hub.Storage;
using System.Data;
using System.Data.Common;

namespace EdgeProfile.Hub.Features;

/// <summary>
/// The hub's feature-definition registry: every version of every definition in SQLite, the current set (the latest
/// version of each name that is not retired) in memory, and a registry revision that grows by one per committed
/// change. Watchers wait on <see cref="WaitForChangeAsync"/>, which completes as soon as a change is committed.
/// </summary>
internal sealed class DefinitionRegistry
{
    private readonly HubDatabase _db;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private DefinitionSnapshot _current = DefinitionSnapshot.Of(new FeatureSet());
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _loaded;

    private readonly HubChanges _changes;

    public DefinitionRegistry(HubDatabase db, HubChanges changes, TimeProvider time)
    {
        _db = db;
        _changes = changes;
        _time = time;
    }

    /// <summary>Re-reads the current set (another hub replica changed it) and wakes the watchers if it moved on.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken) =>
        Publish(await _db.ReadAsync(connection => Load(connection, null), cancellationToken).ConfigureAwait(false));

    /// <summary>The current set.</summary>
    public DefinitionSnapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>
    /// Seeds an empty registry with <paramref name="defaults"/> (all version 1) as revision 1, once per data directory,
    /// then loads the current set. Returns true when it seeded.
    /// </summary>
    public async Task<bool> InitializeAsync(FeatureSet defaults, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        var (seeded, snapshot) = await _db.WriteAsync((connection, tx) =>
        {
            var seed = ReadRevision(connection, tx) is null;
            if (seed)
            {
                var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                foreach (var d in defaults.Definitions)
                {
                    InsertName(connection, tx, d.Name);
                    InsertVersion(connection, tx, d with { Version = 1 }, now, 1);
                }

                WriteRevision(connection, tx, 1, now);
            }

            return (seed, Load(connection, tx));
        }, cancellationToken).ConfigureAwait(false);
        Publish(snapshot);
        return seeded;
    }

    /// <summary>
    /// Completes with the current set as soon as its revision differs from <paramref name="knownRevision"/>: at once
    /// when it already does, else when the next change is committed.
    /// </summary>
    public async Task<DefinitionSnapshot> WaitForChangeAsync(long knownRevision, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_current.Revision != knownRevision)
                {
                    return _current;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Registers definitions, all or nothing, with one revision bump when anything changed. Per name: new → version 1;
    /// same content as the current version → unchanged (a retired name comes back); different → the next version. A
    /// body that names a version must name the current one (with identical content) or the next one, else
    /// <see cref="FeatureConflictException"/> listing every conflict.
    /// </summary>
    public async Task<FeatureChangeResult> RegisterAsync(IReadOnlyList<SubmittedDefinition> submitted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submitted);
        var (result, snapshot) = await _db.WriteAsync((connection, tx) =>
        {
            var revision = ReadRevision(connection, tx) ?? 0;
            var next = revision + 1;
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var changes = new List<FeatureChange>();
            var conflicts = new List<string>();
            foreach (var s in submitted)
            {
                var d = s.Definition;
                var stored = ReadName(connection, tx, d.Name);
                if (stored is null)
                {
                    if (s.VersionGiven && d.Version != 1)
                    {
                        conflicts.Add($"{s.Key}version: '{d.Name}' is new to the registry, so its version must be 1 or left out (got {d.Version})");
                        continue;
                    }

                    InsertName(connection, tx, d.Name);
                    InsertVersion(connection, tx, d with { Version = 1 }, now, next);
                    changes.Add(Change(d.Name, 1, FeatureOutcome.Created));
                    continue;
                }

                var (current, retired) = stored.Value;
                var same = string.Equals(
                    DefinitionJson.Canonical(d),
                    DefinitionJson.Canonical(FeatureSet.ParseDefinition(ReadDefinition(connection, tx, d.Name, current))),
                    StringComparison.Ordinal);
                if (s.VersionGiven && !(d.Version == current + 1 || (d.Version == current && same)))
                {
                    conflicts.Add(d.Version == current
                        ? $"{s.Key}version: {d.Name}@v{current} exists with different content; submit version {current + 1} (or leave the version out) to register a change"
                        : $"{s.Key}version: '{d.Name}' is at version {current}; a submitted version must be {current} (unchanged) or {current + 1} (got {d.Version})");
                    continue;
                }

                if (same)
                {
                    if (retired)
                    {
                        UpdateName(connection, tx, d.Name, current);
                    }

                    changes.Add(Change(d.Name, current, retired ? FeatureOutcome.Restored : FeatureOutcome.Unchanged));
                    continue;
                }

                InsertVersion(connection, tx, d with { Version = current + 1 }, now, next);
                UpdateName(connection, tx, d.Name, current + 1);
                changes.Add(Change(d.Name, current + 1, FeatureOutcome.NewVersion));
            }

            if (conflicts.Count > 0)
            {
                // Throwing rolls the transaction back: nothing of the request is stored.
                throw new FeatureConflictException(string.Join("; ", conflicts));
            }

            return Commit(connection, tx, revision, now, changes);
        }, cancellationToken).ConfigureAwait(false);
        Publish(snapshot);
        return result;
    }

    /// <summary>Takes <paramref name="name"/> out of the current set (its versions stay); null when the registry never had it.</summary>
    public async Task<FeatureChangeResult?> RetireAsync(string name, CancellationToken cancellationToken)
    {
        var outcome = await _db.WriteAsync((connection, tx) =>
        {
            if (ReadName(connection, tx, name) is not { } stored)
            {
                return ((FeatureChangeResult Result, DefinitionSnapshot Snapshot)?)null;
            }

            var (current, retired) = stored;

            var revision = ReadRevision(connection, tx) ?? 0;
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            if (retired)
            {
                return Commit(connection, tx, revision, now, [Change(name, current, FeatureOutcome.Unchanged)]);
            }

            using var retire = Command(connection, tx,
                "UPDATE feature_names SET retired = 1, retired_at = @now, retired_revision = @rev WHERE name = @name;");
            retire.AddParameter("@now", now);
            retire.AddParameter("@rev", revision + 1);
            retire.AddParameter("@name", name);
            retire.ExecuteNonQuery();
            return Commit(connection, tx, revision, now, [Change(name, current, FeatureOutcome.Retired)]);
        }, cancellationToken).ConfigureAwait(false);
        if (outcome is not { } done)
        {
            return null;
        }

        Publish(done.Snapshot);
        return done.Result;
    }

    /// <summary>Every version of <paramref name="name"/> with the changes between them; null when the registry never had it.</summary>
    public Task<FeatureHistory?> HistoryAsync(string name, CancellationToken cancellationToken) =>
        _db.ReadAsync(connection =>
        {
            using var find = connection.CreateCommand();
            find.CommandText = "SELECT current_version, retired, retired_at FROM feature_names WHERE name = @name;";
            find.AddParameter("@name", name);
            int current;
            bool retired;
            DateTimeOffset? retiredAt;
            using (var r = find.ExecuteReader())
            {
                if (!r.Read())
                {
                    return null;
                }

                current = r.GetInt32(0);
                retired = r.GetInt64(1) != 0;
                retiredAt = r.IsDBNull(2) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2));
            }

            using var list = connection.CreateCommand();
            list.CommandText = "SELECT version, definition, owner, created_at, revision FROM feature_definitions WHERE name = @name ORDER BY version;";
            list.AddParameter("@name", name);
            var versions = new List<FeatureVersion>();
            string? previous = null;
            using (var r = list.ExecuteReader())
            {
                while (r.Read())
                {
                    var version = r.GetInt32(0);
                    var json = r.GetString(1);
                    using var doc = JsonDocument.Parse(json);
                    versions.Add(new FeatureVersion(
                        version,
                        $"{name}@v{version}",
                        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)),
                        r.GetString(2),
                        r.GetInt64(4),
                        previous is null ? [] : DefinitionJson.Diff(previous, json),
                        doc.RootElement.Clone()));
                    previous = json;
                }
            }

            using var rev = connection.CreateCommand();
            rev.CommandText = "SELECT revision FROM feature_registry WHERE id = 1;";
            var revision = rev.ExecuteScalar() is long l ? l : 0;
            return new FeatureHistory(name, current, $"{name}@v{current}", retired, retiredAt, revision, versions);
        }, cancellationToken);

    private static FeatureChange Change(string name, int version, string outcome) => new(name, version, $"{name}@v{version}", outcome);

    private (FeatureChangeResult Result, DefinitionSnapshot Snapshot) Commit(
        DbConnection connection, DbTransaction tx, long revision, long now, List<FeatureChange> changes)
    {
        if (changes.Any(c => c.Outcome is not FeatureOutcome.Unchanged))
        {
            revision++;
            WriteRevision(connection, tx, revision, now);
            _changes.Publish(connection, tx, HubChanges.Registry);
        }

        return (new FeatureChangeResult(revision, changes), Load(connection, tx));
    }

    private void Publish(DefinitionSnapshot snapshot)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            // Two writers may finish in either order after their commits; only ever move forward.
            if (_loaded && snapshot.Revision <= _current.Revision)
            {
                return;
            }

            _loaded = true;
            _current = snapshot;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    private static DefinitionSnapshot Load(DbConnection connection, DbTransaction? tx)
    {
        using var command = Command(connection, tx, $"""
            SELECT d.definition FROM feature_names n
            JOIN feature_definitions d ON d.name = n.name AND d.version = n.current_version
            WHERE n.retired = 0
            ORDER BY n.{Sql.Dialect(connection).InsertionOrder};
            """);
        var definitions = new List<FeatureDefinition>();
        using (var r = command.ExecuteReader())
        {
            while (r.Read())
            {
                definitions.Add(FeatureSet.ParseDefinition(r.GetString(0)));
            }
        }

        return DefinitionSnapshot.Of(new FeatureSet { Revision = ReadRevision(connection, tx) ?? 0, Definitions = definitions });
    }

    private static long? ReadRevision(DbConnection connection, DbTransaction? tx)
    {
        using var command = Command(connection, tx, "SELECT revision FROM feature_registry WHERE id = 1;");
        return command.ExecuteScalar() is long revision ? revision : null;
    }

    private static void WriteRevision(DbConnection connection, DbTransaction tx, long revision, long now)
    {
        using var command = Command(connection, tx, """
            INSERT INTO feature_registry (id, revision, updated_at) VALUES (1, @rev, @now)
            ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, updated_at = excluded.updated_at;
            """);
        command.AddParameter("@rev", revision);
        command.AddParameter("@now", now);
        command.ExecuteNonQuery();
    }

    private static (int Current, bool Retired)? ReadName(DbConnection connection, DbTransaction tx, string name)
    {
        using var command = Command(connection, tx, "SELECT current_version, retired FROM feature_names WHERE name = @name;");
        command.AddParameter("@name", name);
        using var r = command.ExecuteReader();
        return r.Read() ? (r.GetInt32(0), r.GetInt64(1) != 0) : null;
    }

    private static string ReadDefinition(DbConnection connection, DbTransaction tx, string name, int version)
    {
        using var command = Command(connection, tx, "SELECT definition FROM feature_definitions WHERE name = @name AND version = @version;");
        command.AddParameter("@name", name);
        command.AddParameter("@version", version);
        return (string)command.ExecuteScalar()!;
    }

    private static void InsertName(DbConnection connection, DbTransaction tx, string name)
    {
        using var command = Command(connection, tx, "INSERT INTO feature_names (name, current_version) VALUES (@name, 1);");
        command.AddParameter("@name", name);
        command.ExecuteNonQuery();
    }

    private static void UpdateName(DbConnection connection, DbTransaction tx, string name, int version)
    {
        using var command = Command(connection, tx, """
            UPDATE feature_names SET current_version = @version, retired = 0, retired_at = NULL, retired_revision = NULL
            WHERE name = @name;
            """);
        command.AddParameter("@name", name);
        command.AddParameter("@version", version);
        command.ExecuteNonQuery();
    }

    private static void InsertVersion(DbConnection connection, DbTransaction tx, FeatureDefinition definition, long now, long revision)
    {
        using var command = Command(connection, tx, """
            INSERT INTO feature_definitions (name, version, definition, owner, created_at, revision)
            VALUES (@name, @version, @json, @owner, @now, @rev);
            """);
        command.AddParameter("@name", definition.Name);
        command.AddParameter("@version", definition.Version);
        command.AddParameter("@json", FeatureSet.ToJson(definition));
        command.AddParameter("@owner", definition.Owner ?? "");
        command.AddParameter("@now", now);
        command.AddParameter("@rev", revision);
        command.ExecuteNonQuery();
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql)
    {
        var command = connection.CreateCommand();
        if (tx is not null)
        {
            command.Transaction = tx;
        }

        command.CommandText = sql;
        return command;
    }
}
