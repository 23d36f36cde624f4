using System.Globalization;
using System.Text;

namespace EdgeProfile.Knowledge.Graph;

/// <summary>A query that is not in the supported Cypher subset; <see cref="Position"/> is where the problem starts.</summary>
public sealed class GraphQuerySyntaxException : FormatException
{
    /// <summary>An exception without details.</summary>
    public GraphQuerySyntaxException()
    {
    }

    /// <summary>An exception with a message.</summary>
    /// <param name="message">The message.</param>
    public GraphQuerySyntaxException(string message)
        : base(message)
    {
    }

    /// <summary>An exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public GraphQuerySyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>An exception at a position of the query.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="position">0-based character offset in the query.</param>
    public GraphQuerySyntaxException(string message, int position)
        : base($"{message} at position {position}")
    {
        Position = position;
    }

    /// <summary>The 0-based character offset in the query where the problem starts.</summary>
    public int Position { get; }
}

/// <summary>
/// Parses a documented subset of Cypher into a <see cref="GraphQuery"/>:
/// <code>
/// query    := MATCH path (',' path)* (MATCH path (',' path)*)* [WHERE cond (AND cond)*]
///             RETURN [DISTINCT] item (',' item)* [LIMIT int]
/// path     := node (rel node)*
/// node     := '(' [var] (':' Label)* ['{' key ':' literal (',' key ':' literal)* '}'] ')'
/// rel      := '-[' ':' TYPE [hops] ']->'  |  '&lt;-[' ':' TYPE [hops] ']-'
/// hops     := '*' | '*' n | '*' n '..' | '*' n '..' m | '*' '..' m        (Cypher meaning: * = 1.., *n = exactly n)
/// cond     := operand op operand ;  op := = | &lt;&gt; | != | &lt; | &lt;= | &gt; | &gt;= | STARTS WITH | CONTAINS
/// operand  := var | var '.' key | literal
/// item     := (var | var '.' key) [AS name]
/// literal  := 'text' | "text" | number | -number | true | false | datetime('2024-01-01T00:00:00Z')
/// </code>
/// Mapping onto triples: a label <c>(a:Product)</c> is <c>(?a type Product)</c>; a property <c>{name:'Baby'}</c> is
/// <c>(?a name 'Baby')</c>; the reserved key <c>id</c> names the node itself (<c>({id:'Phones'})</c> is the entity
/// <c>Phones</c>); a relationship type is a predicate (see <see cref="PredicateFor"/>); a hop range makes a
/// <see cref="PathPattern"/>. <c>a.key</c> in WHERE requires the property (each value is tried); in RETURN it is the
/// smallest value, or null when missing. Keywords are case-insensitive; names are case-sensitive; <c>`back ticks`</c>
/// quote labels, types and keys with other characters. Results are distinct rows sorted by the returned columns
/// (RETURN DISTINCT is accepted and changes nothing). Not supported (an error names the position): OPTIONAL MATCH,
/// OR/NOT, ORDER BY, SKIP, relationship variables, undirected relationships, aggregation, write clauses.
/// </summary>
public static class CypherParser
{
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["SUBCLASS_OF"] = "subClassOf",
        ["SUB_CLASS_OF"] = "subClassOf",
        ["IN"] = "inCategory",
        ["IN_CATEGORY"] = "inCategory",
        ["IS_A"] = "type",
        ["TYPE"] = "type",
    };

    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "MATCH", "WHERE", "AND", "RETURN", "DISTINCT", "AS", "LIMIT", "STARTS", "WITH", "CONTAINS",
        "OPTIONAL", "OR", "NOT", "ORDER", "SKIP", "CREATE", "MERGE", "DELETE", "SET", "UNWIND", "XOR",
    };

    /// <summary>
    /// The predicate of a relationship type: a type with a lower-case letter is used as written (<c>:subClassOf</c>);
    /// <c>SUBCLASS_OF</c>/<c>SUB_CLASS_OF</c> → <c>subClassOf</c>, <c>IN</c>/<c>IN_CATEGORY</c> → <c>inCategory</c>,
    /// <c>IS_A</c>/<c>TYPE</c> → <c>type</c>; any other UPPER_SNAKE type becomes lowerCamel
    /// (<c>COMPLEMENTED_BY</c> → <c>complementedBy</c>, <c>NEEDS</c> → <c>needs</c>).
    /// </summary>
    /// <param name="relationshipType">The type as written after the colon.</param>
    /// <returns>The predicate.</returns>
    public static Term PredicateFor(string relationshipType)
    {
        ArgumentException.ThrowIfNullOrEmpty(relationshipType);
        if (relationshipType.Any(char.IsLower))
        {
            return Term.Name(relationshipType);
        }

        if (Aliases.TryGetValue(relationshipType, out var alias))
        {
            return Term.Name(alias);
        }

        var camel = new StringBuilder();
        foreach (var part in relationshipType.Split('_', StringSplitOptions.RemoveEmptyEntries))
        {
            var lower = part.ToLowerInvariant();
            camel.Append(camel.Length == 0 ? lower : char.ToUpperInvariant(lower[0]) + lower[1..]);
        }

        return Term.Name(camel.Length == 0 ? relationshipType : camel.ToString());
    }

    /// <summary>Parses a query.</summary>
    /// <param name="text">The query.</param>
    /// <returns>The query model.</returns>
    /// <exception cref="GraphQuerySyntaxException">Not in the subset; the message and <see cref="GraphQuerySyntaxException.Position"/> name where.</exception>
    public static GraphQuery Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new Parser(Lex(text)).ParseQuery();
    }

    private enum Kind
    {
        Ident,
        QuotedIdent,
        Text,
        Number,
        Symbol,
        End,
    }

    private readonly record struct Token(Kind Kind, string Text, int Position)
    {
        public bool Is(string symbol) => Kind == Kind.Symbol && Text == symbol;

        public bool IsKeyword(string word) => Kind == Kind.Ident && string.Equals(Text, word, StringComparison.OrdinalIgnoreCase);

        public string Describe() => Kind switch
        {
            Kind.End => "end of query",
            Kind.Text => "'" + Text + "'",
            _ => "'" + Text + "'",
        };
    }

    private static List<Token> Lex(string s)
    {
        var tokens = new List<Token>();
        var i = 0;
        string[] symbols = ["<-", "->", "..", "<=", ">=", "<>", "!=", "(", ")", "[", "]", "{", "}", ":", ",", ".", "*", "-", "=", "<", ">"];
        while (true)
        {
            while (i < s.Length && char.IsWhiteSpace(s[i]))
            {
                i++;
            }

            if (i >= s.Length)
            {
                tokens.Add(new Token(Kind.End, "", s.Length));
                return tokens;
            }

            var start = i;
            var c = s[i];
            if (char.IsLetter(c) || c == '_')
            {
                while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new Token(Kind.Ident, s[start..i], start));
            }
            else if (char.IsAsciiDigit(c))
            {
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }

                if (i + 1 < s.Length && s[i] == '.' && char.IsAsciiDigit(s[i + 1]))
                {
                    i++;
                    while (i < s.Length && char.IsAsciiDigit(s[i]))
                    {
                        i++;
                    }
                }

                tokens.Add(new Token(Kind.Number, s[start..i], start));
            }
            else if (c is '\'' or '"' or '`')
            {
                var text = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= s.Length)
                    {
                        throw new GraphQuerySyntaxException(c == '`' ? "Unterminated `quoted name`" : "Unterminated string literal", start);
                    }

                    if (s[i] == '\\' && c != '`' && i + 1 < s.Length)
                    {
                        text.Append(s[i + 1]);
                        i += 2;
                        continue;
                    }

                    if (s[i] == c)
                    {
                        i++;
                        break;
                    }

                    text.Append(s[i++]);
                }

                tokens.Add(new Token(c == '`' ? Kind.QuotedIdent : Kind.Text, text.ToString(), start));
            }
            else
            {
                var symbol = symbols.FirstOrDefault(sym => string.CompareOrdinal(s, i, sym, 0, sym.Length) == 0)
                    ?? throw new GraphQuerySyntaxException($"Unexpected character '{c}'", start);
                i += symbol.Length;
                tokens.Add(new Token(Kind.Symbol, symbol, start));
            }
        }
    }

    private sealed class Parser(List<Token> tokens)
    {
        private readonly GraphQuery _query = new();
        private readonly Dictionary<string, QueryTerm> _constants = new(StringComparer.Ordinal);
        private readonly HashSet<string> _declared = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Var, string Key), QueryTerm> _propertyVars = [];
        private int _next;
        private int _hidden;

        private Token Current => tokens[_next];

        public GraphQuery ParseQuery()
        {
            ExpectKeyword("MATCH");
            ParsePaths();
            while (Current.IsKeyword("MATCH"))
            {
                _next++;
                ParsePaths();
            }

            if (Current.IsKeyword("WHERE"))
            {
                _next++;
                ParseCondition();
                while (Current.IsKeyword("AND"))
                {
                    _next++;
                    ParseCondition();
                }
            }

            ExpectKeyword("RETURN");
            if (Current.IsKeyword("DISTINCT"))
            {
                _next++;
            }

            ParseReturnItem();
            while (Current.Is(","))
            {
                _next++;
                ParseReturnItem();
            }

            if (Current.IsKeyword("LIMIT"))
            {
                _next++;
                var n = Current;
                if (n.Kind != Kind.Number || !int.TryParse(n.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit))
                {
                    throw Error("Expected a non-negative integer after LIMIT", n);
                }

                _next++;
                _query.Limit = limit;
            }

            if (Current.Kind != Kind.End)
            {
                throw Error("Expected end of query", Current);
            }

            return _query;
        }

        private static GraphQuerySyntaxException Error(string message, Token at)
        {
            if (at.Kind == Kind.Ident && Keywords.Contains(at.Text) && at.Text.ToUpperInvariant() is "OPTIONAL" or "OR" or "NOT" or "ORDER" or "SKIP" or "CREATE" or "MERGE" or "DELETE" or "SET" or "UNWIND" or "XOR")
            {
                return new GraphQuerySyntaxException($"{at.Text.ToUpperInvariant()} is not supported in this Cypher subset", at.Position);
            }

            return new GraphQuerySyntaxException($"{message} but found {at.Describe()}", at.Position);
        }

        private void Expect(string symbol)
        {
            if (!Current.Is(symbol))
            {
                throw Error($"Expected '{symbol}'", Current);
            }

            _next++;
        }

        private void ExpectKeyword(string word)
        {
            if (!Current.IsKeyword(word))
            {
                throw Error($"Expected {word}", Current);
            }

            _next++;
        }

        private string ExpectName(string what)
        {
            var t = Current;
            if (t.Kind == Kind.QuotedIdent || (t.Kind == Kind.Ident && !Keywords.Contains(t.Text)))
            {
                _next++;
                return t.Text;
            }

            throw Error($"Expected {what}", t);
        }

        private QueryTerm Ref(string name) => _constants.TryGetValue(name, out var c) ? c : QueryTerm.Var(name);

        private QueryTerm Hidden() => QueryTerm.Var(" h" + (++_hidden).ToString(CultureInfo.InvariantCulture));

        private void ParsePaths()
        {
            ParsePath();
            while (Current.Is(","))
            {
                _next++;
                ParsePath();
            }
        }

        private void ParsePath()
        {
            var left = ParseNode();
            while (Current.Is("-") || Current.Is("<-"))
            {
                var reverse = Current.Is("<-");
                _next++;
                Expect("[");
                if (Current.Kind is Kind.Ident or Kind.QuotedIdent)
                {
                    throw new GraphQuerySyntaxException("Relationship variables are not supported in this Cypher subset", Current.Position);
                }

                Expect(":");
                var type = ExpectName("a relationship type");
                int min = 1;
                int? max = 1;
                var isPath = false;
                if (Current.Is("*"))
                {
                    isPath = true;
                    _next++;
                    max = null;
                    if (Current.Kind == Kind.Number)
                    {
                        min = Integer();
                        max = min;
                        if (Current.Is(".."))
                        {
                            _next++;
                            max = Current.Kind == Kind.Number ? Integer() : null;
                        }
                    }
                    else if (Current.Is(".."))
                    {
                        _next++;
                        max = Current.Kind == Kind.Number ? Integer() : throw Error("Expected an upper bound after '..'", Current);
                    }

                    if (max < min)
                    {
                        throw new GraphQuerySyntaxException($"Hop range *{min}..{max} is empty", Current.Position);
                    }
                }

                Expect("]");
                if (reverse)
                {
                    Expect("-");
                }
                else if (Current.Is("-"))
                {
                    throw new GraphQuerySyntaxException("Undirected relationships are not supported; use -> or <-", Current.Position);
                }
                else
                {
                    Expect("->");
                }

                var right = ParseNode();
                var (from, to) = reverse ? (right, left) : (left, right);
                var predicate = PredicateFor(type);
                _query.Patterns.Add(isPath
                    ? new PathPattern(from, predicate, to, min, max)
                    : new TriplePattern(from, QueryTerm.Const(predicate), to));
                left = right;
            }
        }

        private int Integer()
        {
            var t = Current;
            if (t.Kind != Kind.Number || !int.TryParse(t.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                throw Error("Expected an integer", t);
            }

            _next++;
            return n;
        }

        private QueryTerm ParseNode()
        {
            Expect("(");
            string? name = null;
            var nameToken = Current;
            if (Current.Kind == Kind.Ident && !Keywords.Contains(Current.Text))
            {
                name = Current.Text;
                _next++;
            }

            var labels = new List<string>();
            while (Current.Is(":"))
            {
                _next++;
                labels.Add(ExpectName("a label"));
            }

            var props = new List<(string Key, Term Value, Token At)>();
            if (Current.Is("{"))
            {
                _next++;
                do
                {
                    if (Current.Is(","))
                    {
                        _next++;
                    }

                    var at = Current;
                    var key = ExpectName("a property key");
                    Expect(":");
                    props.Add((key, ParseLiteral(), at));
                }
                while (Current.Is(","));
                Expect("}");
            }

            Expect(")");
            QueryTerm node;
            var id = props.FirstOrDefault(p => p.Key == "id");
            if (id.Key is not null)
            {
                if (id.Value.Kind != TermKind.Text)
                {
                    throw new GraphQuerySyntaxException("The id of a node must be a string", id.At.Position);
                }

                node = QueryTerm.Const(Term.Name(id.Value.Lexical));
                if (name is not null)
                {
                    if (_declared.Contains(name) && !_constants.ContainsKey(name))
                    {
                        throw new GraphQuerySyntaxException($"Variable {name} is used before its id is given", nameToken.Position);
                    }

                    if (_constants.TryGetValue(name, out var earlier) && earlier != node)
                    {
                        throw new GraphQuerySyntaxException($"Variable {name} has two different ids", id.At.Position);
                    }

                    _constants[name] = node;
                    _declared.Add(name);
                }
            }
            else if (name is not null)
            {
                _declared.Add(name);
                node = Ref(name);
            }
            else
            {
                node = Hidden();
            }

            foreach (var label in labels)
            {
                _query.Patterns.Add(new TriplePattern(node, QueryTerm.Const(Vocabulary.Type), QueryTerm.Name(label)));
            }

            foreach (var (key, value, _) in props.Where(p => p.Key != "id"))
            {
                _query.Patterns.Add(new TriplePattern(node, QueryTerm.Name(key), QueryTerm.Const(value)));
            }

            return node;
        }

        private Term ParseLiteral()
        {
            var t = Current;
            switch (t.Kind)
            {
                case Kind.Text:
                    _next++;
                    return Term.Text(t.Text);
                case Kind.Number:
                    _next++;
                    return Term.Number(double.Parse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture));
                case Kind.Symbol when t.Text == "-" && tokens[_next + 1].Kind == Kind.Number:
                    _next += 2;
                    return Term.Number(-double.Parse(tokens[_next - 1].Text, NumberStyles.Float, CultureInfo.InvariantCulture));
                case Kind.Ident when t.IsKeyword("true") || t.IsKeyword("false"):
                    _next++;
                    return Term.Boolean(t.IsKeyword("true"));
                case Kind.Ident when t.IsKeyword("datetime"):
                    _next++;
                    Expect("(");
                    var arg = Current;
                    if (arg.Kind != Kind.Text || !DateTimeOffset.TryParse(arg.Text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var when))
                    {
                        throw Error("Expected an ISO-8601 date-time string", arg);
                    }

                    _next++;
                    Expect(")");
                    return Term.DateTime(when);
                default:
                    throw Error("Expected a literal", t);
            }
        }

        private bool AtLiteral() =>
            Current.Kind is Kind.Text or Kind.Number
            || (Current.Is("-") && tokens[_next + 1].Kind == Kind.Number)
            || Current.IsKeyword("true") || Current.IsKeyword("false") || Current.IsKeyword("datetime");

        private QueryTerm ParseOperand()
        {
            if (AtLiteral())
            {
                return QueryTerm.Const(ParseLiteral());
            }

            var at = Current;
            var name = ExpectName("a variable or a literal");
            if (!_declared.Contains(name))
            {
                throw new GraphQuerySyntaxException($"Unknown variable {name}", at.Position);
            }

            if (!Current.Is("."))
            {
                return Ref(name);
            }

            _next++;
            var key = ExpectName("a property key");
            if (!_propertyVars.TryGetValue((name, key), out var value))
            {
                value = Hidden();
                _propertyVars[(name, key)] = value;
                _query.Patterns.Add(new TriplePattern(Ref(name), QueryTerm.Name(key), value));
            }

            return value;
        }

        private void ParseCondition()
        {
            var left = ParseOperand();
            var at = Current;
            FilterOperator op;
            if (at.IsKeyword("STARTS"))
            {
                _next++;
                ExpectKeyword("WITH");
                op = FilterOperator.StartsWith;
            }
            else if (at.IsKeyword("CONTAINS"))
            {
                _next++;
                op = FilterOperator.Contains;
            }
            else
            {
                op = at.Kind == Kind.Symbol ? at.Text switch
                {
                    "=" => FilterOperator.Equal,
                    "<>" or "!=" => FilterOperator.NotEqual,
                    "<" => FilterOperator.Less,
                    "<=" => FilterOperator.LessOrEqual,
                    ">" => FilterOperator.Greater,
                    ">=" => FilterOperator.GreaterOrEqual,
                    _ => throw Error("Expected a comparison (=, <>, <, <=, >, >=, STARTS WITH, CONTAINS)", at),
                }
                : throw Error("Expected a comparison (=, <>, <, <=, >, >=, STARTS WITH, CONTAINS)", at);
                _next++;
            }

            _query.Filters.Add(new Filter(left, op, ParseOperand()));
        }

        private void ParseReturnItem()
        {
            var at = Current;
            var name = ExpectName("a variable");
            if (!_declared.Contains(name))
            {
                throw new GraphQuerySyntaxException($"Unknown variable {name}", at.Position);
            }

            string column = name;
            Term? property = null;
            if (Current.Is("."))
            {
                _next++;
                var key = ExpectName("a property key");
                property = Term.Name(key);
                column = name + "." + key;
            }

            if (Current.IsKeyword("AS"))
            {
                _next++;
                column = ExpectName("a column name");
            }

            if (_query.Projections.Any(p => p.Column == column))
            {
                throw new GraphQuerySyntaxException($"Column {column} is returned twice", at.Position);
            }

            _query.Projections.Add(new Projection(column, Ref(name), property));
        }
    }
}
