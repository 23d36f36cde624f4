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
/// over <c>feature(Customer, name, value)</c> facts, each resulting <c>tag(Customer, Tag)</c> with the rule that set it.
/// </summary>
/// <remarks>Thread-safe: evaluation keeps no state between calls.</remarks>
public sealed class TagRuleSet
{
    private readonly PreparedRules prepared;

    private TagRuleSet(RuleSet set)
    {
        prepared = Engine.Prepare(set);
        Rules = [.. set.Metadata.Values
            .OrderBy(m => m.Line)
            .Select(m => new TagRuleInfo(m.Id, m.Version, m.En ?? m.Id, m.Zh ?? m.En ?? m.Id, m.Line,
                string.Join(" ", set.Rules.Where(r => r.Id == m.Id).Select(r => r.ToString())))
            { Confidence = m.Confidence })];
    }

    /// <summary>The set's tag rules, in file order.</summary>
    public IReadOnlyList<TagRuleInfo> Rules { get; }

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
    public IReadOnlyList<FiredTag> Evaluate(string customer, IReadOnlyDictionary<string, double> features)
    {
        ArgumentNullException.ThrowIfNull(customer);
        ArgumentNullException.ThrowIfNull(features);
        var who = Value.Of(customer);
        var facts = features.Select(f => new Fact(RuleCompiler.FeaturePredicate, who, Value.Of(f.Key), Value.Of(f.Value))).ToList();
        var result = prepared.Evaluate(facts);
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
}
