using System.Globalization;
using System.Text;

namespace EdgeProfile.Knowledge.Rules;

/// <summary>
/// A ground constant of the rule language: a number (a <see cref="double"/>) or a text. Bare lower-case symbols
/// (<c>new_parent</c>) and quoted strings (<c>"new_parent"</c>) are the same constant; numbers compare by value
/// (<c>1</c> = <c>1.0</c>), texts ordinally.
/// </summary>
public sealed class Value : IEquatable<Value>
{
    private readonly int hash;

    private Value(string? text, double number)
    {
        Text = text;
        Number = number;
        hash = text is null ? number.GetHashCode() : StringComparer.Ordinal.GetHashCode(text);
    }

    /// <summary>The text, or <c>null</c> for a number.</summary>
    public string? Text { get; }

    /// <summary>The number (0 for a text).</summary>
    public double Number { get; }

    /// <summary>Whether this is a number.</summary>
    public bool IsNumber => Text is null;

    /// <summary>A text constant (symbol or string).</summary>
    public static Value Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new Value(text, 0);
    }

    /// <summary>A number constant (<c>-0</c> is stored as <c>0</c>).</summary>
    public static Value Of(double number) => new(null, number == 0 ? 0d : number);

    /// <inheritdoc />
    public bool Equals(Value? other) =>
        other is not null && hash == other.hash
        && (Text is null ? other.Text is null && Number.Equals(other.Number) : string.Equals(Text, other.Text, StringComparison.Ordinal));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Value);

    /// <inheritdoc />
    public override int GetHashCode() => hash;

    /// <summary>The constant as it is written in a rule file: a number, a bare symbol, or a quoted string.</summary>
    public override string ToString() =>
        Text is null ? Number.ToString(CultureInfo.InvariantCulture) : (IsSymbol(Text) ? Text : Quote(Text));

    /// <summary>Whether <paramref name="text"/> can be written as a bare symbol (lower-case letter, then letters, digits, <c>_</c>).</summary>
    public static bool IsSymbol(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0 || !char.IsAsciiLetterLower(text[0]) || text == "not")
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary><paramref name="text"/> as a quoted string with <c>\"</c>, <c>\\</c>, <c>\n</c> and <c>\t</c> escapes.</summary>
    public static string Quote(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            _ = c switch
            {
                '"' => sb.Append("\\\""),
                '\\' => sb.Append("\\\\"),
                '\n' => sb.Append("\\n"),
                '\t' => sb.Append("\\t"),
                _ => sb.Append(c),
            };
        }

        return sb.Append('"').ToString();
    }

    /// <summary>Compares two constants with <paramref name="op"/>: numbers numerically, texts ordinally; a number and a
    /// text are never equal and never ordered (every ordering comparison between them is false).</summary>
    public static bool Compare(Value left, ComparisonOperator op, Value right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        if (op == ComparisonOperator.Equal)
        {
            return left.Equals(right);
        }

        if (op == ComparisonOperator.NotEqual)
        {
            return !left.Equals(right);
        }

        int c;
        if (left.IsNumber && right.IsNumber)
        {
            if (double.IsNaN(left.Number) || double.IsNaN(right.Number))
            {
                return false;
            }

            c = left.Number.CompareTo(right.Number);
        }
        else if (!left.IsNumber && !right.IsNumber)
        {
            c = string.CompareOrdinal(left.Text, right.Text);
        }
        else
        {
            return false;
        }

        return op switch
        {
            ComparisonOperator.Less => c < 0,
            ComparisonOperator.LessOrEqual => c <= 0,
            ComparisonOperator.Greater => c > 0,
            _ => c >= 0,
        };
    }
}

/// <summary>A term of a rule: a variable (upper-case letter or <c>_</c> first) or a constant.</summary>
public sealed class Term
{
    private Term(string? variable, Value? constant, int line, int column)
    {
        VariableName = variable;
        Constant = constant;
        Line = line;
        Column = column;
    }

    /// <summary>The variable's name, or <c>null</c> for a constant.</summary>
    public string? VariableName { get; }

    /// <summary>The constant, or <c>null</c> for a variable.</summary>
    public Value? Constant { get; }

    /// <summary>Whether this is a variable.</summary>
    public bool IsVariable => VariableName is not null;

    /// <summary>Whether this is the anonymous variable <c>_</c> (each occurrence is a fresh variable).</summary>
    public bool IsAnonymous => VariableName is not null && VariableName.StartsWith("_#", StringComparison.Ordinal);

    /// <summary>1-based source line (0 when built in code).</summary>
    public int Line { get; }

    /// <summary>1-based source column (0 when built in code).</summary>
    public int Column { get; }

    /// <summary>A variable term.</summary>
    public static Term Var(string name, int line = 0, int column = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new Term(name, null, line, column);
    }

    /// <summary>A constant term.</summary>
    public static Term Const(Value value, int line = 0, int column = 0)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new Term(null, value, line, column);
    }

    /// <inheritdoc />
    public override string ToString() => IsAnonymous ? "_" : VariableName ?? Constant!.ToString();
}

