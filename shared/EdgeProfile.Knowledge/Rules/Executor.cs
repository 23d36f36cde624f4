using System.Text;

namespace EdgeProfile.Knowledge.Rules;

/// <summary>
/// Runs join plans over relations (one <see cref="Relation"/> per predicate id) and collects new head facts with their
/// first derivation into a pending buffer; <see cref="EvaluateStratum"/> is semi-naive forward chaining to a fixpoint.
/// </summary>
internal sealed class Executor
{
    private readonly Relation[] relations;
    private readonly Database database;
    private readonly List<(Fact Fact, Derivation Derivation, Relation Relation)> pending = [];
    private readonly HashSet<Fact> pendingSet = [];

    private RulePlan plan = null!;
    private Step[] steps = [];
    private Value[] slots = [];
    private Fact?[] matched = [];
    private List<Fact>?[] aggregatePremises = [];
    private string?[] absent = [];

    // Current aggregate (aggregates do not nest).
    private Step aggregate = null!;
    private HashSet<Fact> aggregateTuples = [];
    private HashSet<Fact> aggregateSeen = [];
    private List<Fact> aggregateFacts = [];
    private double aggregateSum;

    public Executor(Relation[] relations, Database database)
    {
        this.relations = relations;
        this.database = database;
    }

    public void EvaluateStratum(IReadOnlyList<RulePlan> rules, IReadOnlyList<int> headPredicateIds, bool recursive)
    {
        foreach (var rule in rules)
        {
            Run(rule, rule.Full);
        }

        while (pending.Count > 0)
        {
            foreach (var id in headPredicateIds)
            {
                relations[id].DeltaStart = relations[id].Count;
            }

            foreach (var (fact, derivation, relation) in pending)
            {
                relation.Add(fact);
                database.Derivations[fact] = derivation;
            }

            pending.Clear();
            pendingSet.Clear();
            if (!recursive)
            {
                break;
            }

            foreach (var rule in rules)
            {
                foreach (var (deltaId, variant) in rule.DeltaVariants)
                {
                    var r = relations[deltaId];
                    if (r.DeltaStart < r.Count)
                    {
                        Run(rule, variant);
                    }
                }
            }
        }
    }

    private void Run(RulePlan rule, Step[] variant)
    {
        plan = rule;
        steps = variant;
        if (slots.Length < rule.SlotCount)
        {
            slots = new Value[rule.SlotCount];
        }

        if (matched.Length < rule.MatchCount)
        {
            matched = new Fact?[rule.MatchCount];
            aggregatePremises = new List<Fact>?[rule.MatchCount];
            absent = new string?[rule.MatchCount];
        }

        Exec(variant, 0, inner: false);
    }

    private void Exec(Step[] list, int i, bool inner)
    {
        if (i == list.Length)
        {
            if (inner)
            {
                Collect();
            }
            else
            {
                Emit();
            }

            return;
        }

        var step = list[i];
        switch (step.Kind)
        {
            case StepKind.Scan:
                Scan(list, i, step, inner);
                break;
            case StepKind.Compare:
                if (Value.Compare(step.Left.Get(slots), step.Operator, step.Right.Get(slots)))
                {
                    Exec(list, i + 1, inner);
                }

                break;
            case StepKind.Negate:
                if (!Holds(step))
                {
                    absent[step.MatchIndex] = Ground(step);
                    Exec(list, i + 1, inner);
                }

                break;
            default:
                RunAggregate(list, i, step);
                break;
        }
    }

    private void Scan(Step[] list, int i, Step step, bool inner)
    {
        var relation = relations[step.PredicateId];
        var facts = relation.Facts;
        int start = 0, end = relation.Count;
        if (step.Source == Source.Old)
        {
            end = relation.DeltaStart;
        }
        else if (step.Source == Source.Delta)
        {
            start = relation.DeltaStart;
        }

        if (step.Mask == 0)
        {
            for (var p = start; p < end; p++)
            {
                TryMatch(list, i, step, facts[p], inner);
            }

            return;
        }

        if (!relation.Index(step.Mask).TryGetValue(KeyOf(step.KeyRefs), out var positions))
        {
            return;
        }

        foreach (var p in positions)
        {
            if (p >= end)
            {
                break;
            }

            if (p >= start)
            {
                TryMatch(list, i, step, facts[p], inner);
            }
        }
    }

