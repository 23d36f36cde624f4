using System.Text;

namespace EdgeProfile.Knowledge.Rules;

/// <summary>
/// The first derivation of a derived fact: the rule (its id, or a built-in name such as
/// <c>rdfs:type-inheritance</c>), the facts its positive literals and aggregates matched (in body order), and the
/// negated atoms that held because nothing matched them (as text, <c>_</c> for "any value").
/// </summary>
/// <param name="RuleId">The rule id or built-in name.</param>
/// <param name="Premises">The facts the body matched, in body order (an aggregate contributes every fact it counted).</param>
/// <param name="Absent">The negated atoms, ground as checked (<c>married(bob)</c>).</param>
public sealed record Derivation(string RuleId, IReadOnlyList<Fact> Premises, IReadOnlyList<string> Absent);

/// <summary>A derivation tree: a fact, how it was first derived (none for a base fact), and the trees of its premises.</summary>
/// <param name="Fact">The fact.</param>
/// <param name="Derivation">Its first derivation, or <c>null</c> for a base fact (a leaf).</param>
/// <param name="Children">The premises' trees, in body order.</param>
public sealed record DerivationTree(Fact Fact, Derivation? Derivation, IReadOnlyList<DerivationTree> Children)
{
    /// <summary>Whether the fact is a base fact (given, not derived).</summary>
    public bool IsBase => Derivation is null;

    /// <summary>The depth of the tree (1 for a base fact).</summary>
    public int Depth => 1 + (Children.Count == 0 ? 0 : Children.Max(c => c.Depth));

    /// <summary>
    /// The tree as indented text, two spaces per level: a derived fact as <c>fact  [rule ID]</c>, a base fact as
    /// <c>fact  [fact]</c>, a negated atom that held as <c>not atom  [absent]</c>; lines end with <c>\n</c>.
    /// </summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        Write(sb, 0);
        return sb.ToString();
    }

    /// <inheritdoc cref="ToText"/>
    public override string ToString() => ToText();

    private void Write(StringBuilder sb, int depth)
    {
        sb.Append(' ', depth * 2).Append(Fact.ToString());
        sb.Append(Derivation is null ? "  [fact]" : "  [rule " + Derivation.RuleId + "]").Append('\n');
        foreach (var child in Children)
        {
            child.Write(sb, depth + 1);
        }

        foreach (var absent in Derivation?.Absent ?? [])
        {
            sb.Append(' ', (depth + 1) * 2).Append("not ").Append(absent).Append("  [absent]\n");
        }
    }
}

/// <summary>A tag a rule set: the customer, the tag, the rule that set it and that rule's metadata (reason texts).</summary>
/// <param name="Customer">The customer (first argument of <c>tag</c>).</param>
/// <param name="Tag">The tag (second argument).</param>
/// <param name="RuleId">The rule that first derived it, or <c>null</c> when the tag was a base fact.</param>
/// <param name="Rule">That rule's metadata (id, version, en/zh text), when it has any.</param>
public sealed record DerivedTag(Value Customer, Value Tag, string? RuleId, RuleMetadata? Rule)
{
    /// <summary>The reason to show for <paramref name="language"/> (<c>zh-CN</c> or <c>en</c>): the rule's own text.</summary>
    public string Reason(string? language) => Rule?.Text(language) ?? RuleId ?? "given";
}

/// <summary>
/// What evaluation derived: every fact (base and derived) with the first derivation of each derived fact.
/// </summary>
public sealed class EvaluationResult
{
    private readonly IFactStore db;
    private readonly RuleSet ruleSet;

    internal EvaluationResult(IFactStore db, RuleSet ruleSet)
    {
        this.db = db;
        this.ruleSet = ruleSet;
    }

    /// <summary>The number of facts (base and derived).</summary>
    public int Count => db.Count;

    /// <summary>The facts of <paramref name="predicate"/> (any arity), in the order they were added.</summary>
    public IReadOnlyList<Fact> Facts(string predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return [.. db.Facts(predicate)];
    }

    /// <summary>Every fact, relation by relation.</summary>
    public IEnumerable<Fact> AllFacts() => db.AllFacts();

    /// <summary>Whether <paramref name="fact"/> holds (given or derived).</summary>
    public bool Contains(Fact fact)
    {
        ArgumentNullException.ThrowIfNull(fact);
        return db.Contains(fact);
    }

    /// <summary>The first derivation of <paramref name="fact"/>; <c>null</c> when it is a base fact or does not hold.</summary>
    public Derivation? DerivationOf(Fact fact)
    {
        ArgumentNullException.ThrowIfNull(fact);
        return db.DerivationOf(fact);
    }

    /// <summary>Why <paramref name="fact"/> holds: its derivation tree down to base facts; <c>null</c> when it does not hold.</summary>
    public DerivationTree? Why(Fact fact)
    {
        ArgumentNullException.ThrowIfNull(fact);
        if (!Contains(fact))
        {
            return null;
        }

        var derivation = DerivationOf(fact);
        if (derivation is null)
        {
            return new DerivationTree(fact, null, []);
        }

        return new DerivationTree(fact, derivation, [.. derivation.Premises.Select(p => Why(p)!)]);
    }

    /// <summary>The same as <see cref="Why"/>: the derivation tree of <paramref name="fact"/>, or <c>null</c>.</summary>
    public DerivationTree? Explain(Fact fact) => Why(fact);

    /// <summary>The <c>tag(Customer, Tag)</c> facts (of <paramref name="customer"/> when given) with the rule that set each.</summary>
    public IReadOnlyList<DerivedTag> Tags(string? customer = null)
    {
        var result = new List<DerivedTag>();
        var who = customer is null ? null : Value.Of(customer);
        foreach (var fact in Facts(RuleCompiler.TagPredicate))
        {
            if (fact.Arity != 2 || (who is not null && !fact.Args[0].Equals(who)))
            {
                continue;
            }

            var ruleId = DerivationOf(fact)?.RuleId;
            result.Add(new DerivedTag(fact.Args[0], fact.Args[1], ruleId, ruleId is null ? null : ruleSet.MetadataFor(ruleId)));
        }

        return result;
    }
}