/// <summary>An atom <c>pred(t1, ..., tn)</c>.</summary>
public sealed class Atom
{
    /// <summary>Creates an atom.</summary>
    public Atom(string predicate, IReadOnlyList<Term> terms, int line = 0, int column = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(predicate);
        ArgumentNullException.ThrowIfNull(terms);
        Predicate = predicate;
        Terms = terms;
        Line = line;
        Column = column;
    }

    /// <summary>The predicate name.</summary>
    public string Predicate { get; }

    /// <summary>The arguments.</summary>
    public IReadOnlyList<Term> Terms { get; }

    /// <summary>Number of arguments.</summary>
    public int Arity => Terms.Count;

    /// <summary>1-based source line (0 when built in code).</summary>
    public int Line { get; }

    /// <summary>1-based source column (0 when built in code).</summary>
    public int Column { get; }

    /// <summary>The variables of the atom, in order of first occurrence.</summary>
    public IEnumerable<Term> Variables() => Terms.Where(t => t.IsVariable);

    /// <inheritdoc />
    public override string ToString() =>
        Terms.Count == 0 ? Predicate : Predicate + "(" + string.Join(", ", Terms) + ")";
}

/// <summary>A comparison operator: <c>=</c>, <c>!=</c>, <c>&lt;</c>, <c>&lt;=</c>, <c>&gt;</c>, <c>&gt;=</c>.</summary>
public enum ComparisonOperator
{
    /// <summary><c>=</c></summary>
    Equal,

    /// <summary><c>!=</c></summary>
    NotEqual,

    /// <summary><c>&lt;</c></summary>
    Less,

    /// <summary><c>&lt;=</c></summary>
    LessOrEqual,

    /// <summary><c>&gt;</c></summary>
    Greater,

    /// <summary><c>&gt;=</c></summary>
    GreaterOrEqual,
}

/// <summary>An aggregate function.</summary>
public enum AggregateFunction
{
    /// <summary><c>count(X, ... : body)</c>: the number of distinct tuples of the listed variables.</summary>
    Count,

    /// <summary><c>sum(V, X, ... : body)</c>: the sum of <c>V</c> over distinct tuples <c>(V, X, ...)</c>.</summary>
    Sum,
}

/// <summary>A body literal of a rule.</summary>
public abstract class Literal
{
    /// <summary>Creates a literal at a source position.</summary>
    protected Literal(int line, int column)
    {
        Line = line;
        Column = column;
    }

    /// <summary>1-based source line (0 when built in code).</summary>
    public int Line { get; }

    /// <summary>1-based source column (0 when built in code).</summary>
    public int Column { get; }
}

/// <summary>A positive atom <c>p(...)</c> or a negated one <c>not p(...)</c> (negation as failure).</summary>
public sealed class AtomLiteral : Literal
{
    /// <summary>Creates an atom literal.</summary>
    public AtomLiteral(Atom atom, bool negated, int line = 0, int column = 0)
        : base(line, column)
    {
        ArgumentNullException.ThrowIfNull(atom);
        Atom = atom;
        Negated = negated;
    }

    /// <summary>The atom.</summary>
    public Atom Atom { get; }

    /// <summary>Whether this is <c>not atom</c>.</summary>
    public bool Negated { get; }

    /// <inheritdoc />
    public override string ToString() => Negated ? "not " + Atom : Atom.ToString();
}

/// <summary>A comparison <c>left op right</c> between bound terms.</summary>
public sealed class ComparisonLiteral : Literal
{
    /// <summary>Creates a comparison.</summary>
    public ComparisonLiteral(Term left, ComparisonOperator op, Term right, int line = 0, int column = 0)
        : base(line, column)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        Left = left;
        Operator = op;
        Right = right;
    }

    /// <summary>Left operand.</summary>
    public Term Left { get; }

    /// <summary>The operator.</summary>
    public ComparisonOperator Operator { get; }

    /// <summary>Right operand.</summary>
    public Term Right { get; }

    /// <summary>The operator as written.</summary>
    public static string Symbol(ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => "=",
        ComparisonOperator.NotEqual => "!=",
        ComparisonOperator.Less => "<",
        ComparisonOperator.LessOrEqual => "<=",
        ComparisonOperator.Greater => ">",
        _ => ">=",
    };

    /// <inheritdoc />
    public override string ToString() => Left + " " + Symbol(Operator) + " " + Right;
}

