namespace EdgeProfile.Knowledge.Rules;

/// <summary>
/// The predicate dependency graph cut into strata: each strongly connected component is a stratum, in an order where
/// every predicate a rule body uses comes in the same or an earlier stratum, and predicates under <c>not</c> or inside
/// an aggregate come strictly earlier (else the program is refused: a cycle through negation).
/// </summary>
internal sealed class Stratification
{
    private Stratification(List<IReadOnlyList<string>> strata, Dictionary<string, int> stratumOf)
    {
        Strata = strata;
        StratumOf = stratumOf;
    }

    public IReadOnlyList<IReadOnlyList<string>> Strata { get; }

    public IReadOnlyDictionary<string, int> StratumOf { get; }

    /// <summary>The stratum of <paramref name="predicate"/> (predicates only in facts are not in any; -1).</summary>
    public int Of(string predicate) => StratumOf.TryGetValue(predicate, out var s) ? s : -1;

    private sealed record Edge(string To, bool Negative, Rule Rule, int Line, int Column);

    /// <summary>Body predicates of a rule: (predicate, negative-or-aggregated, line, column).</summary>
    internal static IEnumerable<(string Predicate, bool Negative, int Line, int Column)> Dependencies(Rule rule)
    {
        foreach (var literal in rule.Body)
        {
            switch (literal)
            {
                case AtomLiteral a:
                    yield return (a.Atom.Predicate, a.Negated, a.Line, a.Column);
                    break;
                case AggregateLiteral g:
                    foreach (var inner in g.Body.OfType<AtomLiteral>())
                    {
                        yield return (inner.Atom.Predicate, true, inner.Line, inner.Column);
                    }

                    break;
            }
        }
    }

    public static Stratification Compute(IReadOnlyList<Rule> rules, out List<CompileError> errors)
    {
        var edges = new Dictionary<string, List<Edge>>(StringComparer.Ordinal);
        var nodes = new List<string>();
        void Node(string p)
        {
            if (!edges.ContainsKey(p))
            {
                edges[p] = [];
                nodes.Add(p);
            }
        }

        foreach (var rule in rules)
        {
            Node(rule.Head.Predicate);
            foreach (var (p, negative, line, column) in Dependencies(rule))
            {
                Node(p);
                edges[rule.Head.Predicate].Add(new Edge(p, negative, rule, line, column));
            }
        }

        // Tarjan's algorithm, iterative; components come out dependencies first.
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var strata = new List<IReadOnlyList<string>>();
        var stratumOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var counter = 0;
        foreach (var root in nodes)
        {
            if (index.ContainsKey(root))
            {
                continue;
            }

            var work = new Stack<(string Node, int Next)>();
            work.Push((root, 0));
            index[root] = low[root] = counter++;
            stack.Push(root);
            onStack.Add(root);
            while (work.Count > 0)
            {
                var (v, next) = work.Pop();
                var outgoing = edges[v];
                if (next < outgoing.Count)
                {
                    work.Push((v, next + 1));
                    var w = outgoing[next].To;
                    if (!index.TryGetValue(w, out var wIndex))
                    {
                        index[w] = low[w] = counter++;
                        stack.Push(w);
                        onStack.Add(w);
                        work.Push((w, 0));
                    }
                    else if (onStack.Contains(w))
                    {
                        low[v] = Math.Min(low[v], wIndex);
                    }

                    continue;
                }

                if (work.Count > 0)
                {
                    var parent = work.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[v]);
                }

                if (low[v] == index[v])
                {
                    var component = new List<string>();
                    string w;
                    do
                    {
                        w = stack.Pop();
                        onStack.Remove(w);
                        component.Add(w);
                        stratumOf[w] = strata.Count;
                    }
                    while (w != v);

                    component.Sort(StringComparer.Ordinal);
                    strata.Add(component);
                }
            }
        }

        errors = [];
        var reported = new HashSet<int>();
        foreach (var (head, list) in edges)
        {
            foreach (var e in list)
            {
                var s = stratumOf[head];
                if (!e.Negative || stratumOf[e.To] != s || !reported.Add(s))
                {
                    continue;
                }

                var path = PathWithin(edges, stratumOf, e.To, head);
                var cycle = head + " -> not " + string.Join(" -> ", path);
                errors.Add(new CompileError(
                    CompileErrorKind.NegationCycle,
                    e.Line,
                    e.Column,
                    "cycle through negation or aggregation: " + cycle + " (rule " + e.Rule.Id + " at line " + e.Rule.Line
                    + " uses " + e.To + " under not/aggregate while " + e.To + " depends on " + head + ")"));
            }
        }

        return new Stratification(strata, stratumOf);
    }

    private static List<string> PathWithin(Dictionary<string, List<Edge>> edges, Dictionary<string, int> stratumOf, string from, string to)
    {
        var s = stratumOf[from];
        var previous = new Dictionary<string, string?>(StringComparer.Ordinal) { [from] = null };
        var queue = new Queue<string>();
        queue.Enqueue(from);
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            if (v == to && v != from)
            {
                break;
            }

            foreach (var e in edges[v])
            {
                if (stratumOf[e.To] == s && previous.TryAdd(e.To, v))
                {
                    queue.Enqueue(e.To);
                }
            }
        }

        var path = new List<string>();
        if (from == to)
        {
            return [from];
        }

        for (string? v = to; v is not null; v = previous.GetValueOrDefault(v))
        {
            path.Add(v);
        }

        path.Reverse();
        return path;
    }
}
