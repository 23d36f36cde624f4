using System.Globalization;
using System.Text.Json;
using EdgeProfile.Core.Features;
using EdgeProfile.Core.Profiles;
using EdgeProfile.Edge.Features;
using EdgeProfile.Knowledge;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Rules;

/// <summary>
/// The operators' tag rules at this edge: the version the hub published last (kept in <c>{DataDir}/rules.json</c>, so a
/// restart serves it before the hub is reachable), compiled against this edge's feature definitions. Rules are
/// evaluated when a profile is read, on the customer's online features as of then, so a newly published set applies to
/// every current profile and every new event at once, without a restart; each tag carries its rule as the reason.
/// A set that does not compile here (e.g. it reads a feature this edge does not have yet) is not applied: the previous
/// one keeps serving and <see cref="Problem"/> says why.
/// </summary>
public sealed partial class RuleRuntime(IOptions<EdgeOptions> options, FeatureRuntime features, ILogger<RuleRuntime> logger)
{
    private const string FileName = "rules.json";
    private readonly Lock _gate = new();
    private Loaded? _current;
    private Loaded? _previous;
    private bool _loaded;

    /// <summary>The applied version (0: none).</summary>
    public long Version => Current?.Version ?? 0;

    /// <summary>The applied rule set's rules (empty without one).</summary>
    public IReadOnlyList<TagRuleInfo> Rules => Current?.Set.Rules ?? [];

    /// <summary>The applied version and its compiled set (null: none).</summary>
    public (long Version, TagRuleSet? Set) Applied => Current is { } c ? (c.Version, c.Set) : (0, null);

    /// <summary>
    /// The compiled set of <paramref name="version"/> when it is the applied one or the one it replaced (what the
    /// uplink's retag pass compares against); false for any other version.
    /// </summary>
    public bool TryGetSet(long version, out TagRuleSet? set)
    {
        lock (_gate)
        {
            foreach (var loaded in new[] { _current, _previous })
            {
                if (loaded is not null && loaded.Version == version)
                {
                    set = loaded.Set;
                    return true;
                }
            }
        }

        set = null;
        return version == 0;
    }

    /// <summary>Why the last version received was not applied, or null.</summary>
    public string? Problem { get; private set; }

    private Loaded? Current
    {
        get
        {
            lock (_gate)
            {
                if (!_loaded)
                {
                    _loaded = true;
                    _current = LoadSaved();
                }

                return _current;
            }
        }
    }

    /// <summary>
    /// Applies a published version: compiled against this edge's features, then swapped in atomically and saved. False
    /// (the previous set keeps serving) when it does not compile here.
    /// </summary>
    public bool Apply(long version, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var compiled = TagRuleSet.Compile(text, Known(), out var errors);
        if (compiled is null)
        {
            Problem = $"rules version {version} not applied: {string.Join("; ", errors.Take(3))}";
            LogRefused(logger, version, Problem);
            return false;
        }

        lock (_gate)
        {
            if (!_loaded)
            {
                _current = LoadSaved();
            }

            _loaded = true;
            if (_current?.Version != version)
            {
                _previous = _current;
            }

            _current = new Loaded(version, text, compiled);
        }

        Problem = null;
        Save(version, text);
        LogApplied(logger, version, compiled.Rules.Count);
        return true;
    }

    /// <summary>
    /// The tags the rules set, each with the rule that fired and the facts it rested on (why the customer has the tag),
    /// and the applied rules version.
    /// </summary>
    public IReadOnlyList<(ProfileTag Tag, FiredTag Rule, long RulesVersion)> Fired(string customerKey, IReadOnlyList<FeatureReading> readings)
    {
        ArgumentNullException.ThrowIfNull(readings);
        if (Current is not { } current || current.Set.Rules.Count == 0)
        {
            return [];
        }

        var values = Values(current.Set, readings);
        return [.. current.Set.Evaluate(customerKey, values, Facts(current.Set, customerKey, readings)).Select(t => (new ProfileTag(
            t.Tag,
            string.Create(CultureInfo.InvariantCulture, $"rule {t.RuleId}@v{t.RuleVersion} (rules version {current.Version}): {t.En}"),
            string.Create(CultureInfo.InvariantCulture, $"规则 {t.RuleId}@v{t.RuleVersion}（规则版本 {current.Version}）：{t.Zh}")), t, current.Version))];
    }

