namespace EdgeProfile.Knowledge.Rules;

/// <summary>A lookup key over some argument positions of a fact (one value without an array, else an array).</summary>
internal readonly struct Key : IEquatable<Key>
{
    private readonly Value? single;
    private readonly Value[]? many;
    private readonly int hash;

    public Key(Value single)
    {
        this.single = single;
        many = null;
        hash = single.GetHashCode();
    }

    public Key(Value[] many)
    {
        single = null;
        this.many = many;
        var h = new HashCode();
        foreach (var v in many)
        {
            h.Add(v.GetHashCode());
        }

        hash = h.ToHashCode();
    }

    public static Key Of(Value[] args, int[] positions)
    {
        if (positions.Length == 1)
        {
            return new Key(args[positions[0]]);
        }

        var values = new Value[positions.Length];
        for (var i = 0; i < positions.Length; i++)
        {
            values[i] = args[positions[i]];
        }

        return new Key(values);
    }

    public bool Equals(Key other)
    {
        if (hash != other.hash)
        {
            return false;
        }

        if (single is not null)
        {
            return single.Equals(other.single);
        }

        if (many is null || other.many is null || many.Length != other.many.Length)
        {
            return many is null && other.many is null && other.single is null;
        }

        for (var i = 0; i < many.Length; i++)
        {
            if (!many[i].Equals(other.many[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is Key k && Equals(k);

    public override int GetHashCode() => hash;
}

/// <summary>
/// The facts of one predicate and arity, in insertion order (a fact's position is its sequence number, which
/// semi-naive evaluation uses to tell old facts from the delta), with hash indexes on bound argument positions,
/// built on first use and kept up to date on insert.
/// </summary>
internal sealed class Relation
{
    private readonly HashSet<Fact> set = [];
    private readonly Dictionary<int, (int[] Positions, Dictionary<Key, List<int>> Map)> indexes = [];
    private readonly Lock gate = new();

    public Relation(string predicate, int arity)
    {
        Predicate = predicate;
        Arity = arity;
    }

    public string Predicate { get; }

    public int Arity { get; }

    public List<Fact> Facts { get; } = [];

    public int Count => Facts.Count;

    /// <summary>Facts at positions [DeltaStart, Count) are the current delta.</summary>
    public int DeltaStart { get; set; }

    public bool Contains(Fact fact) => set.Contains(fact);

    public bool Add(Fact fact)
    {
        if (!set.Add(fact))
        {
            return false;
        }

        var position = Facts.Count;
        Facts.Add(fact);
        foreach (var (positions, map) in indexes.Values)
        {
            Insert(map, positions, fact, position);
        }

        return true;
    }

    /// <summary>The index on the positions in <paramref name="mask"/> (built on first use; thread-safe to build).</summary>
    public Dictionary<Key, List<int>> Index(int mask)
    {
        lock (gate)
        {
            if (indexes.TryGetValue(mask, out var existing))
            {
                return existing.Map;
            }

            var positions = Positions(mask);
            var index = new Dictionary<Key, List<int>>();
            for (var i = 0; i < Facts.Count; i++)
            {
                Insert(index, positions, Facts[i], i);
            }

            indexes[mask] = (positions, index);
            return index;
        }
    }

    public static int[] Positions(int mask)
    {
        var list = new List<int>();
        for (var i = 0; i < 31; i++)
        {
            if ((mask & (1 << i)) != 0)
            {
                list.Add(i);
            }
        }

        return [.. list];
    }

    private static void Insert(Dictionary<Key, List<int>> index, int[] positions, Fact fact, int position)
    {
        var key = Key.Of(fact.Args, positions);
        if (!index.TryGetValue(key, out var list))
        {
            list = [];
            index[key] = list;
        }

        list.Add(position);
    }
}

/// <summary>
/// Relations by predicate and arity, with the first derivation of each derived fact. A database may sit on a parent
/// (the shared materialisation): a relation it holds itself shadows the parent's; others are read from the parent.
/// </summary>
internal sealed class Database
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
