using System.Collections.Concurrent;

namespace EdgeProfile.Knowledge.Rules;

/// <summary>Evaluation options.</summary>
public sealed record EngineOptions
{
    /// <summary>The defaults: no built-in RDFS rules.</summary>
    public static EngineOptions Default { get; } = new();

    /// <summary>
    /// Switch on the built-in RDFS rules: <c>subClassOf</c> and <c>subPropertyOf</c> transitive
    /// (<c>rdfs:subClassOf-transitive</c>, <c>rdfs:subPropertyOf-transitive</c>), <c>type(X, C), subClassOf(C, D) → type(X, D)</c>
    /// (<c>rdfs:type-inheritance</c>), and for every pair <c>subPropertyOf(p, q)</c> in the transitive closure of the
    /// rule file's and the shared base facts, <c>q(X, Y) :- p(X, Y), subPropertyOf(p, q)</c>
    /// (<c>rdfs:subPropertyOf-inheritance</c>; <c>subPropertyOf</c> facts derived by rules or given per call do not add
    /// inheritance rules).
    /// </summary>
    public bool Rdfs { get; init; }
}

/// <summary>
/// The rule engine. <see cref="Evaluate"/> materialises everything a rule set derives from base facts (stratified,
/// semi-naive, hash-indexed joins, first-derivation provenance); <see cref="Prepare"/> does that once for facts shared by
/// every customer (taxonomy, ...) and returns a <see cref="PreparedRules"/> whose <see cref="PreparedRules.Evaluate"/>
/// adds one customer's facts and re-derives only what depends on them; <see cref="EvaluateNaive"/> is the textbook naive
/// evaluator (a reference for tests).
/// </summary>
public static class Engine
{
    /// <summary>Predicate of the class hierarchy: <c>subClassOf(Sub, Super)</c>.</summary>
    public const string SubClassOf = "subClassOf";

    /// <summary>Predicate of the property hierarchy: <c>subPropertyOf(sub, super)</c> (predicate names as symbols).</summary>
    public const string SubPropertyOf = "subPropertyOf";

    /// <summary>Class membership: <c>type(Instance, Class)</c>.</summary>
    public const string Type = "type";

    /// <summary>Everything <paramref name="ruleSet"/> derives from its own facts and <paramref name="baseFacts"/>.</summary>
    /// <exception cref="InvalidOperationException">The built-in rules make a cycle through negation.</exception>
    public static EvaluationResult Evaluate(RuleSet ruleSet, IEnumerable<Fact> baseFacts, EngineOptions? options = null) =>
        Prepare(ruleSet, baseFacts, options).Shared;

    /// <summary>Plans the rules and materialises <paramref name="sharedFacts"/> once, for per-customer evaluation.</summary>
    /// <exception cref="InvalidOperationException">The built-in rules make a cycle through negation.</exception>
    public static PreparedRules Prepare(RuleSet ruleSet, IEnumerable<Fact>? sharedFacts = null, EngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(ruleSet);
        return new PreparedRules(ruleSet, (sharedFacts ?? []).ToList(), options ?? EngineOptions.Default);
    }

    /// <summary>The same result as <see cref="Evaluate"/> by naive iteration (every rule over all facts until nothing is new).</summary>
    public static EvaluationResult EvaluateNaive(RuleSet ruleSet, IEnumerable<Fact> baseFacts, EngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(ruleSet);
        ArgumentNullException.ThrowIfNull(baseFacts);
        var facts = ruleSet.Facts.Concat(baseFacts).ToList();
        var rules = AllRules(ruleSet, facts, options ?? EngineOptions.Default);
        var strata = Stratify(ruleSet, rules);
        return NaiveEvaluator.Run(ruleSet, rules, strata, facts);
    }