    /// <summary>The names of the tags <paramref name="set"/> fires for a customer with these readings (none without a set).</summary>
    public static IReadOnlyList<string> TagNames(TagRuleSet? set, string customerKey, IReadOnlyList<FeatureReading> readings)
    {
        ArgumentNullException.ThrowIfNull(readings);
        return set is null || set.Rules.Count == 0 ? [] : [.. set.Evaluate(customerKey, Values(set, readings), Facts(set, customerKey, readings)).Select(t => t.Tag).Distinct(StringComparer.Ordinal)];
    }

    // Rules read fresh, finite values only: a stale or missing feature is not a fact. Only the features the rules
    // name are passed (an evaluation costs about 40 us even with two facts; each unread fact adds to it).
    private static Dictionary<string, double> Values(TagRuleSet set, IReadOnlyList<FeatureReading> readings)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        var reads = set.ReadsFeatures;
        foreach (var r in readings)
        {
            if (r.Status == FeatureStatus.Fresh && (reads is null || reads.Contains(r.Definition.Name)) && r.Value.Number is { } number && double.IsFinite(number))
            {
                values[r.Definition.Name] = number;
            }
        }

        return values;
    }

    // The customer's ranked and text features as facts: top(C, feature, value, share) per ranked value (e.g. the
    // category affinity's top categories), text(C, feature, value) for a text value (e.g. the last channel).
    private static List<Knowledge.Rules.Fact> Facts(TagRuleSet set, string customerKey, IReadOnlyList<FeatureReading> readings)
    {
        var facts = new List<Knowledge.Rules.Fact>();
        var top = set.ReadsPredicates.Contains(TagRuleSet.TopPredicate);
        var text = set.ReadsPredicates.Contains(TagRuleSet.TextPredicate);
        if (!top && !text)
        {
            return facts;
        }

        var who = Knowledge.Rules.Value.Of(customerKey);
        foreach (var r in readings)
        {
            if (r.Status != FeatureStatus.Fresh)
            {
                continue;
            }

            var name = Knowledge.Rules.Value.Of(r.Definition.Name);
            if (text && r.Value.Text is { } value)
            {
                facts.Add(new Knowledge.Rules.Fact(TagRuleSet.TextPredicate, who, name, Knowledge.Rules.Value.Of(value)));
            }

            foreach (var ranked in top ? r.Value.Ranking ?? [] : [])
            {
                facts.Add(new Knowledge.Rules.Fact(TagRuleSet.TopPredicate, who, name, Knowledge.Rules.Value.Of(ranked.Value), Knowledge.Rules.Value.Of(Math.Round(ranked.Share, 4))));
            }
        }

        return facts;
    }

    private HashSet<string> Known() => [.. features.Engine.Set.Definitions.Select(d => d.Name)];

    private Loaded? LoadSaved()
    {
        var path = Path.Combine(options.Value.DataDir, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var saved = JsonSerializer.Deserialize<Saved>(File.ReadAllText(path), JsonSerializerOptions.Web);
            if (saved is null)
            {
                return null;
            }

            var compiled = TagRuleSet.Compile(saved.Text, Known(), out var errors);
            if (compiled is null)
            {
                Problem = $"saved rules version {saved.Version} no longer compile here: {string.Join("; ", errors.Take(3))}";
                return null;
            }

            return new Loaded(saved.Version, saved.Text, compiled);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            Problem = $"{path}: {ex.Message}";
            return null;
        }
    }

    private void Save(long version, string text)
    {
        var path = Path.Combine(options.Value.DataDir, FileName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(new Saved(version, text), JsonSerializerOptions.Web));
        File.Move(temp, path, overwrite: true);
    }

    private sealed record Saved(long Version, string Text);

    private sealed record Loaded(long Version, string Text, TagRuleSet Set);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tag rules version {Version} applied ({Rules} rules)")]
    private static partial void LogApplied(ILogger logger, long version, int rules);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tag rules version {Version} refused; the previous rules keep serving: {Problem}")]
    private static partial void LogRefused(ILogger logger, long version, string problem);
}
