using System.Text;

namespace EdgeProfile.Knowledge.Rules;

/// <summary>What an <see cref="EvaluationResult"/> reads: the visible facts and the first derivation of derived ones.</summary>
internal interface IFactStore
{
    int Count { get; }

    IEnumerable<Fact> Facts(string predicate);

    IEnumerable<Fact> AllFacts();

    bool Contains(Fact fact);

    Derivation? DerivationOf(Fact fact);
}

/// <summary>
/// Encoded tables by predicate and arity (the engine's database). A store may sit on a parent (the shared
/// materialisation): a table it holds itself shadows the parent's; others are read from the parent. Facts and
/// derivations are decoded to <see cref="Fact"/>s and <see cref="Derivation"/>s only when asked.
/// </summary>
internal sealed class Store : IFactStore
{
    private readonly Dictionary<(string, int), Table> tables = [];
    private readonly List<Table> order = [];
    private readonly Dictionary<string, List<Table>> byName = new(StringComparer.Ordinal);

    public Store(Symbols symbols, IReadOnlyList<RulePlan> plans, Store? parent = null)
    {
        Symbols = symbols;
        Plans = plans;
        Parent = parent;
    }

    public Store? Parent { get; }

    public Symbols Symbols { get; }

    /// <summary>The plans, by <see cref="RulePlan.Index"/> (provenance records name them).</summary>
    public IReadOnlyList<RulePlan> Plans { get; }

    /// <summary>The tables the executor read, by predicate id (provenance records name premises by predicate id and row).</summary>
    public Table[] ById { get; set; } = [];

    public int Count => Visible().Sum(t => t.Count);

    public Table GetOrAdd(string predicate, int arity, int capacity = 16)
    {
        if (!tables.TryGetValue((predicate, arity), out var t))
        {
            t = new Table(predicate, arity, capacity);
            tables[(predicate, arity)] = t;
            order.Add(t);
            if (!byName.TryGetValue(predicate, out var named))
            {
                byName[predicate] = named = [];
            }

            named.Add(t);
        }

        return t;
    }

    public IEnumerable<Table> Local => order;

    /// <summary>The visible table for (predicate, arity) and the store that owns it.</summary>
    public (Table? Table, Store? Owner) Find(string predicate, int arity)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s.tables.TryGetValue((predicate, arity), out var t))
            {
                return (t, s);
            }
        }

        return (null, null);
    }

    /// <summary>The visible tables named <paramref name="predicate"/> (any arity).</summary>
    public IEnumerable<Table> Visible(string predicate)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            foreach (var t in s.byName.GetValueOrDefault(predicate) ?? [])
            {
                if (ReferenceEquals(Find(t.Predicate, t.Arity).Table, t))
                {
                    yield return t;
                }
            }
        }
    }

    /// <summary>Every visible table (own first, then the parent's not shadowed).</summary>
    public IEnumerable<Table> Visible()
    {
        var seen = new HashSet<(string, int)>();
        for (var s = this; s is not null; s = s.Parent)
        {
            foreach (var t in s.order)
            {
                if (seen.Add((t.Predicate, t.Arity)))
                {
                    yield return t;
                }
            }
        }
    }

    public IEnumerable<Fact> Facts(string predicate) => Visible(predicate).SelectMany(Rows);

    public IEnumerable<Fact> AllFacts() => Visible().SelectMany(Rows);

    public bool Contains(Fact fact) => Locate(fact).Row >= 0;

    public Derivation? DerivationOf(Fact fact)
    {
        var (table, owner, row) = Locate(fact);
        return row < 0 ? null : owner!.Derive(table!, row);
    }

    /// <summary>Fact <paramref name="row"/> of <paramref name="table"/>.</summary>
    public Fact Decode(Table table, int row)
    {
        var values = new Value[table.Arity];
        var span = table.Row(row);
        for (var k = 0; k < values.Length; k++)
        {
            values[k] = Symbols.Decode(span[k]);
        }

        return Fact.Own(table.Predicate, values);
    }

    private IEnumerable<Fact> Rows(Table table)
    {
        for (var row = 0; row < table.Count; row++)
        {
            yield return Decode(table, row);
        }
    }

    private (Table? Table, Store? Owner, int Row) Locate(Fact fact)
    {
        var (table, owner) = Find(fact.Predicate, fact.Arity);
        if (table is null)
        {
            return (null, null, -1);
        }

        var codes = new long[fact.Arity];
        for (var k = 0; k < codes.Length; k++)
        {
            if (!Symbols.TryEncode(fact.Args[k], out codes[k]))
            {
                return (null, null, -1);
            }
        }

        return (table, owner, table.Find(codes));
    }

    /// <summary>The first derivation of row <paramref name="row"/> of <paramref name="table"/> (owned here), or null for a base row.</summary>
    private Derivation? Derive(Table table, int row)
    {
        var record = table.Provenance(row);
        if (record.IsEmpty)
        {
            return null;
        }

        var plan = Plans[(int)(record[0] >> 20)];
        var steps = plan.PremiseOrders[(int)(record[0] & 0xFFFFF)];
        var premises = new List<Fact>();
        var absent = new List<string>();
        var at = 1;
        foreach (var s in steps)
        {
            switch (s.Kind)
            {
                case StepKind.Scan:
                    premises.Add(Premise(record[at++]));
                    break;
                case StepKind.Negate:
                    absent.Add(Ground(s, record, ref at));
                    break;
                case StepKind.Aggregate:
                    var n = (int)record[at++];
                    for (var k = 0; k < n; k++)
                    {
                        premises.Add(Premise(record[at++]));
                    }

                    break;
            }
        }

        return new Derivation(plan.Rule.Id, premises, absent);
    }

    private Fact Premise(long reference) => Decode(ById[(int)(reference >> 32)], (int)(reference & 0xFFFF_FFFF));

    private string Ground(Step step, ReadOnlySpan<long> record, ref int at)
    {
        if (step.AllRefs.Length == 0)
        {
            return step.Atom!.Predicate;
        }

        var sb = new StringBuilder(step.Atom!.Predicate).Append('(');
        for (var k = 0; k < step.AllRefs.Length; k++)
        {
            var r = step.AllRefs[k];
            sb.Append(k == 0 ? "" : ", ");
            if (r.Slot < 0 && r.Constant is null)
            {
                sb.Append('_');
            }
            else
            {
                sb.Append(Symbols.Decode(record[at++]).ToString());
            }
        }

        return sb.Append(')').ToString();
    }
}
