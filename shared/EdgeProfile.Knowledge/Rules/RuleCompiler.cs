using System.Globalization;

namespace EdgeProfile.Knowledge.Rules;

/// <summary>
/// Compiles an operator rule file (format: see <see cref="RuleParser"/>) into a <see cref="RuleSet"/>, refusing it with
/// errors that point to a line and column: syntax; unknown feature names (the constant second argument of
/// <c>feature/3</c> when <c>knownFeatures</c> is given); unsafe variables (in the head, under <c>not</c>, in a
/// comparison or shared with an aggregate, without a positive body literal binding them); a predicate used with two
/// arities; cycles through negation or aggregation (naming the predicates on the cycle and the rule's line);
/// duplicate <c>@rule</c> ids; tag rules without <c>@rule</c>, <c>@en</c> or <c>@zh</c>; malformed metadata.
/// </summary>
public static class RuleCompiler
{
    /// <summary>The predicate tag rules derive: <c>tag(Customer, Tag)</c>.</summary>
    public const string TagPredicate = "tag";

    /// <summary>The predicate online features enter as: <c>feature(Customer, name, Value)</c>.</summary>
    public const string FeaturePredicate = "feature";

    /// <summary>Compiles <paramref name="text"/>. <paramref name="knownFeatures"/> (optional) lists the feature names
    /// rules may refer to.</summary>
    public static CompileResult Compile(string text, ISet<string>? knownFeatures = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parsed = RuleParser.Parse(text);
        var errors = new List<CompileError>(parsed.Errors);
        var rules = new List<Rule>();
        var facts = new List<Fact>();
        var metadata = new Dictionary<string, RuleMetadata>(StringComparer.Ordinal);
        var arities = new Dictionary<string, (int Arity, int Line)>(StringComparer.Ordinal);

        foreach (var clause in parsed.Clauses)
        {
            foreach (var atom in AtomsOf(clause))
            {
                CheckArity(atom, arities, errors);
                CheckFeature(atom, knownFeatures, errors);
            }

            if (clause.Body is null)
            {
                foreach (var d in clause.Directives)
                {
                    errors.Add(new CompileError(CompileErrorKind.Metadata, d.Line, d.Column, "@" + d.Name + " must precede a rule, not a fact"));
                }

                var variable = clause.Head.Terms.FirstOrDefault(t => t.IsVariable);
                if (variable is not null)
                {
                    errors.Add(new CompileError(CompileErrorKind.UnsafeVariable, variable.Line, variable.Column, "unsafe variable " + variable + " in fact " + clause.Head + ": a fact must be ground"));
                    continue;
                }

                facts.Add(Fact.Own(clause.Head.Predicate, clause.Head.Terms.Select(t => t.Constant!).ToArray()));
                continue;
            }

            var meta = ReadMetadata(clause, errors);
            var isTag = clause.Head.Predicate == TagPredicate && clause.Head.Arity == 2;
            var id = meta.Id ?? "rule@" + clause.Line.ToString(CultureInfo.InvariantCulture);
            if (isTag)
            {
                foreach (var (missing, what) in new[] { (meta.Id is null, "@rule id"), (meta.En is null, "@en text"), (meta.Zh is null, "@zh text") })
                {
                    if (missing)
                    {
                        errors.Add(new CompileError(CompileErrorKind.MissingText, clause.Line, clause.Column, "tag rule " + id + " has no " + what + " (tag rules need @rule, @en and @zh before them)"));
                    }
                }
            }

            if (meta.Id is not null)
            {
                var tag = isTag && clause.Head.Terms[1].Constant is { Text: not null } c ? c.Text : null;
                var m = new RuleMetadata(meta.Id, meta.Version, meta.En, meta.Zh, clause.Line, tag) { Confidence = meta.Confidence };
                if (!metadata.TryAdd(meta.Id, m))
                {
                    errors.Add(new CompileError(CompileErrorKind.DuplicateRuleId, meta.IdLine, meta.IdColumn, "duplicate rule id " + meta.Id + " (first used by the rule at line " + metadata[meta.Id].Line + ")"));
                }
            }

            var rule = new Rule(id, clause.Head, clause.Body, clause.Line, clause.Column);
            CheckSafety(rule, errors);
            rules.Add(rule);
        }

        var strata = Stratification.Compute(rules, out var cycleErrors);
        errors.AddRange(cycleErrors);
        if (errors.Count > 0)
        {
            return new CompileResult(null, [.. errors.OrderBy(e => e.Line).ThenBy(e => e.Column)]);
        }

        return new CompileResult(RuleSet.FromCompiler(rules, facts, metadata, strata), []);
    }

