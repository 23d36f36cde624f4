namespace EdgeProfile.Knowledge.Graph;

/// <summary>A position in a pattern: a variable (<c>?name</c>) or a constant term.</summary>
public sealed record QueryTerm
{
    private QueryTerm(string? variable, Term? constant)
    {
        Variable = variable;
        Constant = constant;
    }

    /// <summary>The variable name, or null for a constant.</summary>
    public string? Variable { get; }

    /// <summary>The constant, or null for a variable.</summary>
    public Term? Constant { get; }

    /// <summary>True for a variable.</summary>
    public bool IsVariable => Variable is not null;

    /// <summary>A variable.</summary>
    /// <param name="name">Its name (without <c>?</c>).</param>
    /// <returns>The query term.</returns>
    public static QueryTerm Var(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new QueryTerm(name.TrimStart('?'), null);
    }

    /// <summary>A constant.</summary>
    /// <param name="term">The term.</param>
    /// <returns>The query term.</returns>
    public static QueryTerm Const(Term term)
    {
        ArgumentNullException.ThrowIfNull(term);
        return new QueryTerm(null, term);
    }

    /// <summary>A constant name (<c>QueryTerm.Name("subClassOf")</c>).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The query term.</returns>
    public static QueryTerm Name(string name) => Const(Term.Name(name));

    /// <summary><c>?var</c> or the constant's display form.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Variable is not null ? "?" + Variable : Constant!.ToString();
}

/// <summary>A part of a basic graph pattern.</summary>
public abstract record GraphPattern;

/// <summary>A triple pattern: each position a variable or a constant.</summary>
/// <param name="Subject">Subject.</param>
/// <param name="Predicate">Predicate.</param>
/// <param name="Object">Object.</param>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Subject/predicate/object is the standard triple vocabulary.")]
public sealed record TriplePattern(QueryTerm Subject, QueryTerm Predicate, QueryTerm Object) : GraphPattern;

/// <summary>
/// A variable-length path over one predicate: <c>Start predicate{MinLength..MaxLength} End</c>. A path of length 0
/// joins a node with itself; <see cref="MaxLength"/> null means unbounded. Matches are by reachability (each
/// (start, end) pair once, however many paths connect them); evaluated by breadth-first search over the SPO (forward)
/// or POS (backward) index with visited sets, so cycles terminate.
/// </summary>
/// <param name="Start">Where paths start.</param>
/// <param name="Predicate">The predicate every step follows.</param>
/// <param name="End">Where paths end.</param>
/// <param name="MinLength">Minimum number of steps (≥ 0).</param>
/// <param name="MaxLength">Maximum number of steps, or null for unbounded.</param>
public sealed record PathPattern(QueryTerm Start, Term Predicate, QueryTerm End, int MinLength, int? MaxLength) : GraphPattern
{
    /// <summary><c>p*</c>: zero or more steps.</summary>
    /// <param name="start">Start.</param>
    /// <param name="predicate">Predicate.</param>
    /// <param name="end">End.</param>
    /// <returns>The pattern.</returns>
    public static PathPattern ZeroOrMore(QueryTerm start, Term predicate, QueryTerm end) => new(start, predicate, end, 0, null);

    /// <summary><c>p+</c>: one or more steps.</summary>
    /// <param name="start">Start.</param>
    /// <param name="predicate">Predicate.</param>
    /// <param name="end">End.</param>
    /// <returns>The pattern.</returns>
    public static PathPattern OneOrMore(QueryTerm start, Term predicate, QueryTerm end) => new(start, predicate, end, 1, null);
}

/// <summary>Filter comparisons.</summary>
public enum FilterOperator
{
    /// <summary>Same term (kind and value).</summary>
    Equal,

    /// <summary>Not the same term.</summary>
    NotEqual,

    /// <summary>Less than; both sides of the same kind (numbers, texts, date-times, booleans, names).</summary>
    Less,

    /// <summary>Less than or equal; same kind.</summary>
    LessOrEqual,

    /// <summary>Greater than; same kind.</summary>
    Greater,

    /// <summary>Greater than or equal; same kind.</summary>
    GreaterOrEqual,

    /// <summary>The left text or name starts with the right one (ordinal).</summary>
    StartsWith,

    /// <summary>The left text or name contains the right one (ordinal).</summary>
    Contains,
}

