namespace EdgeProfile.Knowledge.Graph;

/// <summary>
/// Evaluates <see cref="GraphQuery"/> over a <see cref="TripleStore"/>: constants are dictionary-encoded once, the
/// patterns are ordered greedily by estimated selectivity (a capped index count for the constant positions, scaled
/// down for each position bound by an earlier pattern, cross products last), then joined by index-nested loops over
/// integer ids; filters run as soon as their variables are bound; path patterns are breadth-first searches
/// (memoised per start node within one query). Terms are decoded only for filters and result rows.
/// </summary>
public sealed class QueryEngine
{
    private const long CountCap = 1_000;
    private readonly TripleStore _store;

    /// <summary>An engine over a store.</summary>
    /// <param name="store">The store.</param>
    public QueryEngine(TripleStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <summary>Parses and runs a query in the Cypher subset (see <see cref="CypherParser"/>).</summary>
    /// <param name="cypher">The query text.</param>
    /// <returns>The result.</returns>
    /// <exception cref="GraphQuerySyntaxException">The text is not in the subset.</exception>
    public QueryResult Execute(string cypher) => Execute(CypherParser.Parse(cypher));

    /// <summary>Runs a query.</summary>
    /// <param name="query">The query.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentException">A filter or projection uses a variable no pattern binds, or a path is negative/inverted.</exception>
    public QueryResult Execute(GraphQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var run = new Run(_store, query);
        return run.Execute();
    }

    private sealed class Run
    {
        private readonly TripleStore _store;
        private readonly GraphQuery _query;
        private readonly Dictionary<string, int> _vars = new(StringComparer.Ordinal);
        private readonly List<Step> _plan = [];
        private readonly List<Projection> _projections = [];
        private readonly HashSet<RowKey> _seen = [];
        private readonly List<Term?[]> _rows = [];
        private readonly Dictionary<(int Step, long Node), Reach> _reach = [];
        private readonly List<IdTriple> _buffer = [];
        private long[] _binding = [];
        private bool _empty;

        public Run(TripleStore store, GraphQuery query)
        {
            _store = store;
            _query = query;
        }

        public QueryResult Execute()
        {
            var patterns = _query.Patterns.Select(Compile).ToList();
            if (_query.Projections.Count == 0)
            {
                _projections.AddRange(_vars.Keys.Order(StringComparer.Ordinal).Select(v => new Projection(v, QueryTerm.Var(v))));
            }
            else
            {
                _projections.AddRange(_query.Projections);
            }

            foreach (var p in _projections)
            {
                RequireBound(p.Source, "projection " + p.Column);
            }

            var filters = new List<(Filter Filter, HashSet<int> Vars)>();
            foreach (var f in _query.Filters)
            {
                RequireBound(f.Left, "filter");
                RequireBound(f.Right, "filter");
                filters.Add((f, [.. new[] { f.Left, f.Right }.Where(t => t.IsVariable).Select(t => _vars[t.Variable!])]));
            }

            var columns = _projections.Select(p => p.Column).ToList();
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < columns.Count; i++)
            {
                if (!index.TryAdd(columns[i], i))
                {
                    throw new ArgumentException($"Column '{columns[i]}' appears twice.");
                }
            }

            if (!_empty)
            {
                Plan(patterns, filters);
                _binding = new long[_vars.Count];
                if (filters.All(f => f.Vars.Count > 0 || Filter.Evaluate(f.Filter.Left.Constant!, f.Filter.Operator, f.Filter.Right.Constant!)))
                {
                    Solve(0);
                }
            }

            _rows.Sort(CompareRows);
            var limited = _query.Limit is { } limit ? _rows.Take(Math.Max(0, limit)) : _rows;
            return new QueryResult(columns, [.. limited.Select(r => new QueryRow(index, r))]);
        }

        private static int CompareRows(Term?[] a, Term?[] b)
        {
            for (var i = 0; i < a.Length; i++)
            {
                var c = a[i] is null ? (b[i] is null ? 0 : -1) : a[i]!.CompareTo(b[i]);
                if (c != 0)
                {
                    return c;
                }
            }

            return 0;
        }

        private void RequireBound(QueryTerm t, string where)
        {
            if (t.IsVariable && !_vars.ContainsKey(t.Variable!))
            {
                throw new ArgumentException($"Variable ?{t.Variable} of the {where} is not bound by any pattern.");
            }
        }

        private Slot ToSlot(QueryTerm t)
        {
            if (t.IsVariable)
            {
                if (!_vars.TryGetValue(t.Variable!, out var v))
                {
                    v = _vars.Count;
                    _vars[t.Variable!] = v;
                }

                return new Slot(v, 0);
            }

            if (_store.TryGetId(t.Constant!, out var id))
            {
                return new Slot(-1, id);
            }

            _empty = true; // a constant the store has never seen matches nothing
            return new Slot(-1, 0);
        }

        private Compiled Compile(GraphPattern pattern)
        {
            switch (pattern)
            {
                case TriplePattern t:
                    return new Compiled(ToSlot(t.Subject), ToSlot(t.Predicate), ToSlot(t.Object), null, 0, null);
                case PathPattern p:
                    if (p.MinLength < 0 || (p.MaxLength is { } max && max < p.MinLength))
                    {
                        throw new ArgumentException($"Path bounds {p.MinLength}..{p.MaxLength} are invalid.", nameof(pattern));
                    }

                    var pred = ToSlot(QueryTerm.Const(p.Predicate));
                    return new Compiled(ToSlot(p.Start), pred, ToSlot(p.End), p, p.MinLength, p.MaxLength);
                default:
                    throw new ArgumentException($"Unknown pattern {pattern}.", nameof(pattern));
            }
        }

        private void Plan(List<Compiled> patterns, List<(Filter Filter, HashSet<int> Vars)> filters)
        {
            var bound = new HashSet<int>();
            var left = patterns.ToList();
            var baseCost = patterns.ToDictionary(p => p, BaseCost);
            var pendingFilters = filters.Where(f => f.Vars.Count > 0).ToList();
            while (left.Count > 0)
            {
                Compiled? best = null;
                var bestCost = double.MaxValue;
                foreach (var p in left)
                {
                    var cost = Cost(p, bound, baseCost[p]);
                    if (cost < bestCost)
                    {
                        best = p;
                        bestCost = cost;
                    }
                }

                left.Remove(best!);
                foreach (var s in new[] { best!.S, best.P, best.O })
                {
                    if (s.Var >= 0)
                    {
                        bound.Add(s.Var);
                    }
                }

                var ready = pendingFilters.Where(f => f.Vars.IsSubsetOf(bound)).ToList();
                pendingFilters.RemoveAll(ready.Contains);
                _plan.Add(new Step(best, [.. ready.Select(f => f.Filter)]));
            }
        }

        private double BaseCost(Compiled p)
        {
            if (p.Path is not null)
            {
                // a path's start set: every subject of the predicate
                return _store.CountIds(0, p.P.Id, 0, CountCap) * 4.0;
            }

            return _store.CountIds(p.S.Var < 0 ? p.S.Id : 0, p.P.Var < 0 ? p.P.Id : 0, p.O.Var < 0 ? p.O.Id : 0, CountCap);
        }

        private static double Cost(Compiled p, HashSet<int> bound, double baseCost)
        {
            var slots = new[] { p.S, p.P, p.O };
            var byVar = slots.Count(s => s.Var >= 0 && bound.Contains(s.Var));
            if (p.Path is not null)
            {
                var endBound = p.S.Var < 0 || bound.Contains(p.S.Var) || p.O.Var < 0 || bound.Contains(p.O.Var);
                return endBound ? 50 : baseCost * 10;
            }

            var cost = baseCost / Math.Pow(100, byVar);
            var connected = bound.Count == 0 || byVar > 0;
            return connected ? cost : cost * 1e6;
        }

        private long Value(Slot s) => s.Var < 0 ? s.Id : _binding[s.Var];

        private void Solve(int depth)
        {
            if (depth == _plan.Count)
            {
                Emit();
                return;
            }

            var step = _plan[depth];
            var p = step.Pattern;
            if (p.Path is not null)
            {
                SolvePath(depth, step);
                return;
            }

            long s = Value(p.S), pr = Value(p.P), o = Value(p.O);
            var matches = _store.MatchIds(s, pr, o);
            foreach (var m in matches)
            {
                var bindS = p.S.Var >= 0 && s == 0;
                var bindP = p.P.Var >= 0 && pr == 0;
                var bindO = p.O.Var >= 0 && o == 0;
                if (!TryBind(p.S.Var, bindS, m.S, out var undoS))
                {
                    continue;
                }

                if (!TryBind(p.P.Var, bindP, m.P, out var undoP))
                {
                    Undo(p.S.Var, undoS);
                    continue;
                }

                if (!TryBind(p.O.Var, bindO, m.O, out var undoO))
                {
                    Undo(p.P.Var, undoP);
                    Undo(p.S.Var, undoS);
                    continue;
                }

                if (Passes(step.Filters))
                {
                    Solve(depth + 1);
                }

                Undo(p.O.Var, undoO);
                Undo(p.P.Var, undoP);
                Undo(p.S.Var, undoS);
            }
        }

        // binds var to value unless the same variable was bound earlier in this match (repeated variable): then checks equality
        private bool TryBind(int variable, bool bind, long value, out bool undo)
        {
            undo = false;
            if (!bind)
            {
                return true;
            }

            if (_binding[variable] != 0)
            {
                return _binding[variable] == value;
            }

            _binding[variable] = value;
            undo = true;
            return true;
        }

        private void Undo(int variable, bool undo)
        {
            if (undo)
            {
                _binding[variable] = 0;
            }
        }

        private void SolvePath(int depth, Step step)
        {
            var p = step.Pattern;
            long start = Value(p.S), end = Value(p.O);
            if (start != 0)
            {
                var reach = Reachable(depth, start, forward: true);
                if (end != 0)
                {
                    if (reach.Set.Contains(end) && Passes(step.Filters))
                    {
                        Solve(depth + 1);
                    }

                    return;
                }

                BindEach(depth, step, p.O.Var, reach.Nodes);
                return;
            }

            if (end != 0)
            {
                BindEach(depth, step, p.S.Var, Reachable(depth, end, forward: false).Nodes);
                return;
            }

            // neither end bound: every node with an outgoing edge (and, for zero-length paths, every node on an edge)
            var starts = new SortedSet<long>();
            foreach (var t in _store.MatchIds(0, p.P.Id, 0))
            {
                starts.Add(t.S);
                if (p.Min == 0)
                {
                    starts.Add(t.O);
                }
            }

            foreach (var s in starts)
            {
                _binding[p.S.Var] = s;
                if (p.O.Var == p.S.Var)
                {
                    if (Reachable(depth, s, forward: true).Set.Contains(s) && Passes(step.Filters))
                    {
                        Solve(depth + 1);
                    }
                }
                else
                {
                    BindEach(depth, step, p.O.Var, Reachable(depth, s, forward: true).Nodes);
                }
            }

            _binding[p.S.Var] = 0;
        }

        private void BindEach(int depth, Step step, int variable, List<long> nodes)
        {
            foreach (var n in nodes)
            {
                _binding[variable] = n;
                if (Passes(step.Filters))
                {
                    Solve(depth + 1);
                }
            }

            _binding[variable] = 0;
        }

        private Reach Reachable(int depth, long from, bool forward)
        {
            var key = (forward ? depth : -depth - 1, from);
            if (_reach.TryGetValue(key, out var cached))
            {
                return cached;
            }

            var p = _plan[depth].Pattern;
            var predicate = p.P.Id;
            var result = new HashSet<long>();
            var buffer = new List<IdTriple>();
            List<long> Next(IEnumerable<long> frontier, HashSet<long>? skip)
            {
                var next = new List<long>();
                var seen = new HashSet<long>();
                foreach (var n in frontier)
                {
                    buffer.Clear();
                    if (forward)
                    {
                        _store.MatchIds(n, predicate, 0, buffer);
                    }
                    else
                    {
                        _store.MatchIds(0, predicate, n, buffer);
                    }

                    foreach (var t in buffer)
                    {
                        var m = forward ? t.O : t.S;
                        if ((skip is null || !skip.Contains(m)) && seen.Add(m))
                        {
                            next.Add(m);
                        }
                    }
                }

                return next;
            }

            // exact walk lengths up to the minimum (per-level sets: cycles may repeat nodes) ...
            var frontier = new List<long> { from };
            for (var level = 1; level <= p.Min && frontier.Count > 0; level++)
            {
                frontier = Next(frontier, null);
            }

            // ... then plain reachability with a visited set up to the maximum
            var visited = new HashSet<long>(frontier);
            result.UnionWith(frontier);
            for (var level = p.Min; frontier.Count > 0 && (p.Max is null || level < p.Max); level++)
            {
                frontier = Next(frontier, visited);
                visited.UnionWith(frontier);
                result.UnionWith(frontier);
            }

            var nodes = result.Order().ToList();
            var reach = new Reach(nodes, result);
            _reach[key] = reach;
            return reach;
        }

        private bool Passes(Filter[] filters)
        {
            foreach (var f in filters)
            {
                if (!Filter.Evaluate(TermOf(f.Left), f.Operator, TermOf(f.Right)))
                {
                    return false;
                }
            }

            return true;
        }

        private Term TermOf(QueryTerm t) => t.IsVariable ? _store.GetTerm(_binding[_vars[t.Variable!]]) : t.Constant!;

        private void Emit()
        {
            var row = new Term?[_projections.Count];
            for (var i = 0; i < row.Length; i++)
            {
                var proj = _projections[i];
                if (proj.Property is null)
                {
                    row[i] = TermOf(proj.Source);
                    continue;
                }

                row[i] = null;
                var subject = proj.Source.IsVariable ? _binding[_vars[proj.Source.Variable!]] : (_store.TryGetId(proj.Source.Constant!, out var c) ? c : 0);
                if (subject == 0 || !_store.TryGetId(proj.Property, out var property))
                {
                    continue;
                }

                _buffer.Clear();
                _store.MatchIds(subject, property, 0, _buffer);
                foreach (var m in _buffer)
                {
                    var value = _store.GetTerm(m.O);
                    if (row[i] is null || value.CompareTo(row[i]) < 0)
                    {
                        row[i] = value;
                    }
                }
            }

            if (_seen.Add(new RowKey(row)))
            {
                _rows.Add(row);
            }
        }

        private readonly record struct Slot(int Var, long Id);

        private sealed record Compiled(Slot S, Slot P, Slot O, PathPattern? Path, int Min, int? Max);

        private sealed record Step(Compiled Pattern, Filter[] Filters);

        private sealed record Reach(List<long> Nodes, HashSet<long> Set);

        private readonly struct RowKey(Term?[] values) : IEquatable<RowKey>
        {
            private readonly Term?[] _values = values;

            public bool Equals(RowKey other)
            {
                for (var i = 0; i < _values.Length; i++)
                {
                    if (_values[i] != other._values[i])
                    {
                        return false;
                    }
                }

                return _values.Length == other._values.Length;
            }

            public override bool Equals(object? obj) => obj is RowKey k && Equals(k);

            public override int GetHashCode()
            {
                var h = new HashCode();
                foreach (var v in _values)
                {
                    h.Add(v);
                }

                return h.ToHashCode();
            }
        }
    }
}