    private sealed record Meta(string? Id, int IdLine, int IdColumn, int Version, string? En, string? Zh, double? Confidence);

    private static Meta ReadMetadata(ParsedClause clause, List<CompileError> errors)
    {
        string? id = null, en = null, zh = null;
        int idLine = 0, idColumn = 0, version = 1;
        double? confidence = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in clause.Directives)
        {
            if (!seen.Add(d.Name))
            {
                errors.Add(new CompileError(CompileErrorKind.Metadata, d.Line, d.Column, "@" + d.Name + " is given twice for the rule at line " + clause.Line));
                continue;
            }

            switch (d.Name)
            {
                case "rule":
                    id = d.Value;
                    (idLine, idColumn) = (d.Line, d.Column);
                    break;
                case "version":
                    if (!d.IsNumber || !int.TryParse(d.Value, NumberStyles.None, CultureInfo.InvariantCulture, out version) || version < 0)
                    {
                        errors.Add(new CompileError(CompileErrorKind.Metadata, d.ValueLine, d.ValueColumn, "@version must be a non-negative integer, not " + d.Value));
                        version = 1;
                    }

                    break;
                case "confidence":
                    if (d.IsNumber && double.TryParse(d.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var c) && c > 0 && c <= 1)
                    {
                        confidence = c;
                    }
                    else
                    {
                        errors.Add(new CompileError(CompileErrorKind.Metadata, d.ValueLine, d.ValueColumn, "@confidence must be a number in (0, 1], not " + d.Value));
                    }

                    break;
                case "en":
                    en = d.Value;
                    break;
                case "zh":
                    zh = d.Value;
                    break;
                default:
                    errors.Add(new CompileError(CompileErrorKind.Metadata, d.Line, d.Column, "unknown metadata @" + d.Name + " (use @rule, @version, @confidence, @en, @zh)"));
                    break;
            }
        }