/// <summary>A filter on bound variables: <c>Left op Right</c>. Comparisons between terms of different kinds are false
/// (except <see cref="FilterOperator.NotEqual"/>, which is true).</summary>
/// <param name="Left">Left side.</param>
/// <param name="Operator">The comparison.</param>
/// <param name="Right">Right side.</param>
public sealed record Filter(QueryTerm Left, FilterOperator Operator, QueryTerm Right)
{
    /// <summary>Evaluates the comparison on two terms.</summary>
    /// <param name="left">Left value.</param>
    /// <param name="op">Operator.</param>
    /// <param name="right">Right value.</param>
    /// <returns>The outcome.</returns>
    public static bool Evaluate(Term left, FilterOperator op, Term right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        if (op == FilterOperator.Equal)
        {
            return left == right;
        }

        if (op == FilterOperator.NotEqual)
        {
            return left != right;
        }

        if (left.Kind != right.Kind)
        {
            return false;
        }

        return op switch
        {
            FilterOperator.Less => left.CompareTo(right) < 0,
            FilterOperator.LessOrEqual => left.CompareTo(right) <= 0,
            FilterOperator.Greater => left.CompareTo(right) > 0,
            FilterOperator.GreaterOrEqual => left.CompareTo(right) >= 0,
            FilterOperator.StartsWith => left.Kind is TermKind.Text or TermKind.Name && left.Lexical.StartsWith(right.Lexical, StringComparison.Ordinal),
            FilterOperator.Contains => left.Kind is TermKind.Text or TermKind.Name && left.Lexical.Contains(right.Lexical, StringComparison.Ordinal),
            _ => false,
        };
    }
}

/// <summary>A result column: a variable's (or constant's) term, or the value of one of its properties.</summary>
/// <param name="Column">The column name.</param>
/// <param name="Source">The variable or constant.</param>
/// <param name="Property">If set, the column is the first object (in term order) of <c>(Source, Property, ?)</c>, or null when there is none.</param>
public sealed record Projection(string Column, QueryTerm Source, Term? Property = null);

/// <summary>
/// A basic-graph-pattern query: the join of <see cref="Patterns"/>, kept where every <see cref="Filters"/> holds,
/// projected onto <see cref="Projections"/> (all pattern variables, by name, when empty), with duplicate rows
/// removed, sorted by the columns in term order (nulls first) and cut at <see cref="Limit"/>.
/// </summary>
public sealed class GraphQuery
{
    /// <summary>The patterns (triple and path patterns).</summary>
    public IList<GraphPattern> Patterns { get; } = [];

    /// <summary>The filters.</summary>
    public IList<Filter> Filters { get; } = [];

    /// <summary>The result columns; empty = every variable of the patterns in name order.</summary>
    public IList<Projection> Projections { get; } = [];

    /// <summary>The most rows returned, or null for all.</summary>
    public int? Limit { get; set; }
}

/// <summary>One result row.</summary>
public sealed class QueryRow
{
    private readonly IReadOnlyDictionary<string, int> _index;

    internal QueryRow(IReadOnlyDictionary<string, int> index, Term?[] values)
    {
        _index = index;
        Values = values;
    }

    /// <summary>The values, in column order (null where a projected property is missing).</summary>
    public IReadOnlyList<Term?> Values { get; }

    /// <summary>The value of a column.</summary>
    /// <param name="column">The column name.</param>
    /// <returns>The term or null.</returns>
    public Term? this[string column] => _index.TryGetValue(column, out var i) ? Values[i] : throw new KeyNotFoundException($"No column '{column}'.");

    /// <summary>The value of a column by position.</summary>
    /// <param name="index">The position.</param>
    /// <returns>The term or null.</returns>
    public Term? this[int index] => Values[index];

    /// <inheritdoc />
    public override string ToString() => string.Join(" | ", Values.Select(v => v?.ToString() ?? "null"));
}

/// <summary>A query's result: columns and rows.</summary>
public sealed class QueryResult
{
    internal QueryResult(IReadOnlyList<string> columns, IReadOnlyList<QueryRow> rows)
    {
        Columns = columns;
        Rows = rows;
    }

    /// <summary>The column names.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The rows, sorted and limited.</summary>
    public IReadOnlyList<QueryRow> Rows { get; }

    /// <summary>The values of one column over all rows.</summary>
    /// <param name="column">The column.</param>
    /// <returns>The values.</returns>
    public IReadOnlyList<Term?> Column(string column) => [.. Rows.Select(r => r[column])];
}
