namespace EdgeProfile.Core.Identity;

/// <summary>
/// <see cref="IdentityRules"/> made ready for lookups. Blocked raw values are matched on keys of kinds that carry
/// them in the clear and, through <c>pseudonymize</c>, on the pseudonyms of the kinds that do not (email, phone, card).
/// </summary>
public sealed class IdentityPolicy
{
    private static readonly string[] PseudonymisedKinds = ["email", "phone", "card"];
    private readonly HashSet<string> _blockedKeys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _blockedValues = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, int> _limits;
    private readonly Dictionary<string, int> _ranks = new(StringComparer.Ordinal);

    /// <summary>
    /// Compiles <paramref name="rules"/>; <paramref name="pseudonymize"/> (kind, raw value) gives the organisation's
    /// pseudonym; invalid rules throw naming keys under <paramref name="section"/> (e.g. <c>Hub:Identity</c>).
    /// </summary>
    public IdentityPolicy(IdentityRules rules, Func<string, string, string>? pseudonymize = null, string section = "Identity")
    {
        ArgumentNullException.ThrowIfNull(rules);
        var errors = rules.Validate(section);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(rules));
        }

        foreach (var key in rules.BlockedKeys)
        {
            _blockedKeys.Add(key);
        }

        foreach (var value in IdentityRules.BuiltInBlockedValues.Concat(rules.BlockedValues))
        {
            _blockedValues.Add(value.Trim());
            if (pseudonymize is not null)
            {
                foreach (var kind in PseudonymisedKinds)
                {
                    _blockedKeys.Add($"{kind}:{pseudonymize(kind, value.Trim())}");
                }
            }
        }

        _limits = new Dictionary<string, int>(rules.Limits, StringComparer.Ordinal);
        var order = rules.Priority.Count > 0 ? rules.Priority : IdentityRules.DefaultPriority;
        for (var i = 0; i < order.Count; i++)
        {
            _ranks[order[i]] = i;
        }

        Limits = _limits;
    }

    /// <summary>The default rules without pseudonymised block-list entries.</summary>
    public static IdentityPolicy Default { get; } = new(new IdentityRules());

    /// <summary>Limits by kind.</summary>
    public IReadOnlyDictionary<string, int> Limits { get; }

    /// <summary>The kind of a typed key (text before the first colon).</summary>
    public static string KindOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? key[..colon] : key;
    }

    /// <summary>Why <paramref name="key"/> may not link anything, or null when it may.</summary>
    public string? Blocked(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_blockedKeys.Contains(key))
        {
            return $"blocked identifier {key}";
        }

        var colon = key.IndexOf(':', StringComparison.Ordinal);
        var value = colon >= 0 ? key[(colon + 1)..] : key;
        return _blockedValues.Contains(value) ? $"blocked value '{value}'" : null;
    }

    /// <summary>The most identifiers of <paramref name="kind"/> one profile may hold, or null for no limit.</summary>
    public int? Limit(string kind) => _limits.TryGetValue(kind, out var n) ? n : null;

    /// <summary>Lower is stronger; unlisted kinds rank after every listed one.</summary>
    public int Rank(string kind) => _ranks.TryGetValue(kind, out var r) ? r : _ranks.Count;
}
