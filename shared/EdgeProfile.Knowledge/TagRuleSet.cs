using System.Globalization;
using EdgeProfile.Knowledge.Rules;

namespace EdgeProfile.Knowledge;

/// <summary>An error in a rule file, at its 1-based line and column.</summary>
public sealed record TagRuleError(int Line, int Column, string Message)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"line {Line}, column {Column}: {Message}");
}

/// <summary>One tag rule of a set: id, version, its description in English and Chinese, its line, and its source.</summary>
public sealed record TagRuleInfo(string Id, int Version, string En, string Zh, int Line, string Source)
{
    /// <summary>The rule's confidence (<c>@confidence</c>, in (0, 1]), or <c>null</c> when the rule gives none.</summary>
    public double? Confidence { get; init; }
}

/// <summary>A tag a rule set: the tag, the rule that set it (id, version, description) and the facts it rested on.</summary>
public sealed record FiredTag(string Tag, string RuleId, int RuleVersion, string En, string Zh, IReadOnlyList<string> Premises)
{
    /// <summary>The setting rule's confidence (<c>@confidence</c>, in (0, 1]), or <c>null</c> when the rule gives none.</summary>
    public double? Confidence { get; init; }
}

/// <summary>
/// The operators' tag rules as the hub and the edges use them: a rule file (<see cref="RuleCompiler"/>'s format, see
/// <c>Rules/README.md</c>) compiled and validated against the features a store computes, then evaluated per customer
/// over <c>feature(Customer, name, value)</c> facts (and whatever other facts the caller adds: an edge adds
/// <c>top</c>/<c>text</c> facts of its ranked and text features), each resulting <c>tag(Customer, Tag)</c> with the rule
/// that set it.
/// </summary>
/// <remarks>Thread-safe: evaluation keeps no state between calls.</remarks>
public sealed class TagRuleSet
{
    private readonly PreparedRules prepared;

    /// <summary>Predicate an edge states a customer's ranked features with: <c>top(Customer, feature, value, share)</c>.</summary>
    public const string TopPredicate = "top";

    /// <summary>Predicate an edge states a customer's text features with: <c>text(Customer, feature, value)</c>.</summary>
    public const string TextPredicate = "text";

    private TagRuleSet(RuleSet set)
    {
        prepared = Engine.Prepare(set);
        var defined = new HashSet<string>(set.Rules.Select(r => r.Head.Predicate).Concat(set.Facts.Select(f => f.Predicate)), StringComparer.Ordinal)
        {
            RuleCompiler.FeaturePredicate, RuleCompiler.TagPredicate, TopPredicate, TextPredicate,
        };
        var atoms = set.Rules.SelectMany(r => Atoms(r.Body)).ToList();
        ReadsPredicates = new HashSet<string>(atoms.Select(a => a.Predicate), StringComparer.Ordinal);
        var featureNames = atoms.Where(a => a.Predicate == RuleCompiler.FeaturePredicate && a.Arity == 3).Select(a => a.Terms[1].Constant).ToList();
        ReadsFeatures = featureNames.All(c => c is { IsNumber: false })
            ? new HashSet<string>(featureNames.Select(c => c!.Text!), StringComparer.Ordinal)
            : null;
        ExternalPredicates = [.. set.Rules
            .SelectMany(r => Atoms(r.Body))
            .Where(a => !defined.Contains(a.Predicate))
            .Select(a => (a.Predicate, a.Arity))
            .Distinct()
            .OrderBy(p => p.Predicate, StringComparer.Ordinal)];
        Rules = [.. set.Metadata.Values
            .OrderBy(m => m.Line)
            .Select(m => new TagRuleInfo(m.Id, m.Version, m.En ?? m.Id, m.Zh ?? m.En ?? m.Id, m.Line,
                string.Join(" ", set.Rules.Where(r => r.Id == m.Id).Select(r => r.ToString())))
            { Confidence = m.Confidence })];
    }

    /// <summary>The set's tag rules, in file order.</summary>
    public IReadOnlyList<TagRuleInfo> Rules { get; }