    internal static List<Rule> AllRules(RuleSet ruleSet, IReadOnlyList<Fact> baseFacts, EngineOptions options)
    {
        var rules = new List<Rule>(ruleSet.Rules);
        if (!options.Rdfs)
        {
            return rules;
        }

        Term X = Term.Var("X"), Y = Term.Var("Y"), Z = Term.Var("Z");
        AtomLiteral Pos(string p, params Term[] t) => new(new Atom(p, t), negated: false);
        rules.Add(new Rule("rdfs:subClassOf-transitive", new Atom(SubClassOf, [X, Z]), [Pos(SubClassOf, X, Y), Pos(SubClassOf, Y, Z)]));
        rules.Add(new Rule("rdfs:subPropertyOf-transitive", new Atom(SubPropertyOf, [X, Z]), [Pos(SubPropertyOf, X, Y), Pos(SubPropertyOf, Y, Z)]));
        rules.Add(new Rule("rdfs:type-inheritance", new Atom(Type, [X, Z]), [Pos(Type, X, Y), Pos(SubClassOf, Y, Z)]));

        // Property inheritance: one rule per pair in the closure of the base subPropertyOf facts.
        var pairs = new HashSet<(string, string)>();
        foreach (var f in baseFacts)
        {
            if (f.Predicate == SubPropertyOf && f.Arity == 2 && f.Args[0].Text is { } p && f.Args[1].Text is { } q && p != q)
            {
                pairs.Add((p, q));
            }
        }

        bool grew;
        do
        {
            grew = false;
            foreach (var (a, b) in pairs.ToList())
            {
                foreach (var (c, d) in pairs.ToList())
                {
                    if (b == c && a != d && pairs.Add((a, d)))
                    {
                        grew = true;
                    }
                }
            }
        }
        while (grew);

        foreach (var (p, q) in pairs.OrderBy(x => x.Item1, StringComparer.Ordinal).ThenBy(x => x.Item2, StringComparer.Ordinal))
        {
            rules.Add(new Rule(
                "rdfs:subPropertyOf-inheritance",
                new Atom(q, [X, Y]),
                [Pos(p, X, Y), Pos(SubPropertyOf, Term.Const(Value.Of(p)), Term.Const(Value.Of(q)))]));
        }

        return rules;
    }

    internal static Stratification Stratify(RuleSet ruleSet, List<Rule> rules)
    {
        if (rules.Count == ruleSet.Rules.Count)
        {
            return ruleSet.Stratification;
        }

        var strata = Stratification.Compute(rules, out var errors);
        return errors.Count > 0 ? throw new InvalidOperationException(errors[0].ToString()) : strata;
    }
}

/// <summary>
/// A rule set planned for repeated evaluation, with the shared facts materialised. <see cref="Evaluate"/> layers one
/// customer's facts over the shared materialisation: predicates that depend (through the rules) on a predicate of the
/// given facts are re-derived from scratch in a small overlay, everything else is read from the shared result. Safe to
/// call from several threads at once.
/// </summary>
public sealed class PreparedRules
{
    private readonly List<Rule> rules;
    private readonly Dictionary<(string, int), int> predicateIds = [];
    private readonly List<(string Predicate, int Arity)> predicates = [];
    private readonly List<StratumPlan> strata = [];
    private readonly Dictionary<string, List<string>> dependents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Fact>> sharedBase = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Overlay> overlays = new(StringComparer.Ordinal);
    private readonly Database shared = new();
    private readonly Relation[] sharedRelations;

    internal PreparedRules(RuleSet ruleSet, List<Fact> sharedFacts, EngineOptions options)
    {
        RuleSet = ruleSet;
        var baseFacts = ruleSet.Facts.Concat(sharedFacts).ToList();
        rules = Engine.AllRules(ruleSet, baseFacts, options);
        var stratification = Engine.Stratify(ruleSet, rules);

        foreach (var rule in rules)
        {
            foreach (var (p, _, _, _) in Stratification.Dependencies(rule))
            {
                if (!dependents.TryGetValue(p, out var list))
                {
                    dependents[p] = list = [];
                }

                list.Add(rule.Head.Predicate);
            }
        }

        var byStratum = rules.GroupBy(r => stratification.Of(r.Head.Predicate)).OrderBy(g => g.Key);
        foreach (var group in byStratum)
        {
            var heads = group.Select(r => IdOf(r.Head.Predicate, r.Head.Arity)).Distinct().ToList();
            var names = new HashSet<string>(group.Select(r => r.Head.Predicate), StringComparer.Ordinal);
            var recursive = new HashSet<int>(heads);
            var plans = group.Select(r => Planner.Plan(r, IdOf, recursive)).ToList();
            var isRecursive = plans.Any(p => p.DeltaVariants.Count > 0);
            strata.Add(new StratumPlan(plans, heads, isRecursive, names));
        }

        foreach (var fact in baseFacts)
        {
            if (shared.GetOrAdd(fact.Predicate, fact.Arity).Add(fact))
            {
                if (!sharedBase.TryGetValue(fact.Predicate, out var list))
                {
                    sharedBase[fact.Predicate] = list = [];
                }

                list.Add(fact);
            }
        }

        var relations = predicates.Select(p => shared.GetOrAdd(p.Predicate, p.Arity)).ToArray();
        sharedRelations = relations;
        var executor = new Executor(relations, shared);
        foreach (var stratum in strata)
        {
            executor.EvaluateStratum(stratum.Rules, stratum.Heads, stratum.Recursive);
        }

        // Build every index a plan can ask of a shared relation now, so concurrent per-customer calls only read.
        foreach (var step in strata.SelectMany(s => s.Rules).SelectMany(r => r.AllSteps()))
        {
            if (step.Kind is StepKind.Scan or StepKind.Negate && step.Mask != 0)
            {
                relations[step.PredicateId].Index(step.Mask);
            }
        }

        Shared = new EvaluationResult(shared, ruleSet);
    }