        return new Meta(id, idLine, idColumn, version, en, zh, confidence);
    }

    private static IEnumerable<Atom> AtomsOf(ParsedClause clause)
    {
        yield return clause.Head;
        foreach (var literal in clause.Body ?? [])
        {
            if (literal is AtomLiteral a)
            {
                yield return a.Atom;
            }
            else if (literal is AggregateLiteral g)
            {
                foreach (var inner in g.Body.OfType<AtomLiteral>())
                {
                    yield return inner.Atom;
                }
            }
        }
    }

    private static void CheckArity(Atom atom, Dictionary<string, (int Arity, int Line)> arities, List<CompileError> errors)
    {
        if (!arities.TryGetValue(atom.Predicate, out var first))
        {
            arities[atom.Predicate] = (atom.Arity, atom.Line);
        }
        else if (first.Arity != atom.Arity)
        {
            errors.Add(new CompileError(CompileErrorKind.ArityMismatch, atom.Line, atom.Column, "predicate " + atom.Predicate + " has " + atom.Arity + " arguments here but " + first.Arity + " at line " + first.Line));
        }

        if (atom.Arity > 30)
        {
            errors.Add(new CompileError(CompileErrorKind.ArityMismatch, atom.Line, atom.Column, "predicate " + atom.Predicate + " has more than 30 arguments"));
        }
    }

    private static void CheckFeature(Atom atom, ISet<string>? known, List<CompileError> errors)
    {
        if (known is null || atom.Predicate != FeaturePredicate || atom.Arity != 3)
        {
            return;
        }

        var name = atom.Terms[1];
        if (name.Constant is { } c && (c.Text is null || !known.Contains(c.Text)))
        {
            errors.Add(new CompileError(CompileErrorKind.UnknownFeature, name.Line, name.Column, "unknown feature " + c + " (not among the " + known.Count + " known features)"));
        }
    }

    private static void CheckSafety(Rule rule, List<CompileError> errors)
    {
        var reported = new HashSet<string>(StringComparer.Ordinal);
        void Unsafe(Term v, string why)
        {
            if (reported.Add(v.VariableName!))
            {
                errors.Add(new CompileError(CompileErrorKind.UnsafeVariable, v.Line, v.Column, "unsafe variable " + v + " in rule " + rule.Id + ": " + why));
            }
        }

        var bound = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in rule.Body.OfType<AtomLiteral>().Where(a => !a.Negated))
        {
            foreach (var v in a.Atom.Variables())
            {
                bound.Add(v.VariableName!);
            }
        }

        var results = new HashSet<string>(StringComparer.Ordinal);
        var aggregates = rule.Body.OfType<AggregateLiteral>().ToList();
        foreach (var g in aggregates)
        {
            var outside = new HashSet<string>(StringComparer.Ordinal);
            foreach (var v in rule.Head.Variables())
            {
                outside.Add(v.VariableName!);
            }

            foreach (var other in rule.Body.Where(l => !ReferenceEquals(l, g)))
            {
                foreach (var v in VariablesOf(other))
                {
                    outside.Add(v.VariableName!);
                }
            }

            var innerPositive = new HashSet<string>(bound, StringComparer.Ordinal);
            foreach (var a in g.Body.OfType<AtomLiteral>().Where(a => !a.Negated))
            {
                foreach (var v in a.Atom.Variables())
                {
                    innerPositive.Add(v.VariableName!);
                    if (outside.Contains(v.VariableName!) && !bound.Contains(v.VariableName!))
                    {
                        Unsafe(v, "it is shared by the aggregate and the rest of the rule but no positive literal outside the aggregate binds it");
                    }
                }
            }

            foreach (var inner in g.Body)
            {
                if (inner is AtomLiteral { Negated: false })
                {
                    continue;
                }

                foreach (var v in VariablesOf(inner))
                {
                    if (!innerPositive.Contains(v.VariableName!) && !(v.IsAnonymous && inner is AtomLiteral))
                    {
                        Unsafe(v, "no positive literal binds it before it is used under not or in a comparison inside the aggregate");
                    }
                }
            }

            foreach (var v in g.Targets)
            {
                if (!innerPositive.Contains(v.VariableName!))
                {
                    Unsafe(v, "the aggregate counts or sums it but no positive literal binds it");
                }
            }

            if (g.Result.IsVariable)
            {
                if (g.Body.SelectMany(VariablesOf).Any(v => v.VariableName == g.Result.VariableName) || g.Targets.Any(v => v.VariableName == g.Result.VariableName))
                {
                    Unsafe(g.Result, "the aggregate's result variable also occurs inside the aggregate");
                }

                results.Add(g.Result.VariableName!);
            }
        }

        bound.UnionWith(results);
        foreach (var v in rule.Head.Variables())
        {
            if (!bound.Contains(v.VariableName!) || v.IsAnonymous)
            {
                Unsafe(v, "it appears in the head but no positive body literal binds it");
            }
        }

        foreach (var literal in rule.Body)
        {
            switch (literal)
            {
                case AtomLiteral { Negated: true } n:
                    foreach (var v in n.Atom.Variables().Where(v => !v.IsAnonymous && !bound.Contains(v.VariableName!)))
                    {
                        Unsafe(v, "it appears under not but no positive body literal binds it (use _ for \"any value\")");
                    }

                    break;
                case ComparisonLiteral c:
                    foreach (var v in new[] { c.Left, c.Right }.Where(v => v.IsVariable && (v.IsAnonymous || !bound.Contains(v.VariableName!))))
                    {
                        Unsafe(v, "it appears in a comparison but no positive body literal binds it");
                    }

                    break;
            }
        }
    }

    internal static IEnumerable<Term> VariablesOf(Literal literal) => literal switch
    {
        AtomLiteral a => a.Atom.Variables(),
        ComparisonLiteral c => new[] { c.Left, c.Right }.Where(t => t.IsVariable),
        AggregateLiteral g => new[] { g.Result }.Where(t => t.IsVariable).Concat(g.Targets).Concat(g.Body.SelectMany(VariablesOf)),
        _ => [],
    };
}
