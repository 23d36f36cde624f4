using System.Data.Common;
using EdgeProfile.Hub.Storage;
using EdgeProfile.Knowledge;
using EdgeProfile.Knowledge.Rules;

namespace EdgeProfile.Hub.Rules;

/// <summary>A published rule set: its version (0: none yet), text, when, how (publish or rollback) and rule count.</summary>
internal sealed record RuleSnapshot(long Version, string Text, long PublishedAtMs, string Action, int Rules)
{
    public static RuleSnapshot None { get; } = new(0, "", 0, "none", 0);
}

/// <summary>The live rule that sets a tag: its id, version, descriptions, and the rule set version it belongs to.</summary>
internal sealed record TagRuleReason(string RuleId, int RuleVersion, string En, string Zh, long RulesVersion);

/// <summary>A rule set refused at publish (or by validation): every error with its line and column.</summary>
internal sealed class RuleSetRejectedException(IReadOnlyList<TagRuleError> errors)
    : Exception(string.Join("; ", errors.Select(e => e.ToString())))
{
    public IReadOnlyList<TagRuleError> Errors { get; } = errors;
}

/// <summary>
/// The operators' tag rules: every published version in <c>rule_sets</c> (text, time, publish or rollback), the current
/// one in memory, and watchers (<see cref="RuleRegistryService"/>) woken as soon as a version is committed. A rule set is
/// compiled and validated before it is stored — syntax, unknown features (against the feature registry), unsafe
/// variables, cycles through negation — so edges only ever receive sets that compile.
/// </summary>
internal sealed class RuleRegistry(HubDatabase db, HubChanges changes, TimeProvider time, Profiles.ProfileCache? profiles = null)
{
    private readonly Lock _gate = new();
    private RuleSnapshot _current = RuleSnapshot.None;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TagRuleCache _tagRules = new(RuleSnapshot.None, new(StringComparer.Ordinal));

    /// <summary>The published set (version 0 when none).</summary>
    public RuleSnapshot Current
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
    /// The live rule that sets <paramref name="tag"/> (a rule whose head is <c>tag(C, name)</c> with that constant), or
    /// null: what the global profile shows as the reason of a tag the stores report.
    /// </summary>
    public TagRuleReason? RuleFor(string tag)
    {
        var current = Current;
        var cached = Volatile.Read(ref _tagRules);
        if (!ReferenceEquals(cached.For, current))
        {
            cached = new TagRuleCache(current, TagRules(current));
            Volatile.Write(ref _tagRules, cached);
        }

        return cached.Tags.GetValueOrDefault(tag);
    }

    /// <summary>Loads the latest version (at start, and when another replica published).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken) =>
        Publish(await db.ReadAsync(connection => Latest(connection, null), cancellationToken).ConfigureAwait(false));

    /// <summary>Compiles <paramref name="text"/> against <paramref name="knownFeatures"/>: the errors, or none.</summary>
    public static IReadOnlyList<TagRuleError> Validate(string text, IReadOnlySet<string> knownFeatures) =>
        TagRuleSet.Validate(text, knownFeatures);