    private void TryMatch(Step[] list, int i, Step step, Fact fact, bool inner)
    {
        var args = fact.Args;
        foreach (var (position, slot) in step.Binds)
        {
            slots[slot] = args[position];
        }

        foreach (var (position, slot) in step.Checks)
        {
            if (!args[position].Equals(slots[slot]))
            {
                return;
            }
        }

        matched[step.MatchIndex] = fact;
        Exec(list, i + 1, inner);
    }

    private Key KeyOf(Ref[] refs)
    {
        if (refs.Length == 1)
        {
            return new Key(refs[0].Get(slots));
        }

        var values = new Value[refs.Length];
        for (var k = 0; k < refs.Length; k++)
        {
            values[k] = refs[k].Get(slots);
        }

        return new Key(values);
    }

    private bool Holds(Step step)
    {
        var relation = relations[step.PredicateId];
        if (step.FullyBound)
        {
            var args = new Value[step.KeyRefs.Length];
            for (var k = 0; k < args.Length; k++)
            {
                args[k] = step.KeyRefs[k].Get(slots);
            }

            return relation.Contains(Fact.Own(step.Atom!.Predicate, args));
        }

        return step.Mask == 0 ? relation.Count > 0 : relation.Index(step.Mask).ContainsKey(KeyOf(step.KeyRefs));
    }

    private string Ground(Step step)
    {
        if (step.AllRefs.Length == 0)
        {
            return step.Atom!.Predicate;
        }

        var sb = new StringBuilder(step.Atom!.Predicate).Append('(');
        for (var k = 0; k < step.AllRefs.Length; k++)
        {
            var r = step.AllRefs[k];
            sb.Append(k == 0 ? "" : ", ").Append(r.Slot < 0 && r.Constant is null ? "_" : r.Get(slots).ToString());
        }

        return sb.Append(')').ToString();
    }

    private void RunAggregate(Step[] list, int i, Step step)
    {
        aggregate = step;
        aggregateTuples = [];
        aggregateSeen = [];
        aggregateFacts = [];
        aggregateSum = 0;
        Exec(step.Inner, 0, inner: true);
        var value = Value.Of(step.Function == AggregateFunction.Count ? aggregateTuples.Count : aggregateSum);
        aggregatePremises[step.MatchIndex] = aggregateFacts;
        if (step.BindsResult)
        {
            slots[step.Result.Slot] = value;
        }
        else if (!step.Result.Get(slots).Equals(value))
        {
            return;
        }

        Exec(list, i + 1, inner: false);
    }

    private void Collect()
    {
        var targets = aggregate.TargetSlots;
        var tuple = new Value[targets.Length];
        for (var k = 0; k < targets.Length; k++)
        {
            tuple[k] = slots[targets[k]];
        }

        if (aggregateTuples.Add(Fact.Own("#", tuple)) && aggregate.Function == AggregateFunction.Sum && tuple[0].IsNumber)
        {
            aggregateSum += tuple[0].Number;
        }

        foreach (var s in aggregate.Inner)
        {
            if (s.Kind == StepKind.Scan && aggregateSeen.Add(matched[s.MatchIndex]!))
            {
                aggregateFacts.Add(matched[s.MatchIndex]!);
            }
        }
    }

    private void Emit()
    {
        var head = plan.Head;
        var values = new Value[head.Length];
        for (var k = 0; k < head.Length; k++)
        {
            values[k] = head[k].Get(slots);
        }

        var fact = Fact.Own(plan.Rule.Head.Predicate, values);
        var relation = relations[plan.HeadPredicateId];
        if (relation.Contains(fact) || !pendingSet.Add(fact))
        {
            return;
        }

        var premises = new List<Fact>();
        var absentAtoms = new List<string>();
        foreach (var s in plan.PremiseOrder(steps))
        {
            switch (s.Kind)
            {
                case StepKind.Scan:
                    premises.Add(matched[s.MatchIndex]!);
                    break;
                case StepKind.Negate:
                    absentAtoms.Add(absent[s.MatchIndex]!);
                    break;
                case StepKind.Aggregate:
                    premises.AddRange(aggregatePremises[s.MatchIndex]!);
                    break;
            }
        }

        pending.Add((fact, new Derivation(plan.Rule.Id, premises, absentAtoms), relation));
    }
}
