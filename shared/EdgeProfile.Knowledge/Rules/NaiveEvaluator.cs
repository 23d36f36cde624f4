namespace EdgeProfile.Knowledge.Rules;

/// <summary>
/// Naive bottom-up evaluation, written independently of the planner and executor: per stratum, apply every rule to all
/// facts (nested scans, substitutions as dictionaries) and add what is new, until a round adds nothing.
/// </summary>
internal static class NaiveEvaluator
{
    public static EvaluationResult Run(RuleSet ruleSet, List<Rule> rules, Stratification strata, List<Fact> facts)
    {
        var db = new Database();
        foreach (var fact in facts)
        {
            db.GetOrAdd(fact.Predicate, fact.Arity).Add(fact);
        }

        foreach (var group in rules.GroupBy(r => strata.Of(r.Head.Predicate)).OrderBy(g => g.Key))
        {
            while (true)
            {
                var round = new List<(Fact, Derivation)>();
                var seen = new HashSet<Fact>();
                foreach (var rule in group)
                {
                    foreach (var (binding, premises, absent) in Solve(db, rule.Body, new Dictionary<string, Value>(StringComparer.Ordinal)))
                    {
                        var fact = Fact.Own(rule.Head.Predicate, rule.Head.Terms.Select(t => t.IsVariable ? binding[t.VariableName!] : t.Constant!).ToArray());
                        if (!db.GetOrAdd(fact.Predicate, fact.Arity).Contains(fact) && seen.Add(fact))
                        {
                            round.Add((fact, new Derivation(rule.Id, premises, absent)));
                        }
                    }
                }

                if (round.Count == 0)
                {
                    break;
                }

                foreach (var (fact, derivation) in round)
                {
                    db.GetOrAdd(fact.Predicate, fact.Arity).Add(fact);
                    db.Derivations[fact] = derivation;
                }
            }
        }

        return new EvaluationResult(db, ruleSet);
    }

    /// <summary>All solutions of <paramref name="body"/>: positive atoms first (in order), then aggregates, then the
    /// rest (comparisons, negations) in order.</summary>
    private static IEnumerable<(Dictionary<string, Value> Binding, List<Fact> Premises, List<string> Absent)> Solve(Database db, IReadOnlyList<Literal> body, Dictionary<string, Value> start)
    {
        var ordered = body.Where(l => l is AtomLiteral { Negated: false })
            .Concat(body.OfType<AggregateLiteral>())
            .Concat(body.Where(l => l is ComparisonLiteral or AtomLiteral { Negated: true }))
            .ToList();
        return Step(db, ordered, 0, start, [], []);
    }

    private static IEnumerable<(Dictionary<string, Value>, List<Fact>, List<string>)> Step(Database db, List<Literal> body, int i, Dictionary<string, Value> binding, List<Fact> premises, List<string> absent)
    {
        if (i == body.Count)
        {
            yield return (binding, premises, absent);
            yield break;
        }

        switch (body[i])
        {
            case AtomLiteral { Negated: false } a:
                var relation = db.Find(a.Atom.Predicate, a.Atom.Arity).Relation;
                foreach (var fact in relation?.Facts.ToList() ?? [])
                {
                    var extended = Unify(a.Atom, fact, binding);
                    if (extended is null)
                    {
                        continue;
                    }

                    foreach (var r in Step(db, body, i + 1, extended, [.. premises, fact], absent))
                    {
                        yield return r;
                    }
                }

                break;
            case AtomLiteral n:
                var any = db.Find(n.Atom.Predicate, n.Atom.Arity).Relation?.Facts.Any(f => Unify(n.Atom, f, binding) is not null) == true;
                if (!any)
                {
                    var text = n.Atom.Terms.Count == 0 ? n.Atom.Predicate
                        : n.Atom.Predicate + "(" + string.Join(", ", n.Atom.Terms.Select(t => t.IsVariable ? (binding.TryGetValue(t.VariableName!, out var v) ? v.ToString() : "_") : t.Constant!.ToString())) + ")";
                    foreach (var r in Step(db, body, i + 1, binding, premises, [.. absent, text]))
                    {
                        yield return r;
                    }
                }

                break;
            case ComparisonLiteral c:
                if (Value.Compare(Resolve(c.Left, binding), c.Operator, Resolve(c.Right, binding)))
                {
                    foreach (var r in Step(db, body, i + 1, binding, premises, absent))
                    {
                        yield return r;
                    }
                }

                break;
            case AggregateLiteral g:
                var tuples = new HashSet<Fact>();
                double sum = 0;
                var contributing = new List<Fact>();
                foreach (var (inner, innerPremises, _) in Solve(db, g.Body, binding))
                {
                    var tuple = Fact.Own("#", g.Targets.Select(t => inner[t.VariableName!]).ToArray());
                    if (tuples.Add(tuple) && g.Function == AggregateFunction.Sum && tuple.Args[0].IsNumber)
                    {
                        sum += tuple.Args[0].Number;
                    }

                    contributing.AddRange(innerPremises.Where(p => !contributing.Contains(p)));
                }

                var value = Value.Of(g.Function == AggregateFunction.Count ? tuples.Count : sum);
                Dictionary<string, Value> next;
                if (g.Result.IsVariable && !binding.ContainsKey(g.Result.VariableName!))
                {
                    next = new Dictionary<string, Value>(binding, StringComparer.Ordinal) { [g.Result.VariableName!] = value };
                }
                else if (Resolve(g.Result, binding).Equals(value))
                {
                    next = binding;
                }
                else
                {
                    break;
                }

                foreach (var r in Step(db, body, i + 1, next, [.. premises, .. contributing], absent))
                {
                    yield return r;
                }

                break;
        }
    }

    private static Value Resolve(Term t, Dictionary<string, Value> binding) =>
        t.IsVariable ? binding[t.VariableName!] : t.Constant!;

    private static Dictionary<string, Value>? Unify(Atom atom, Fact fact, Dictionary<string, Value> binding)
    {
        Dictionary<string, Value>? extended = null;
        for (var p = 0; p < atom.Terms.Count; p++)
        {
            var t = atom.Terms[p];
            var v = fact.Args[p];
            if (!t.IsVariable)
            {
                if (!t.Constant!.Equals(v))
                {
                    return null;
                }

                continue;
            }

            var current = extended ?? binding;
            if (current.TryGetValue(t.VariableName!, out var existing))
            {
                if (!existing.Equals(v))
                {
                    return null;
                }

                continue;
            }

            extended ??= new Dictionary<string, Value>(binding, StringComparer.Ordinal);
            extended[t.VariableName!] = v;
        }

        return extended ?? binding;
    }
}