    /// <summary>The rule set.</summary>
    public RuleSet RuleSet { get; }

    /// <summary>Everything derived from the rule file's facts and the shared facts alone.</summary>
    public EvaluationResult Shared { get; }

    /// <summary>
    /// Evaluates the rules over the shared facts plus <paramref name="facts"/> (typically one customer's
    /// <c>feature</c> facts). The result is the same as <see cref="Engine.Evaluate"/> over all those facts together.
    /// </summary>
    public EvaluationResult Evaluate(IEnumerable<Fact> facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var list = facts as IReadOnlyCollection<Fact> ?? facts.ToList();
        var names = new List<string>(4);
        foreach (var fact in list)
        {
            if (!names.Contains(fact.Predicate))
            {
                names.Add(fact.Predicate);
            }
        }

        names.Sort(StringComparer.Ordinal);
        var overlay = overlays.GetOrAdd(names.Count == 1 ? names[0] : string.Join('\u0001', names), _ => ComputeOverlay(names));

        var db = new Database(shared);
        foreach (var name in overlay.Affected)
        {
            foreach (var fact in sharedBase.GetValueOrDefault(name) ?? [])
            {
                db.GetOrAdd(fact.Predicate, fact.Arity).Add(fact);
            }
        }

        var relations = (Relation[])sharedRelations.Clone();
        foreach (var id in overlay.LocalIds)
        {
            relations[id] = db.GetOrAdd(predicates[id].Predicate, predicates[id].Arity);
        }

        foreach (var fact in list)
        {
            db.GetOrAdd(fact.Predicate, fact.Arity).Add(fact);
        }

        var executor = new Executor(relations, db);
        foreach (var stratum in overlay.Strata)
        {
            executor.EvaluateStratum(stratum.Rules, stratum.Heads, stratum.Recursive);
        }

        return new EvaluationResult(db, RuleSet);
    }

    private int IdOf(string predicate, int arity)
    {
        if (!predicateIds.TryGetValue((predicate, arity), out var id))
        {
            id = predicates.Count;
            predicateIds[(predicate, arity)] = id;
            predicates.Add((predicate, arity));
        }

        return id;
    }

    private Overlay ComputeOverlay(IEnumerable<string> inputs)
    {
        var affected = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>();
        foreach (var name in inputs)
        {
            if (affected.Add(name))
            {
                queue.Enqueue(name);
            }
        }

        while (queue.Count > 0)
        {
            foreach (var head in dependents.GetValueOrDefault(queue.Dequeue()) ?? [])
            {
                if (affected.Add(head))
                {
                    queue.Enqueue(head);
                }
            }
        }

        var localIds = Enumerable.Range(0, predicates.Count).Where(i => affected.Contains(predicates[i].Predicate)).ToList();
        var run = strata.Where(s => s.Names.Overlaps(affected)).ToList();
        return new Overlay(affected, localIds, run);
    }

    private sealed record StratumPlan(List<RulePlan> Rules, List<int> Heads, bool Recursive, HashSet<string> Names);

    private sealed record Overlay(HashSet<string> Affected, List<int> LocalIds, List<StratumPlan> Strata);
}
