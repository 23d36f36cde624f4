namespace EdgeProfile.Knowledge.Rules;

/// <summary>The facts of one predicate and arity as <see cref="Fact"/> objects, in insertion order (the naive reference
/// evaluator's storage).</summary>
internal sealed class Relation
{
    private readonly HashSet<Fact> set = [];

    public Relation(string predicate, int arity)
    {
        Predicate = predicate;
        Arity = arity;
    }

    public string Predicate { get; }

    public int Arity { get; }

    public List<Fact> Facts { get; } = [];

    public int Count => Facts.Count;

    public bool Contains(Fact fact) => set.Contains(fact);

    public bool Add(Fact fact)
    {
        if (!set.Add(fact))
        {
            return false;
        }

        Facts.Add(fact);
        return true;
    }
}

/// <summary>
/// Relations of <see cref="Fact"/> objects by predicate and arity, with the first derivation of each derived fact (the
/// naive reference evaluator's storage; the engine itself uses <see cref="Store"/>). A database may sit on a parent
/// (the shared materialisation): a relation it holds itself shadows the parent's; others are read from the parent.
/// </summary>
internal sealed class Database : IFactStore
{
    private readonly Dictionary<(string, int), Relation> relations = [];
    private readonly List<Relation> order = [];
    private readonly Dictionary<string, List<Relation>> byName = new(StringComparer.Ordinal);

    public Database(Database? parent = null) => Parent = parent;

    public Database? Parent { get; }

    public Dictionary<Fact, Derivation> Derivations { get; } = [];

    public Relation GetOrAdd(string predicate, int arity)
    {
        if (!relations.TryGetValue((predicate, arity), out var r))
        {
            r = new Relation(predicate, arity);
            relations[(predicate, arity)] = r;
            order.Add(r);
            if (!byName.TryGetValue(predicate, out var named))
            {
                byName[predicate] = named = [];
            }

            named.Add(r);
        }

        return r;
    }

    public bool HasLocal(string predicate, int arity) => relations.ContainsKey((predicate, arity));

    /// <summary>The visible relation for (predicate, arity) and the database that owns it.</summary>
    public (Relation? Relation, Database? Owner) Find(string predicate, int arity)
    {
        for (var db = this; db is not null; db = db.Parent)
        {
            if (db.relations.TryGetValue((predicate, arity), out var r))
            {
                return (r, db);
            }
        }

        return (null, null);
    }

    /// <summary>The visible relations named <paramref name="predicate"/> (any arity).</summary>
    public IEnumerable<Relation> Visible(string predicate)
    {
        for (var db = this; db is not null; db = db.Parent)
        {
            foreach (var r in db.byName.GetValueOrDefault(predicate) ?? [])
            {
                if (ReferenceEquals(Find(r.Predicate, r.Arity).Relation, r))
                {
                    yield return r;
                }
            }
        }
    }

    /// <inheritdoc />
    public int Count => Visible().Sum(r => r.Count);

    /// <inheritdoc />
    public IEnumerable<Fact> Facts(string predicate) => Visible(predicate).SelectMany(r => r.Facts);

    /// <inheritdoc />
    public IEnumerable<Fact> AllFacts() => Visible().SelectMany(r => r.Facts);

    /// <inheritdoc />
    public bool Contains(Fact fact) => Find(fact.Predicate, fact.Arity).Relation?.Contains(fact) == true;

    /// <inheritdoc />
    public Derivation? DerivationOf(Fact fact)
    {
        var (relation, owner) = Find(fact.Predicate, fact.Arity);
        return relation is not null && relation.Contains(fact) ? owner!.Derivations.GetValueOrDefault(fact) : null;
    }

    /// <summary>Every visible relation (own first, then the parent's not shadowed).</summary>
    public IEnumerable<Relation> Visible()
    {
        var seen = new HashSet<(string, int)>();
        for (var db = this; db is not null; db = db.Parent)
        {
            foreach (var r in db.order)
            {
                if (seen.Add((r.Predicate, r.Arity)))
                {
                    yield return r;
                }
            }
        }
    }
}