    /// <summary>Publishes <paramref name="text"/> as the next version once it compiles.</summary>
    /// <exception cref="RuleSetRejectedException">It does not compile; nothing changed.</exception>
    public async Task<RuleSnapshot> PublishAsync(string text, IReadOnlySet<string> knownFeatures, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        var compiled = TagRuleSet.Compile(text, knownFeatures, out var errors);
        if (compiled is null)
        {
            throw new RuleSetRejectedException(errors);
        }

        return await StoreAsync(text, "publish", compiled.Rules.Count, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes again the rule set that was live before the current one (the latest earlier version with other text);
    /// null when there is none.
    /// </summary>
    public async Task<RuleSnapshot?> RollbackAsync(CancellationToken cancellationToken)
    {
        var current = Current;
        var target = await db.ReadAsync(connection =>
        {
            using var command = Sql.Command(connection, null, """
                SELECT version, text, rules FROM rule_sets WHERE version < @v AND text <> @t ORDER BY version DESC LIMIT 1;
                """, ("@v", current.Version), ("@t", current.Text));
            using var reader = command.ExecuteReader();
            return reader.Read() ? (Sql.Long(reader.GetValue(0)) ?? 0, reader.GetString(1), (int)(Sql.Long(reader.GetValue(2)) ?? 0)) : ((long, string, int)?)null;
        }, cancellationToken).ConfigureAwait(false);
        if (target is not { } t)
        {
            return current.Version > 0 && current.Text.Length > 0
                ? await StoreAsync("", $"rollback to 0", 0, cancellationToken).ConfigureAwait(false)
                : null;
        }

        return await StoreAsync(t.Item2, $"rollback to {t.Item1}", t.Item3, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every version, newest first.</summary>
    public Task<List<RuleSnapshot>> HistoryAsync(CancellationToken cancellationToken) =>
        db.ReadAsync(connection =>
        {
            using var command = Sql.Command(connection, null, "SELECT version, text, published_at, action, rules FROM rule_sets ORDER BY version DESC;");
            using var reader = command.ExecuteReader();
            var list = new List<RuleSnapshot>();
            while (reader.Read())
            {
                list.Add(Read(reader));
            }

            return list;
        }, cancellationToken);

    /// <summary>Completes with the current set as soon as its version differs from <paramref name="knownVersion"/>.</summary>
    public async Task<RuleSnapshot> WaitForChangeAsync(long knownVersion, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_current.Version != knownVersion)
                {
                    return _current;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<RuleSnapshot> StoreAsync(string text, string action, int rules, CancellationToken cancellationToken)
    {
        var snapshot = await db.WriteAsync((connection, tx) =>
        {
            var next = (Sql.Long(Sql.Command(connection, tx, "SELECT COALESCE(MAX(version), 0) FROM rule_sets;").ExecuteScalar()) ?? 0) + 1;
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            Sql.Exec(connection, tx, "INSERT INTO rule_sets (version, text, published_at, action, rules) VALUES (@v, @t, @at, @a, @n);",
                ("@v", next), ("@t", text), ("@at", now), ("@a", action), ("@n", rules));
            changes.Publish(connection, tx, HubChanges.Rules);
            return new RuleSnapshot(next, text, now, action, rules);
        }, cancellationToken).ConfigureAwait(false);
        Publish(snapshot);
        return snapshot;
    }

    private static RuleSnapshot Latest(DbConnection connection, DbTransaction? tx)
    {
        using var command = Sql.Command(connection, tx, "SELECT version, text, published_at, action, rules FROM rule_sets ORDER BY version DESC LIMIT 1;");
        using var reader = command.ExecuteReader();
        return reader.Read() ? Read(reader) : RuleSnapshot.None;
    }

    private static RuleSnapshot Read(DbDataReader reader) => new(
        Sql.Long(reader.GetValue(0)) ?? 0, reader.GetString(1), Sql.Long(reader.GetValue(2)) ?? 0, reader.GetString(3), (int)(Sql.Long(reader.GetValue(4)) ?? 0));

    private void Publish(RuleSnapshot snapshot)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (snapshot.Version == _current.Version)
            {
                return;
            }

            _current = snapshot;
            profiles?.Invalidate();
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    private sealed record TagRuleCache(RuleSnapshot For, Dictionary<string, TagRuleReason> Tags);

    private static Dictionary<string, TagRuleReason> TagRules(RuleSnapshot snapshot)
    {
        var tags = new Dictionary<string, TagRuleReason>(StringComparer.Ordinal);
        if (snapshot.Version == 0 || RuleCompiler.Compile(snapshot.Text, null).RuleSet is not { } set)
        {
            return tags;
        }

        foreach (var meta in set.Metadata.Values.OrderBy(m => m.Line))
        {
            if (meta.Tag is { } name)
            {
                tags.TryAdd(name, new TagRuleReason(meta.Id, meta.Version, meta.En ?? meta.Id, meta.Zh ?? meta.En ?? meta.Id, snapshot.Version));
            }
        }

        return tags;
    }
}