/// <summary>
/// An aggregate <c>N = count(X, ... : body)</c> or <c>S = sum(V, X, ... : body)</c>. It is evaluated once per binding
/// of the variables bound before it (the group); variables of the inner body not bound outside are local to it.
/// An empty group gives 0. Predicates in the inner body must be in a lower stratum (as with negation).
/// </summary>
public sealed class AggregateLiteral : Literal
{
    /// <summary>Creates an aggregate.</summary>
    public AggregateLiteral(Term result, AggregateFunction function, IReadOnlyList<Term> targets, IReadOnlyList<Literal> body, int line = 0, int column = 0)
        : base(line, column)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(body);
        Result = result;
        Function = function;
        Targets = targets;
        Body = body;
    }

    /// <summary>The variable (or constant to check) the aggregate value is bound to.</summary>
    public Term Result { get; }

    /// <summary>The function.</summary>
    public AggregateFunction Function { get; }

    /// <summary>The counted variables; for <see cref="AggregateFunction.Sum"/> the first is the summed value.</summary>
    public IReadOnlyList<Term> Targets { get; }

    /// <summary>The inner body (atoms, negations, comparisons; no nested aggregates).</summary>
    public IReadOnlyList<Literal> Body { get; }

    /// <inheritdoc />
    public override string ToString() =>
        Result + " = " + (Function == AggregateFunction.Count ? "count(" : "sum(") + string.Join(", ", Targets) + " : " + string.Join(", ", Body) + ")";
}

/// <summary>A rule <c>head :- body.</c> with its id (from <c>@rule</c>, else <c>rule@LINE</c>).</summary>
public sealed class Rule
{
    /// <summary>Creates a rule.</summary>
    public Rule(string id, Atom head, IReadOnlyList<Literal> body, int line = 0, int column = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(body);
        Id = id;
        Head = head;
        Body = body;
        Line = line;
        Column = column;
    }

    /// <summary>The rule's id (provenance names it).</summary>
    public string Id { get; }

    /// <summary>The head.</summary>
    public Atom Head { get; }

    /// <summary>The body.</summary>
    public IReadOnlyList<Literal> Body { get; }

    /// <summary>1-based source line of the head (0 when built in code).</summary>
    public int Line { get; }

    /// <summary>1-based source column of the head (0 when built in code).</summary>
    public int Column { get; }

    /// <inheritdoc />
    public override string ToString() => Head + " :- " + string.Join(", ", Body) + ".";
}

/// <summary>A ground fact <c>pred(c1, ..., cn)</c>; equality is structural.</summary>
public sealed class Fact : IEquatable<Fact>
{
    private readonly int hash;

    /// <summary>Creates a fact.</summary>
    public Fact(string predicate, params Value[] arguments)
        : this(predicate, (Value[])(arguments ?? throw new ArgumentNullException(nameof(arguments))).Clone(), true)
    {
    }

    private Fact(string predicate, Value[] arguments, bool owned)
    {
        ArgumentException.ThrowIfNullOrEmpty(predicate);
        _ = owned;
        Predicate = predicate;
        Args = arguments;
        var h = new HashCode();
        h.Add(predicate, StringComparer.Ordinal);
        foreach (var a in Args)
        {
            ArgumentNullException.ThrowIfNull(a, nameof(arguments));
            h.Add(a.GetHashCode());
        }

        hash = h.ToHashCode();
    }

    /// <summary>The predicate name.</summary>
    public string Predicate { get; }

    /// <summary>The arguments.</summary>
    public IReadOnlyList<Value> Arguments => Args;

    /// <summary>Number of arguments.</summary>
    public int Arity => Args.Length;

    internal Value[] Args { get; }

    /// <summary>A fact that takes ownership of <paramref name="arguments"/> (no copy).</summary>
    internal static Fact Own(string predicate, Value[] arguments) => new(predicate, arguments, true);

    /// <summary>A fact from plain values: <see cref="string"/> becomes a text, any numeric type a number, a <see cref="Value"/> stays.</summary>
    public static Fact Of(string predicate, params object[] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var values = new Value[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            values[i] = arguments[i] switch
            {
                Value v => v,
                string s => Value.Of(s),
                null => throw new ArgumentException("A fact argument is null.", nameof(arguments)),
                var o => Value.Of(Convert.ToDouble(o, CultureInfo.InvariantCulture)),
            };
        }

        return new Fact(predicate, values);
    }

    /// <summary>An online feature <c>feature(customer, name, value)</c>.</summary>
    public static Fact Feature(string customer, string feature, double value) =>
        new("feature", Value.Of(customer), Value.Of(feature), Value.Of(value));

    /// <summary>Parses one ground fact written as in a rule file (<c>p(a, "b c", 3)</c>, trailing dot optional).</summary>
    /// <exception cref="FormatException">The text is not one ground fact.</exception>
    public static Fact Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return RuleParser.ParseFact(text);
    }

    /// <inheritdoc />
    public bool Equals(Fact? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other.hash != hash || other.Args.Length != Args.Length || !string.Equals(other.Predicate, Predicate, StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = 0; i < Args.Length; i++)
        {
            if (!Args[i].Equals(other.Args[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Fact);

    /// <inheritdoc />
    public override int GetHashCode() => hash;

    /// <inheritdoc />
    public override string ToString() =>
        Args.Length == 0 ? Predicate : Predicate + "(" + string.Join(", ", Args.Select(a => a.ToString())) + ")";
}
