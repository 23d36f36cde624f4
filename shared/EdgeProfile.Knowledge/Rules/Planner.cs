namespace EdgeProfile.Knowledge.Rules;

/// <summary>A term in a plan: a variable slot (<see cref="Slot"/> ≥ 0) or a constant (and its <see cref="Symbols"/> code).</summary>
internal readonly record struct Ref(int Slot, Value? Constant, long Code = 0)
{
    public long Get(long[] slots) => Slot >= 0 ? slots[Slot] : Code;
}

internal enum StepKind
{
    Scan,
    Compare,
    Negate,
    Aggregate,
}

/// <summary>Which facts of a relation a scan reads in semi-naive evaluation.</summary>
internal enum Source
{
    /// <summary>All facts.</summary>
    Full,

    /// <summary>Facts before the current delta.</summary>
    Old,

    /// <summary>The current delta only.</summary>
    Delta,
}

/// <summary>One step of a rule's join plan.</summary>
internal sealed class Step
{
    public StepKind Kind { get; init; }

    /// <summary>Number of the step within its rule's plans (the executor caches per-step state by it).</summary>
    public int Id { get; set; }

    /// <summary>For an aggregate: whether distinct solutions of the inner body always give distinct target tuples
    /// (every argument of every inner scan is a constant, a group variable or a target), so no tuple set is needed.</summary>
    public bool DistinctTuples { get; init; }

    /// <summary>For an aggregate: the scans of the inner body (they contribute premises).</summary>
    public Step[] InnerScans => innerScans ??= [.. Inner.Where(s => s.Kind == StepKind.Scan)];

    private Step[]? innerScans;

    private bool? singleScanAggregate;

    /// <summary>For an aggregate: whether its inner body is one scan followed only by fully bound lookups (of at most 32
    /// arguments) and its tuples are distinct, so one loop can evaluate it.</summary>
    public bool SingleScanAggregate => singleScanAggregate ??=
        DistinctTuples && Inner.Length > 0 && Inner[0].Kind == StepKind.Scan && !Inner[0].FullyBound && Inner[0].KeyRefs.Length <= 32
        && Inner.Skip(1).All(s => s.Kind == StepKind.Scan && s.FullyBound && s.KeyRefs.Length <= 32);

    /// <summary>Index of the body literal this step comes from (premises are listed in this order).</summary>
    public int SourceIndex { get; init; }

    /// <summary>Where this step records what it matched (scans, negations, aggregates).</summary>
    public int MatchIndex { get; init; }

    public int PredicateId { get; init; }

    public Atom? Atom { get; init; }

    public Source Source { get; init; }

    public int Mask { get; init; }

    public bool FullyBound { get; init; }

    public Ref[] KeyRefs { get; init; } = [];

    public Ref[] AllRefs { get; init; } = [];

    public (int Position, int Slot)[] Binds { get; init; } = [];

    public (int Position, int Slot)[] Checks { get; init; } = [];

    /// <summary>Constant arguments of a scan checked per row rather than looked up in its index.</summary>
    public (int Position, long Code)[] ConstantChecks { get; init; } = [];

    public Ref Left { get; init; }

    public Ref Right { get; init; }

    public ComparisonOperator Operator { get; init; }

    public AggregateFunction Function { get; init; }

    public Ref Result { get; init; }

    public bool BindsResult { get; init; }

    public int[] TargetSlots { get; init; } = [];

    public Step[] Inner { get; init; } = [];
}

/// <summary>A rule compiled to join plans: one reading everything, and one per recursive body literal reading the delta there.</summary>
internal sealed class RulePlan
{
    public required Rule Rule { get; init; }

    public required int HeadPredicateId { get; init; }

    public required Ref[] Head { get; init; }

    public required int SlotCount { get; init; }

    public required int MatchCount { get; init; }

    public required Step[] Full { get; init; }

    public required IReadOnlyList<(int DeltaPredicateId, Step[] Steps)> DeltaVariants { get; init; }

    /// <summary>The plan's number in its <see cref="PreparedRules"/> (provenance records name it).</summary>
    public int Index { get; set; }

    /// <summary>Variant 0 is <see cref="Full"/>, variant k + 1 is delta variant k.</summary>
    public Step[][] Variants => variants ??= [Full, .. DeltaVariants.Select(v => v.Steps)];