    /// <summary>
    /// The feature names the rules read (the constant names of their <c>feature(C, name, value)</c> atoms), or null when
    /// a rule reads features by a variable name (then every feature matters). A caller may pass only these.
    /// </summary>
    public IReadOnlySet<string>? ReadsFeatures { get; }

    /// <summary>Every predicate a rule body reads (e.g. whether <c>top</c> or <c>text</c> facts matter at all).</summary>
    public IReadOnlySet<string> ReadsPredicates { get; }

    /// <summary>
    /// Predicates (name, arity) the rules read that neither a rule nor a fact of the file defines, and that are not the
    /// customer's own facts (<c>feature</c>, <c>top</c>, <c>text</c>): the knowledge the hub supplies from its graph
    /// when it publishes (e.g. <c>needs(Category, Thing)</c>). Without facts they are simply false.
    /// </summary>
    public IReadOnlyList<(string Predicate, int Arity)> ExternalPredicates { get; }

    /// <summary>
    /// Compiles <paramref name="text"/>; with <paramref name="knownFeatures"/>, every feature a rule reads must be one of
    /// them. Null with every error (line, column, message) when it does not compile.
    /// </summary>
    public static TagRuleSet? Compile(string text, IReadOnlySet<string>? knownFeatures, out IReadOnlyList<TagRuleError> errors)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = RuleCompiler.Compile(text, knownFeatures is null ? null : new HashSet<string>(knownFeatures, StringComparer.Ordinal));
        errors = [.. result.Errors.Select(e => new TagRuleError(e.Line, e.Column, e.Message))];
        return result.RuleSet is { } set && errors.Count == 0 ? new TagRuleSet(set) : null;
    }

    /// <summary>The errors of <paramref name="text"/> (empty when it compiles).</summary>
    public static IReadOnlyList<TagRuleError> Validate(string text, IReadOnlySet<string>? knownFeatures)
    {
        Compile(text, knownFeatures, out var errors);
        return errors;
    }

    /// <summary>The tags the rules set for <paramref name="customer"/> with these feature values.</summary>
    public IReadOnlyList<FiredTag> Evaluate(string customer, IReadOnlyDictionary<string, double> features) => Evaluate(customer, features, null);

    /// <summary>
    /// The tags the rules set for <paramref name="customer"/> with these feature values and <paramref name="facts"/>
    /// about the customer (e.g. <c>top(customer, category_affinity_30d, "Baby &amp; Toddler", 0.6)</c>).
    /// </summary>
    public IReadOnlyList<FiredTag> Evaluate(string customer, IReadOnlyDictionary<string, double> features, IEnumerable<Fact>? facts)
    {
        ArgumentNullException.ThrowIfNull(customer);
        ArgumentNullException.ThrowIfNull(features);
        var who = Value.Of(customer);
        var all = features.Select(f => new Fact(RuleCompiler.FeaturePredicate, who, Value.Of(f.Key), Value.Of(f.Value))).ToList();
        if (facts is not null)
        {
            all.AddRange(facts);
        }

        var result = prepared.Evaluate(all);
        var fired = new List<FiredTag>();
        foreach (var tag in result.Tags(customer))
        {
            if (tag.RuleId is not { } id || tag.Rule is not { } rule)
            {
                continue;
            }

            var premises = result.DerivationOf(new Fact(RuleCompiler.TagPredicate, tag.Customer, tag.Tag))?.Premises.Select(p => p.ToString()).ToList() ?? [];
            fired.Add(new FiredTag(tag.Tag.Text ?? tag.Tag.ToString(), id, rule.Version, rule.En ?? id, rule.Zh ?? rule.En ?? id, premises)
            {
                Confidence = rule.Confidence,
            });
        }

        return fired;
    }

    private static IEnumerable<Atom> Atoms(IEnumerable<Literal> body)
    {
        foreach (var literal in body)
        {
            if (literal is AtomLiteral atom)
            {
                yield return atom.Atom;
            }
            else if (literal is AggregateLiteral aggregate)
            {
                foreach (var inner in Atoms(aggregate.Body))
                {
                    yield return inner;
                }
            }
        }
    }
}
