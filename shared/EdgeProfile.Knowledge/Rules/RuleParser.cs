using System.Globalization;
using System.Text;

namespace EdgeProfile.Knowledge.Rules;

/// <summary>
/// Parses the operators' rule file (syntax only; <see cref="RuleCompiler"/> adds the checks). The format:
/// <list type="bullet">
/// <item><c>#</c> starts a comment to the end of the line. Whitespace and line breaks are free inside clauses.</item>
/// <item>Terms: a <b>variable</b> starts with an upper-case letter or <c>_</c> (<c>_</c> alone is anonymous: each
/// occurrence is a fresh variable, and in a negated atom it means "any value"); <b>constants</b> are numbers
/// (<c>42</c>, <c>-1.5</c>, <c>3e2</c>; all doubles), quoted strings (<c>"Baby &amp; Kids"</c>, escapes <c>\"</c>
/// <c>\\</c> <c>\n</c> <c>\t</c>) and bare symbols (lower-case letter first, then letters, digits, <c>_</c>); a symbol
/// and the string with the same text are the same constant.</item>
/// <item>Atom: <c>pred(t1, ..., tn)</c> or a bare <c>pred</c> (arity 0); a predicate is a lower-case identifier and is
/// used with one arity throughout.</item>
/// <item>Fact: <c>pred(c1, ..., cn).</c> (ground). Rule: <c>head :- l1, ..., ln.</c> where a body literal is an atom,
/// <c>not atom</c> (negation as failure, stratified), a comparison <c>t1 op t2</c> with <c>op</c> one of
/// <c>= != &lt; &lt;= &gt; &gt;=</c> (no arithmetic; numbers numerically, texts ordinally), or an aggregate
/// <c>N = count(X, ... : l1, ..., lk)</c> / <c>S = sum(V, X, ... : l1, ..., lk)</c> (distinct tuples of the listed
/// variables, grouped by the variables bound before it; an empty group gives 0).</item>
/// <item>Metadata lines before a rule: <c>@rule ID</c> (symbol or string), <c>@version N</c> (integer, default 1),
/// <c>@confidence P</c> (a number in (0, 1], default none), <c>@en "text"</c>, <c>@zh "text"</c>. A <b>tag rule</b> (head <c>tag(Customer, tag_name)</c>) needs all of
/// <c>@rule</c>, <c>@en</c> and <c>@zh</c>; other rules may carry them. Rules without <c>@rule</c> get the id
/// <c>rule@LINE</c>.</item>
/// <item>Online features enter as facts <c>feature(Customer, feature_name, Value)</c>; tags leave as <c>tag(Customer, Tag)</c>.</item>
/// </list>
/// Example:
/// <code>
/// # first purchase in Baby within 30 days
/// @rule new_parent
/// @version 3
/// @en "Bought baby products in the last 30 days for the first time"
/// @zh "近30天首次购买母婴商品"
/// tag(C, new_parent) :- feature(C, baby_purchases_30d, N), N > 0, feature(C, baby_purchases_lifetime, L), L = N.
/// </code>
/// </summary>
public static class RuleParser
{
    /// <summary>Parses <paramref name="text"/> into clauses; syntax errors (with line and column) are collected, and
    /// parsing resumes after the next <c>.</c>.</summary>
    public static ParsedRuleFile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new Parser(Lexer.Tokenize(text));
        return parser.ParseFile();
    }

    internal static Fact ParseFact(string text)
    {
        var parsed = Parse(text.TrimEnd().EndsWith('.') ? text : text + ".");
        if (parsed.Errors.Count > 0)
        {
            throw new FormatException(parsed.Errors[0].ToString());
        }

        if (parsed.Clauses.Count != 1 || parsed.Clauses[0].Body is not null)
        {
            throw new FormatException("Expected exactly one fact: " + text);
        }

        var head = parsed.Clauses[0].Head;
        if (head.Terms.Any(t => t.IsVariable))
        {
            throw new FormatException("A fact must be ground: " + text);
        }

        return Fact.Own(head.Predicate, head.Terms.Select(t => t.Constant!).ToArray());
    }

    private enum TokenKind
    {
        End,
        Identifier,
        Variable,
        String,
        Number,
        LeftParen,
        RightParen,
        Comma,
        Dot,
        If,
        Colon,
        Operator,
        At,
        Error,
    }

    private sealed record Token(TokenKind Kind, string Text, int Line, int Column, double Number = 0)
    {
        public string Describe() => Kind switch
        {
            TokenKind.End => "end of file",
            TokenKind.String => "string " + Value.Quote(Text),
            _ => "'" + Text + "'",
        };
    }

    private sealed class Lexer
    {
        private readonly string s;
        private readonly List<Token> tokens = [];
        private int pos;
        private int line = 1;
        private int lineStart;

        private Lexer(string s) => this.s = s;

        public static List<Token> Tokenize(string text)
        {
            var lexer = new Lexer(text);
            lexer.Run();
            return lexer.tokens;
        }

        private int Col => pos - lineStart + 1;

        private void Run()
        {
            while (true)
            {
                SkipSpace();
                if (pos >= s.Length)
                {
                    tokens.Add(new Token(TokenKind.End, "", line, Col));
                    return;
                }

                var c = s[pos];
                int l = line, col = Col, start = pos;
                if (char.IsAsciiLetter(c) || c == '_')
                {
                    while (pos < s.Length && (char.IsAsciiLetterOrDigit(s[pos]) || s[pos] == '_'))
                    {
                        pos++;
                    }

                    var word = s[start..pos];
                    tokens.Add(new Token(char.IsAsciiLetterLower(c) ? TokenKind.Identifier : TokenKind.Variable, word, l, col));
                }
                else if (char.IsAsciiDigit(c) || (c == '-' && pos + 1 < s.Length && char.IsAsciiDigit(s[pos + 1])))
                {
                    pos++;
                    Digits();
                    if (pos + 1 < s.Length && s[pos] == '.' && char.IsAsciiDigit(s[pos + 1]))
                    {
                        pos++;
                        Digits();
                    }

                    if (pos < s.Length && (s[pos] == 'e' || s[pos] == 'E'))
                    {
                        var save = pos;
                        pos++;
                        if (pos < s.Length && (s[pos] == '+' || s[pos] == '-'))
                        {
                            pos++;
                        }

                        if (pos < s.Length && char.IsAsciiDigit(s[pos]))
                        {
                            Digits();
                        }
                        else
                        {
                            pos = save;
                        }
                    }

                    var text = s[start..pos];
                    tokens.Add(new Token(TokenKind.Number, text, l, col, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)));
                }
                else if (c == '"')
                {
                    String(l, col);
                }
                else
                {
                    pos++;
                    var next = pos < s.Length ? s[pos] : '\0';
                    switch (c)
                    {
                        case '(': tokens.Add(new Token(TokenKind.LeftParen, "(", l, col)); break;
                        case ')': tokens.Add(new Token(TokenKind.RightParen, ")", l, col)); break;
                        case ',': tokens.Add(new Token(TokenKind.Comma, ",", l, col)); break;
                        case '.': tokens.Add(new Token(TokenKind.Dot, ".", l, col)); break;
                        case '@': tokens.Add(new Token(TokenKind.At, "@", l, col)); break;
                        case '=': tokens.Add(new Token(TokenKind.Operator, "=", l, col)); break;
                        case ':' when next == '-':
                            pos++;
                            tokens.Add(new Token(TokenKind.If, ":-", l, col));
                            break;
                        case ':': tokens.Add(new Token(TokenKind.Colon, ":", l, col)); break;
                        case '!' when next == '=':
                            pos++;
                            tokens.Add(new Token(TokenKind.Operator, "!=", l, col));
                            break;
                        case '<' or '>' when next == '=':
                            pos++;
                            tokens.Add(new Token(TokenKind.Operator, c + "=", l, col));
                            break;
                        case '<' or '>': tokens.Add(new Token(TokenKind.Operator, c.ToString(), l, col)); break;
                        default: tokens.Add(new Token(TokenKind.Error, "unexpected character '" + c + "'", l, col)); break;
                    }
                }
            }
        }

        private void Digits()
        {
            while (pos < s.Length && char.IsAsciiDigit(s[pos]))
            {
                pos++;
            }
        }

        private void String(int l, int col)
        {
            pos++;
            var sb = new StringBuilder();
            while (true)
            {
                if (pos >= s.Length || s[pos] == '\n')
                {
                    tokens.Add(new Token(TokenKind.Error, "unterminated string", l, col));
                    return;
                }

                var c = s[pos++];
                if (c == '"')
                {
                    tokens.Add(new Token(TokenKind.String, sb.ToString(), l, col));
                    return;
                }

                if (c == '\\' && pos < s.Length)
                {
                    var e = s[pos++];
                    sb.Append(e switch { 'n' => '\n', 't' => '\t', _ => e });
                }
                else
                {
                    sb.Append(c);
                }
            }
        }

        private void SkipSpace()
        {
            while (pos < s.Length)
            {
                var c = s[pos];
                if (c == '\n')
                {
                    pos++;
                    line++;
                    lineStart = pos;
                }
                else if (char.IsWhiteSpace(c))
                {
                    pos++;
                }
                else if (c == '#')
                {
                    while (pos < s.Length && s[pos] != '\n')
                    {
                        pos++;
                    }
                }
                else
                {
                    return;
                }
            }
        }
    }

    private sealed class SyntaxException(Token at, string message) : Exception(message)
    {
        public Token At { get; } = at;
    }

    private sealed class Parser(List<Token> tokens)
    {
        private readonly List<ParsedClause> clauses = [];
        private readonly List<CompileError> errors = [];
        private readonly List<ParsedDirective> pending = [];
        private int pos;
        private int anonymous;

        private Token Peek(int ahead = 0) => tokens[Math.Min(pos + ahead, tokens.Count - 1)];

        private Token Next() => tokens[Math.Min(pos++, tokens.Count - 1)];

        public ParsedRuleFile ParseFile()
        {
            while (Peek().Kind != TokenKind.End)
            {
                var startPos = pos;
                var start = Peek();
                var directive = start.Kind == TokenKind.At;
                try
                {
                    if (directive)
                    {
                        Directive();
                    }
                    else
                    {
                        Clause();
                    }
                }
                catch (SyntaxException e)
                {
                    errors.Add(new CompileError(CompileErrorKind.Syntax, e.At.Line, e.At.Column, e.Message));
                    pending.Clear();
                    pos = startPos + 1;
                    if (directive)
                    {
                        while (Peek().Kind != TokenKind.End && Peek().Line == start.Line)
                        {
                            pos++;
                        }
                    }
                    else
                    {
                        while (Peek().Kind is not (TokenKind.End or TokenKind.Dot))
                        {
                            pos++;
                        }

                        if (Peek().Kind == TokenKind.Dot)
                        {
                            pos++;
                        }
                    }
                }
            }

            foreach (var d in pending)
            {
                errors.Add(new CompileError(CompileErrorKind.Metadata, d.Line, d.Column, "@" + d.Name + " is not followed by a rule"));
            }

            return new ParsedRuleFile(clauses, errors);
        }

        private static SyntaxException Expected(string what, Token found) =>
            new(found, found.Kind == TokenKind.Error ? found.Text : "expected " + what + " but found " + found.Describe());

        private void Directive()
        {
            var at = Next();
            var name = Next();
            if (name.Kind != TokenKind.Identifier || name.Line != at.Line || name.Column != at.Column + 1)
            {
                throw Expected("a metadata name right after '@' (@rule, @version, @confidence, @en, @zh)", name);
            }

            var value = Next();
            if (value.Line != at.Line || value.Kind is not (TokenKind.Identifier or TokenKind.String or TokenKind.Number or TokenKind.Variable))
            {
                throw Expected("a value for @" + name.Text + " on the same line", value);
            }

            pending.Add(new ParsedDirective(name.Text, value.Text, value.Kind == TokenKind.Number, at.Line, at.Column, value.Line, value.Column));
        }

        private void Clause()
        {
            var head = Atom();
            var next = Next();
            List<Literal>? body = null;
            if (next.Kind == TokenKind.If)
            {
                body = [];
                do
                {
                    body.Add(Literal(allowAggregate: true));
                    next = Next();
                }
                while (next.Kind == TokenKind.Comma);

                if (next.Kind != TokenKind.Dot)
                {
                    throw Expected("',' or '.' after a body literal", next);
                }
            }
            else if (next.Kind != TokenKind.Dot)
            {
                throw Expected("':-' or '.' after the head", next);
            }

            clauses.Add(new ParsedClause(head, body, [.. pending], head.Line, head.Column));
            pending.Clear();
        }

        private Literal Literal(bool allowAggregate)
        {
            var t = Peek();
            if (t.Kind == TokenKind.Identifier && t.Text == "not" && Peek(1).Kind == TokenKind.Identifier)
            {
                pos++;
                var atom = Atom();
                return new AtomLiteral(atom, negated: true, t.Line, t.Column);
            }

            if (t.Kind == TokenKind.Variable && Peek(1).Kind == TokenKind.Operator && Peek(1).Text == "="
                && Peek(2).Kind == TokenKind.Identifier && Peek(2).Text is "count" or "sum" && Peek(3).Kind == TokenKind.LeftParen)
            {
                if (!allowAggregate)
                {
                    throw new SyntaxException(t, "aggregates cannot be nested");
                }

                return Aggregate();
            }

            if (t.Kind == TokenKind.Identifier && Peek(1).Kind != TokenKind.Operator)
            {
                var atom = Atom();
                return new AtomLiteral(atom, negated: false, t.Line, t.Column);
            }

            if (t.Kind is TokenKind.Identifier or TokenKind.Variable or TokenKind.String or TokenKind.Number)
            {
                var left = Term();
                var op = Next();
                if (op.Kind != TokenKind.Operator)
                {
                    throw Expected("a comparison operator (= != < <= > >=)", op);
                }

                var right = Term();
                return new ComparisonLiteral(left, ParseOperator(op.Text), right, t.Line, t.Column);
            }

            throw Expected("a body literal", t);
        }

        private AggregateLiteral Aggregate()
        {
            var resultToken = Peek();
            var result = Term();
            pos++; // '='
            var function = Next();
            pos++; // '('
            var targets = new List<Term>();
            while (true)
            {
                var v = Peek();
                if (v.Kind != TokenKind.Variable)
                {
                    throw Expected("a variable to " + function.Text, v);
                }

                targets.Add(Term());
                var sep = Next();
                if (sep.Kind == TokenKind.Colon)
                {
                    break;
                }

                if (sep.Kind != TokenKind.Comma)
                {
                    throw Expected("',' or ':' in " + function.Text + "(...)", sep);
                }
            }

            var body = new List<Literal>();
            while (true)
            {
                body.Add(Literal(allowAggregate: false));
                var sep = Next();
                if (sep.Kind == TokenKind.RightParen)
                {
                    break;
                }

                if (sep.Kind != TokenKind.Comma)
                {
                    throw Expected("',' or ')' in " + function.Text + "(...)", sep);
                }
            }

            return new AggregateLiteral(result, function.Text == "count" ? AggregateFunction.Count : AggregateFunction.Sum, targets, body, resultToken.Line, resultToken.Column);
        }

        private static ComparisonOperator ParseOperator(string text) => text switch
        {
            "=" => ComparisonOperator.Equal,
            "!=" => ComparisonOperator.NotEqual,
            "<" => ComparisonOperator.Less,
            "<=" => ComparisonOperator.LessOrEqual,
            ">" => ComparisonOperator.Greater,
            _ => ComparisonOperator.GreaterOrEqual,
        };

        private Atom Atom()
        {
            var name = Next();
            if (name.Kind != TokenKind.Identifier)
            {
                throw Expected("a predicate name (lower-case identifier)", name);
            }

            if (name.Text == "not")
            {
                throw new SyntaxException(name, "'not' is a keyword and cannot be a predicate name");
            }

            var terms = new List<Term>();
            if (Peek().Kind == TokenKind.LeftParen)
            {
                pos++;
                while (true)
                {
                    terms.Add(Term());
                    var sep = Next();
                    if (sep.Kind == TokenKind.RightParen)
                    {
                        break;
                    }

                    if (sep.Kind != TokenKind.Comma)
                    {
                        throw Expected("',' or ')' in the arguments of " + name.Text, sep);
                    }
                }
            }

            return new Atom(name.Text, terms, name.Line, name.Column);
        }

        private Term Term()
        {
            var t = Next();
            return t.Kind switch
            {
                TokenKind.Variable when t.Text == "_" => Rules.Term.Var("_#" + (anonymous++).ToString(CultureInfo.InvariantCulture), t.Line, t.Column),
                TokenKind.Variable => Rules.Term.Var(t.Text, t.Line, t.Column),
                TokenKind.Identifier when t.Text == "not" => throw new SyntaxException(t, "'not' is a keyword and cannot be a constant; quote it"),
                TokenKind.Identifier or TokenKind.String => Rules.Term.Const(Value.Of(t.Text), t.Line, t.Column),
                TokenKind.Number => Rules.Term.Const(Value.Of(t.Number), t.Line, t.Column),
                _ => throw Expected("a term (variable, symbol, string or number)", t),
            };
        }
    }
}

/// <summary>The result of <see cref="RuleParser.Parse"/>: clauses in file order and syntax errors.</summary>
public sealed record ParsedRuleFile(IReadOnlyList<ParsedClause> Clauses, IReadOnlyList<CompileError> Errors);

/// <summary>One parsed clause: a fact (no body) or a rule, with the metadata lines before it.</summary>
public sealed record ParsedClause(Atom Head, IReadOnlyList<Literal>? Body, IReadOnlyList<ParsedDirective> Directives, int Line, int Column);

/// <summary>A metadata line <c>@Name Value</c>.</summary>
public sealed record ParsedDirective(string Name, string Value, bool IsNumber, int Line, int Column, int ValueLine, int ValueColumn);