    /// <summary>Per variant, the steps that contribute premises or absent atoms, in body order.</summary>
    public Step[][] PremiseOrders => premiseOrders ??= [.. Variants.Select(v => v.Where(s => s.MatchIndex >= 0).OrderBy(s => s.SourceIndex).ToArray())];

    /// <summary>The number of steps (every step's <see cref="Step.Id"/> is below it).</summary>
    public int StepCount { get; private set; }

    private Step[][]? variants;
    private Step[][]? premiseOrders;

    /// <summary>Numbers the steps and computes the derived arrays (call once after construction).</summary>
    public RulePlan Seal()
    {
        var id = 0;
        foreach (var s in AllSteps())
        {
            s.Id = id++;
        }

        StepCount = id;
        _ = PremiseOrders;
        return this;
    }

    public IEnumerable<Step> AllSteps() =>
        Full.Concat(DeltaVariants.SelectMany(v => v.Steps)).SelectMany(s => s.Inner.Prepend(s));
}

/// <summary>Compiles rules to join plans: greedy ordering of positive literals by bound arguments (the delta literal
/// first in a delta variant), filters (comparisons, negations) as soon as their variables are bound, aggregates last.</summary>
internal static class Planner
{
    public static RulePlan Plan(Rule rule, Func<string, int, int> predicateId, ISet<int> recursive, Func<Value, long> encode)
    {
        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        int Slot(string name)
        {
            if (!slots.TryGetValue(name, out var s))
            {
                s = slots.Count;
                slots[name] = s;
            }

            return s;
        }

        foreach (var literal in rule.Body)
        {
            foreach (var v in RuleCompiler.VariablesOf(literal))
            {
                Slot(v.VariableName!);
            }
        }

        var matchCount = 0;
        var headId = predicateId(rule.Head.Predicate, rule.Head.Arity);
        var head = rule.Head.Terms.Select(t => Ref(t, slots, rule, encode)).ToArray();

        var recursiveLiterals = new List<int>();
        for (var i = 0; i < rule.Body.Count; i++)
        {
            if (rule.Body[i] is AtomLiteral { Negated: false } a && recursive.Contains(predicateId(a.Atom.Predicate, a.Atom.Arity)))
            {
                recursiveLiterals.Add(i);
            }
        }

        var full = Order(rule, null, slots, predicateId, recursiveLiterals, encode, ref matchCount);
        var variants = new List<(int, Step[])>();
        foreach (var i in recursiveLiterals)
        {
            var atom = ((AtomLiteral)rule.Body[i]).Atom;
            var count = 0;
            variants.Add((predicateId(atom.Predicate, atom.Arity), Order(rule, i, slots, predicateId, recursiveLiterals, encode, ref count)));
            matchCount = Math.Max(matchCount, count);
        }

        return new RulePlan
        {
            Rule = rule,
            HeadPredicateId = headId,
            Head = head,
            SlotCount = slots.Count,
            MatchCount = matchCount,
            Full = full,
            DeltaVariants = variants,
        }.Seal();
    }

    private static Ref Ref(Term t, Dictionary<string, int> slots, Rule rule, Func<Value, long> encode)
    {
        if (!t.IsVariable)
        {
            return new Ref(-1, t.Constant, encode(t.Constant!));
        }

        return slots.TryGetValue(t.VariableName!, out var s)
            ? new Ref(s, null)
            : throw new InvalidOperationException("Unsafe variable " + t + " in rule " + rule.Id + ": " + rule);
    }

