using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

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
        return new PreparedRules(ruleSet, sharedFacts as IReadOnlyList<Fact> ?? (sharedFacts ?? []).ToList(), options ?? EngineOptions.Default);
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

    internal static List<Rule> AllRules(RuleSet ruleSet, IEnumerable<Fact> baseFacts, EngineOptions options)
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
    private readonly List<RulePlan> plans = [];
    private readonly Dictionary<string, List<string>> dependents = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Overlay> overlays = new(StringComparer.Ordinal);
    private static long touched;
    private readonly Symbols symbols = new();
    private readonly Store shared;
    private readonly Table[] sharedTables;

    internal PreparedRules(RuleSet ruleSet, IReadOnlyList<Fact> sharedFacts, EngineOptions options)
    {
        RuleSet = ruleSet;
        var baseFacts = ruleSet.Facts.Concat(sharedFacts);
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
            var stratumPlans = group.Select(r => Planner.Plan(r, IdOf, recursive, symbols.Encode)).ToList();
            foreach (var plan in stratumPlans)
            {
                plan.Index = plans.Count;
                plans.Add(plan);
            }

            var isRecursive = stratumPlans.Any(p => p.DeltaVariants.Count > 0);
            strata.Add(new StratumPlan(stratumPlans, heads, isRecursive, names));
        }

        shared = new Store(symbols, plans);
        Load(shared, ruleSet.Facts);
        Load(shared, sharedFacts);
        foreach (var table in shared.Local)
        {
            table.Commit();
        }

        var tables = predicates.Select(p => shared.GetOrAdd(p.Predicate, p.Arity)).ToArray();
        sharedTables = tables;
        shared.ById = tables;
        var executor = new Executor(tables, symbols);
        foreach (var stratum in strata)
        {
            executor.EvaluateStratum(stratum.Rules, stratum.Heads, stratum.Recursive);
        }

        // Build every index a plan can ask of a shared table now, so concurrent per-customer calls only read.
        foreach (var step in strata.SelectMany(s => s.Rules).SelectMany(r => r.AllSteps()))
        {
            if (step.Kind is StepKind.Scan or StepKind.Negate && step.Mask != 0 && !step.FullyBound)
            {
                tables[step.PredicateId].Index(step.Mask);
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

        var local = new Symbols(symbols);
        var db = new Store(local, plans, shared);
        foreach (var name in overlay.Affected)
        {
            foreach (var source in shared.Local.Where(t => t.Predicate == name).ToList())
            {
                var copy = db.GetOrAdd(source.Predicate, source.Arity);
                for (var row = 0; row < source.Count; row++)
                {
                    if (source.IsBase(row))
                    {
                        copy.Add(source.Row(row));
                    }
                }
            }
        }

        var tables = (Table[])sharedTables.Clone();
        foreach (var id in overlay.LocalIds)
        {
            tables[id] = db.GetOrAdd(predicates[id].Predicate, predicates[id].Arity);
        }

        Load(db, list);
        foreach (var table in db.Local)
        {
            table.Commit();
        }

        db.ById = tables;
        var executor = new Executor(tables, local);
        foreach (var stratum in overlay.Strata)
        {
            executor.EvaluateStratum(stratum.Rules, stratum.Heads, stratum.Recursive);
        }

        return new EvaluationResult(db, RuleSet);
    }

    /// <summary>Adds <paramref name="facts"/> to the tables of <paramref name="store"/> (encoding their values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Load(Store store, IEnumerable<Fact> facts)
    {
        if (facts is IReadOnlyList<Fact> { Count: > 4096 } list)
        {
            // Size the tables once: count the facts per predicate (runs of one predicate are counted together).
            var counts = new Dictionary<(string, int), int>();
            for (var i = 0; i < list.Count;)
            {
                var first = list[i];
                var j = i + 1;
                while (j < list.Count && ReferenceEquals(list[j].Predicate, first.Predicate) && list[j].Arity == first.Arity)
                {
                    j++;
                }

                counts[(first.Predicate, first.Arity)] = counts.GetValueOrDefault((first.Predicate, first.Arity)) + j - i;
                i = j;
            }

            foreach (var ((predicate, arity), n) in counts)
            {
                store.GetOrAdd(predicate, arity).Reserve(n);
            }
        }

        // Rows go in batches of one table: hash a batch, read its home slots (overlapping the cache misses), then add.
        const int Batch = 64;
        Table? table = null;
        var rows = new long[Batch * 4];
        Span<int> hashes = stackalloc int[Batch];
        var count = 0;
        var codes = store.Symbols;
        foreach (var fact in facts)
        {
            if (table is null || !ReferenceEquals(fact.Predicate, table.Predicate) || fact.Arity != table.Arity || count == Batch)
            {
                Flush(table, rows, hashes, count);
                count = 0;
                if (table is null || !ReferenceEquals(fact.Predicate, table.Predicate) || fact.Arity != table.Arity)
                {
                    table = store.GetOrAdd(fact.Predicate, fact.Arity);
                    if (rows.Length < Batch * fact.Arity)
                    {
                        rows = new long[Batch * fact.Arity];
                    }
                }
            }

            var args = fact.Args;
            var offset = count * args.Length;
            for (var k = 0; k < args.Length; k++)
            {
                rows[offset + k] = codes.Encode(args[k]);
            }

            count++;
        }

        Flush(table, rows, hashes, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Flush(Table? table, long[] rows, Span<int> hashes, int count)
    {
        if (table is null || count == 0)
        {
            return;
        }

        var arity = table.Arity;
        for (var i = 0; i < count; i++)
        {
            hashes[i] = RowHash.Of(rows.AsSpan(i * arity, arity));
        }

        touched += table.Touch(hashes[..count]);
        for (var i = 0; i < count; i++)
        {
            table.Add(rows.AsSpan(i * arity, arity), hashes[i]);
        }
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
