namespace EdgeProfile.Knowledge.Rules;

/// <summary>What a rule's metadata lines said: id, version, confidence and the reason text shown with the tags it sets.</summary>
/// <param name="Id">The rule id (<c>@rule</c>).</param>
/// <param name="Version">The rule version (<c>@version</c>, default 1).</param>
/// <param name="En">English reason text (<c>@en</c>), or <c>null</c>.</param>
/// <param name="Zh">Simplified Chinese reason text (<c>@zh</c>), or <c>null</c>.</param>
/// <param name="Line">Line of the rule's head.</param>
/// <param name="Tag">For a tag rule with a constant tag (<c>tag(C, new_parent)</c>), the tag; else <c>null</c>.</param>
public sealed record RuleMetadata(string Id, int Version, string? En, string? Zh, int Line, string? Tag)
{
    /// <summary>The reason text for <paramref name="language"/>: Chinese for <c>zh</c>, <c>zh-CN</c>, ...; English
    /// otherwise; falling back to the other language, then to the id.</summary>
    public string Text(string? language) =>
        language is not null && language.StartsWith("zh", StringComparison.OrdinalIgnoreCase)
            ? Zh ?? En ?? Id
            : En ?? Zh ?? Id;

    /// <summary>The rule's confidence (<c>@confidence</c>, a number in (0, 1]), or <c>null</c> when the rule gives none.</summary>
    public double? Confidence { get; init; }
}

/// <summary>
/// A compiled, validated program: rules, the facts written in the file, metadata per rule id, and the strata
/// (predicates grouped and ordered so that negation and aggregation only look at earlier groups).
/// </summary>
public sealed class RuleSet
{
    private readonly Dictionary<string, RuleMetadata> metadata;

    private RuleSet(IReadOnlyList<Rule> rules, IReadOnlyList<Fact> facts, Dictionary<string, RuleMetadata> metadata, Stratification strata)
    {
        Rules = rules;
        Facts = facts;
        this.metadata = metadata;
        Stratification = strata;
    }

    /// <summary>The rules, in file order.</summary>
    public IReadOnlyList<Rule> Rules { get; }

    /// <summary>The facts written in the file.</summary>
    public IReadOnlyList<Fact> Facts { get; }

    /// <summary>Metadata of the rules that have <c>@rule</c>, by id.</summary>
    public IReadOnlyDictionary<string, RuleMetadata> Metadata => metadata;

    /// <summary>The predicates of each stratum, lowest first (each stratum is one strongly connected component).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Strata => Stratification.Strata;

    internal Stratification Stratification { get; }

    /// <summary>The metadata of rule <paramref name="ruleId"/>, or <c>null</c>.</summary>
    public RuleMetadata? MetadataFor(string ruleId)
    {
        ArgumentNullException.ThrowIfNull(ruleId);
        return metadata.GetValueOrDefault(ruleId);
    }

    /// <summary>
    /// Builds a rule set from rules made in code (no safety or feature checks beyond stratification; prefer
    /// <see cref="RuleCompiler.Compile"/> for operator text).
    /// </summary>
    /// <exception cref="InvalidOperationException">The rules have a cycle through negation or aggregation.</exception>
    public static RuleSet Create(IEnumerable<Rule> rules, IEnumerable<Fact>? facts = null, IEnumerable<RuleMetadata>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var list = rules.ToList();
        var strata = Stratification.Compute(list, out var errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(errors[0].ToString());
        }

        var meta = new Dictionary<string, RuleMetadata>(StringComparer.Ordinal);
        foreach (var m in metadata ?? [])
        {
            if (!meta.TryAdd(m.Id, m))
            {
                throw new ArgumentException("Duplicate rule id " + m.Id, nameof(metadata));
            }
        }

        return new RuleSet(list, (facts ?? []).ToList(), meta, strata);
    }

    internal static RuleSet FromCompiler(List<Rule> rules, List<Fact> facts, Dictionary<string, RuleMetadata> metadata, Stratification strata) =>
        new(rules, facts, metadata, strata);
}

/// <summary>The kind of a compile error.</summary>
public enum CompileErrorKind
{
    /// <summary>The text does not parse.</summary>
    Syntax,

    /// <summary>A feature name not among the known features.</summary>
    UnknownFeature,

    /// <summary>A variable not bound by a positive body literal where it must be.</summary>
    UnsafeVariable,

    /// <summary>A cycle of predicates through negation or an aggregate.</summary>
    NegationCycle,

    /// <summary>Two rules with the same <c>@rule</c> id.</summary>
    DuplicateRuleId,

    /// <summary>A tag rule without <c>@rule</c>, <c>@en</c> or <c>@zh</c>.</summary>
    MissingText,

    /// <summary>A predicate used with two arities.</summary>
    ArityMismatch,

    /// <summary>A malformed, unknown, repeated or misplaced metadata line.</summary>
    Metadata,
}

/// <summary>A compile error pointing to a line and column (1-based).</summary>
/// <param name="Kind">What went wrong.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Message">A message for the operator.</param>
public sealed record CompileError(CompileErrorKind Kind, int Line, int Column, string Message)
{
    /// <summary><c>line L, column C: message</c>.</summary>
    public override string ToString() => "line " + Line + ", column " + Column + ": " + Message;
}

/// <summary>The result of <see cref="RuleCompiler.Compile"/>: the rule set, or the errors (sorted by position).</summary>
/// <param name="RuleSet">The rule set when there are no errors, else <c>null</c>.</param>
/// <param name="Errors">The errors; empty on success.</param>
public sealed record CompileResult(RuleSet? RuleSet, IReadOnlyList<CompileError> Errors)
{
    /// <summary>Whether the text compiled.</summary>
    public bool Success => RuleSet is not null;
}