    private static Step[] Order(Rule rule, int? delta, Dictionary<string, int> slots, Func<string, int, int> predicateId, List<int> recursive, Func<Value, long> encode, ref int matchCount)
    {
        var bound = new HashSet<string>(StringComparer.Ordinal);
        var steps = new List<Step>();
        var positives = new List<int>();
        var filters = new List<int>();
        var aggregates = new List<int>();
        for (var i = 0; i < rule.Body.Count; i++)
        {
            switch (rule.Body[i])
            {
                case AtomLiteral { Negated: false }:
                    positives.Add(i);
                    break;
                case AggregateLiteral:
                    aggregates.Add(i);
                    break;
                default:
                    filters.Add(i);
                    break;
            }
        }

        var counter = matchCount;
        Source SourceOf(int i)
        {
            if (delta is null || !recursive.Contains(i))
            {
                return Source.Full;
            }

            return i == delta ? Source.Delta : i < delta ? Source.Old : Source.Full;
        }

        void Flush(List<int> pending, IReadOnlyList<Literal> body, HashSet<string> b, List<Step> into)
        {
            for (var k = 0; k < pending.Count; k++)
            {
                var literal = body[pending[k]];
                if (RuleCompiler.VariablesOf(literal).All(v => b.Contains(v.VariableName!) || (v.IsAnonymous && literal is AtomLiteral)))
                {
                    into.Add(FilterStep(literal, pending[k], b, slots, predicateId, rule, encode, ref counter));
                    pending.RemoveAt(k);
                    k--;
                }
            }
        }

        if (delta is { } d)
        {
            positives.Remove(d);
            steps.Add(ScanStep(((AtomLiteral)rule.Body[d]).Atom, d, Source.Delta, bound, slots, predicateId, encode, ref counter));
            Flush(filters, rule.Body, bound, steps);
        }

        Flush(filters, rule.Body, bound, steps);
        while (positives.Count > 0)
        {
            var best = positives.OrderByDescending(i => Score(((AtomLiteral)rule.Body[i]).Atom, bound)).First();
            positives.Remove(best);
            steps.Add(ScanStep(((AtomLiteral)rule.Body[best]).Atom, best, SourceOf(best), bound, slots, predicateId, encode, ref counter));
            Flush(filters, rule.Body, bound, steps);
        }

        foreach (var i in aggregates)
        {
            var g = (AggregateLiteral)rule.Body[i];
            var inner = new List<Step>();
            var innerBound = new HashSet<string>(bound, StringComparer.Ordinal);
            var innerPositives = new List<int>();
            var innerFilters = new List<int>();
            for (var k = 0; k < g.Body.Count; k++)
            {
                (g.Body[k] is AtomLiteral { Negated: false } ? innerPositives : innerFilters).Add(k);
            }

            Flush(innerFilters, g.Body, innerBound, inner);
            while (innerPositives.Count > 0)
            {
                var best = innerPositives.OrderByDescending(k => Score(((AtomLiteral)g.Body[k]).Atom, innerBound)).First();
                innerPositives.Remove(best);
                inner.Add(ScanStep(((AtomLiteral)g.Body[best]).Atom, best, Source.Full, innerBound, slots, predicateId, encode, ref counter));
                Flush(innerFilters, g.Body, innerBound, inner);
            }

            if (innerFilters.Count > 0)
            {
                throw new InvalidOperationException("Unsafe aggregate in rule " + rule.Id + ": " + g);
            }

            var resultBound = !g.Result.IsVariable || bound.Contains(g.Result.VariableName!);
            var determined = new HashSet<string>(bound, StringComparer.Ordinal);
            determined.UnionWith(g.Targets.Select(t => t.VariableName!));
            var distinct = g.Body.OfType<AtomLiteral>().Where(a => !a.Negated)
                .All(a => a.Atom.Terms.All(t => !t.IsVariable || determined.Contains(t.VariableName!)));
            steps.Add(new Step
            {
                Kind = StepKind.Aggregate,
                SourceIndex = i,
                MatchIndex = counter++,
                Function = g.Function,
                Result = Ref(g.Result, slots, rule, encode),
                BindsResult = !resultBound,
                DistinctTuples = distinct,
                TargetSlots = g.Targets.Select(t => slots[t.VariableName!]).ToArray(),
                Inner = [.. inner],
            });
            if (g.Result.IsVariable)
            {
                bound.Add(g.Result.VariableName!);
            }

            Flush(filters, rule.Body, bound, steps);
        }

        if (filters.Count > 0 || rule.Head.Variables().Any(v => !bound.Contains(v.VariableName!)))
        {
            throw new InvalidOperationException("Unsafe rule " + rule.Id + ": " + rule);
        }

        matchCount = counter;
        return [.. steps];
    }

