namespace EdgeProfile.Core.Identity;

/// <summary>
/// An in-memory identity graph under an <see cref="IdentityPolicy"/>: union-find over identifiers with the kind counts
/// of each profile kept at its root, so each link costs near-constant time. A profile is named by its root identifier.
/// Used to resolve large link sets offline (a CRM import, the benchmark) with exactly the hub's rules. Not thread-safe.
/// </summary>
public sealed class IdentityGraph : IIdentityView
{
    private readonly IdentityPolicy _policy;
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];
    private readonly List<int> _parent = [];
    private readonly List<int> _size = [];
    private readonly Dictionary<int, Dictionary<string, int>> _counts = [];
    private readonly HashSet<(string, string)> _separations = [];

    /// <summary>An empty graph.</summary>
    public IdentityGraph(IdentityPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _policy = policy;
    }

    /// <summary>Identifiers in some profile.</summary>
    public int KeyCount => _keys.Count;

    /// <summary>Profiles (connected components).</summary>
    public int ProfileCount { get; private set; }

    /// <summary>Keys kept out so far because of a limit or a split.</summary>
    public long LimitRejections { get; private set; }

    /// <summary>Keys kept out so far because they are blocked.</summary>
    public long BlockedRejections { get; private set; }

    /// <summary>Applies identifiers seen together; returns the plan that was carried out.</summary>
    public IdentityPlan Link(IReadOnlyList<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (AlreadyOneProfile(keys) is { } known)
        {
            // Seen before, all in one profile (most links in a busy store): exactly what the planner would decide.
            return new IdentityPlan([known], [], []);
        }

        var plan = IdentityPlanner.Plan(keys, this, _policy);
        var root = -1;
        foreach (var profile in plan.Profiles)
        {
            var r = Find(_index[profile]);
            root = root < 0 ? r : Union(root, r);
        }

        foreach (var key in plan.NewKeys)
        {
            var node = Add(key);
            root = root < 0 ? node : Union(root, node);
        }

        foreach (var r in plan.Rejected)
        {
            if (r.Blocked)
            {
                BlockedRejections++;
                continue;
            }

            LimitRejections++;
            if (!_index.ContainsKey(r.Key))
            {
                // Kept out of this profile, but still somebody: a profile of its own.
                Add(r.Key);
            }
        }

        return plan;
    }

    /// <summary>Keeps the profiles of <paramref name="keyA"/> and <paramref name="keyB"/> apart from now on.</summary>
    public void Separate(string keyA, string keyB)
    {
        ArgumentNullException.ThrowIfNull(keyA);
        ArgumentNullException.ThrowIfNull(keyB);
        _separations.Add((keyA, keyB));
        _separations.Add((keyB, keyA));
    }

    /// <inheritdoc />
    public string? ProfileOf(string key) => _index.TryGetValue(key, out var i) ? _keys[Find(i)] : null;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, int> KindCounts(string profileId) => _counts[Find(_index[profileId])];

    /// <inheritdoc />
    public bool Separated(string profileA, string profileB)
    {
        if (_separations.Count == 0)
        {
            return false;
        }

        var a = Find(_index[profileA]);
        var b = Find(_index[profileB]);
        foreach (var (x, y) in _separations)
        {
            if (_index.TryGetValue(x, out var ix) && _index.TryGetValue(y, out var iy) && Find(ix) == a && Find(iy) == b)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The identifiers of every profile, by profile name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Profiles()
    {
        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < _keys.Count; i++)
        {
            var root = _keys[Find(i)];
            if (!groups.TryGetValue(root, out var list))
            {
                groups[root] = list = [];
            }

            list.Add(_keys[i]);
        }

        return groups.ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Value, StringComparer.Ordinal);
    }

    /// <summary>The profile name when every key is known and in the same profile (none blocked: blocked keys are never added).</summary>
    private string? AlreadyOneProfile(IReadOnlyList<string> keys)
    {
        var root = -1;
        foreach (var key in keys)
        {
            if (!_index.TryGetValue(key, out var i))
            {
                return null;
            }

            var r = Find(i);
            if (root >= 0 && r != root)
            {
                return null;
            }

            root = r;
        }

        return root < 0 ? null : _keys[root];
    }

    private int Add(string key)
    {
        var i = _keys.Count;
        _index[key] = i;
        _keys.Add(key);
        _parent.Add(i);
        _size.Add(1);
        _counts[i] = new Dictionary<string, int>(StringComparer.Ordinal) { [IdentityPolicy.KindOf(key)] = 1 };
        ProfileCount++;
        return i;
    }

    private int Find(int i)
    {
        var root = i;
        while (_parent[root] != root)
        {
            root = _parent[root];
        }

        while (_parent[i] != root)
        {
            var next = _parent[i];
            _parent[i] = root;
            i = next;
        }

        return root;
    }

    private int Union(int a, int b)
    {
        a = Find(a);
        b = Find(b);
        if (a == b)
        {
            return a;
        }

        if (_size[a] < _size[b])
        {
            (a, b) = (b, a);
        }

        _parent[b] = a;
        _size[a] += _size[b];
        var into = _counts[a];
        foreach (var (kind, n) in _counts[b])
        {
            into[kind] = into.GetValueOrDefault(kind) + n;
        }

        _counts.Remove(b);
        ProfileCount--;
        return a;
    }
}