    private static int Score(Atom atom, HashSet<string> bound) =>
        atom.Terms.Count(t => !t.IsVariable || bound.Contains(t.VariableName!)) * 2 - (atom.Terms.Count == 0 ? 0 : 1);

    private static Step ScanStep(Atom atom, int sourceIndex, Source source, HashSet<string> bound, Dictionary<string, int> slots, Func<string, int, int> predicateId, Func<Value, long> encode, ref int counter)
    {
        // Index choice: a fully bound atom is a lookup in the table's row set; with some variables bound, the index is
        // on those positions and constants are checked per row (so one index per relation serves many rules); with
        // only constants bound, the index is on the constants.
        var constants = new List<(int Position, long Code, Value Value)>();
        var variables = new List<(int Position, int Slot)>();
        var binds = new List<(int, int)>();
        var checks = new List<(int, int)>();
        var inAtom = new HashSet<string>(StringComparer.Ordinal);
        for (var p = 0; p < atom.Terms.Count; p++)
        {
            var t = atom.Terms[p];
            if (!t.IsVariable)
            {
                constants.Add((p, encode(t.Constant!), t.Constant!));
            }
            else if (bound.Contains(t.VariableName!))
            {
                variables.Add((p, slots[t.VariableName!]));
            }
            else if (inAtom.Add(t.VariableName!))
            {
                binds.Add((p, slots[t.VariableName!]));
            }
            else
            {
                checks.Add((p, slots[t.VariableName!]));
            }
        }

        bound.UnionWith(inAtom);
        var fullyBound = constants.Count + variables.Count == atom.Terms.Count;
        var keyed = new List<(int Position, Ref Ref)>();
        var constantChecks = new List<(int, long)>();
        foreach (var v in variables)
        {
            keyed.Add((v.Position, new Ref(v.Slot, null)));
        }

        foreach (var c in constants)
        {
            if (fullyBound || variables.Count == 0)
            {
                keyed.Add((c.Position, new Ref(-1, c.Value, c.Code)));
            }
            else
            {
                constantChecks.Add((c.Position, c.Code));
            }
        }

        keyed.Sort((a, b) => a.Position.CompareTo(b.Position));
        var mask = 0;
        foreach (var k in keyed)
        {
            mask |= 1 << k.Position;
        }

        return new Step
        {
            Kind = StepKind.Scan,
            SourceIndex = sourceIndex,
            MatchIndex = counter++,
            PredicateId = predicateId(atom.Predicate, atom.Arity),
            Atom = atom,
            Source = source,
            Mask = mask,
            FullyBound = fullyBound && atom.Terms.Count > 0,
            KeyRefs = [.. keyed.Select(k => k.Ref)],
            Binds = [.. binds],
            Checks = [.. checks],
            ConstantChecks = [.. constantChecks],
        };
    }

    private static Step FilterStep(Literal literal, int sourceIndex, HashSet<string> bound, Dictionary<string, int> slots, Func<string, int, int> predicateId, Rule rule, Func<Value, long> encode, ref int counter)
    {
        if (literal is ComparisonLiteral c)
        {
            return new Step
            {
                Kind = StepKind.Compare,
                SourceIndex = sourceIndex,
                MatchIndex = -1,
                Left = Ref(c.Left, slots, rule, encode),
                Right = Ref(c.Right, slots, rule, encode),
                Operator = c.Operator,
            };
        }

        var atom = ((AtomLiteral)literal).Atom;
        var keys = new List<Ref>();
        var all = new List<Ref>();
        var mask = 0;
        for (var p = 0; p < atom.Terms.Count; p++)
        {
            var t = atom.Terms[p];
            if (t.IsVariable && !bound.Contains(t.VariableName!))
            {
                all.Add(new Ref(-1, null));
                continue;
            }

            var r = Ref(t, slots, rule, encode);
            mask |= 1 << p;
            keys.Add(r);
            all.Add(r);
        }

        return new Step
        {
            Kind = StepKind.Negate,
            SourceIndex = sourceIndex,
            MatchIndex = counter++,
            PredicateId = predicateId(atom.Predicate, atom.Arity),
            Atom = atom,
            Mask = mask,
            FullyBound = keys.Count == atom.Terms.Count,
            KeyRefs = [.. keys],
            AllRefs = [.. all],
        };
    }
}
