using System.Globalization;

namespace EdgeProfile.Hub.Segments;

/// <summary>
/// Recursive-descent parser of the segment expression language. Precedence, loosest first: <c>or</c>, <c>and</c>,
/// <c>not</c>; both binary operators associate to the left.
/// <code>
/// expression := and ('or' and)*
/// and        := unary ('and' unary)*
/// unary      := 'not' unary | primary
/// primary    := '(' expression ')' | function '(' string ')' | field operator value
/// </code>
/// Every error is a <see cref="SegmentSyntaxException"/> with the 1-based position of the token it stopped at.
/// </summary>
internal sealed class SegmentParser
{
    private readonly List<SegmentToken> _tokens;
    private int _next;
    private int _depth;

    private SegmentParser(List<SegmentToken> tokens)
    {
        _tokens = tokens;
    }

    private SegmentToken Current => _tokens[_next];

    public static SegmentExpression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > SegmentSyntax.MaxLength)
        {
            throw new SegmentSyntaxException(SegmentSyntax.MaxLength + 1,
                string.Create(CultureInfo.InvariantCulture, $"the expression is longer than {SegmentSyntax.MaxLength} characters"));
        }

        var parser = new SegmentParser(SegmentTokenizer.Tokenize(text));
        var expression = parser.ParseOr();
        if (parser.Current.Kind != SegmentTokenKind.End)
        {
            var token = parser.Current;
            throw token.Kind == SegmentTokenKind.RightParen
                ? new SegmentSyntaxException(token.Position, "')' has no matching '('")
                : new SegmentSyntaxException(token.Position, $"expected 'and', 'or' or the end of the expression, found {token.Describe()}");
        }

        return expression;
    }

    private SegmentExpression ParseOr()
    {
        var left = ParseAnd();
        while (IsKeyword(Current, "or"))
        {
            _next++;
            left = new OrExpression(left, ParseAnd());
        }

        return left;
    }

    private SegmentExpression ParseAnd()
    {
        var left = ParseUnary();
        while (IsKeyword(Current, "and"))
        {
            _next++;
            left = new AndExpression(left, ParseUnary());
        }

        return left;
    }

    private SegmentExpression ParseUnary()
    {
        if (!IsKeyword(Current, "not"))
        {
            return ParsePrimary();
        }

        var not = Take();
        Enter(not);
        var operand = ParseUnary();
        _depth--;
        return new NotExpression(operand);
    }

    private SegmentExpression ParsePrimary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case SegmentTokenKind.LeftParen:
                {
                    _next++;
                    Enter(token);
                    var inner = ParseOr();
                    _depth--;
                    if (Current.Kind != SegmentTokenKind.RightParen)
                    {
                        throw new SegmentSyntaxException(Current.Position,
                            $"expected ')' to close the '(' at {token.Position}, found {Current.Describe()}");
                    }

                    _next++;
                    return inner;
                }

            case SegmentTokenKind.Identifier when IsKeyword(token, "and") || IsKeyword(token, "or"):
                throw new SegmentSyntaxException(token.Position, $"expected a condition before '{token.Text}'");

            case SegmentTokenKind.Identifier:
                _next++;
                if (SegmentSyntax.FindFunction(token.Text) is { } function)
                {
                    return ParseCall(token, function);
                }

                if (SegmentSyntax.FindField(token.Text) is { } field)
                {
                    return ParseComparison(token, field);
                }

                throw new SegmentSyntaxException(token.Position,
                    $"unknown field or function '{token.Text}'; fields: {SegmentSyntax.FieldList}; functions: {SegmentSyntax.FunctionList}");

            case SegmentTokenKind.End:
                throw new SegmentSyntaxException(token.Position,
                    _next == 0 ? "the expression is empty; write a condition, e.g. spend_30d >= 100 and has_tag(\"vip\")" : "expected a condition, found the end of the expression");

            default:
                throw new SegmentSyntaxException(token.Position,
                    $"expected a condition (a field comparison like visits_30d >= 3, a function like has_tag(\"vip\"), 'not' or '('), found {token.Describe()}");
        }
    }

    private FunctionCall ParseCall(SegmentToken name, SegmentFunction function)
    {
        var example = $"{name.Text}(\"{Example(function)}\")";
        if (Current.Kind != SegmentTokenKind.LeftParen)
        {
            throw new SegmentSyntaxException(Current.Position, $"expected '(' after {name.Text}, as in {example}");
        }

        _next++;
        var argument = Current;
        if (argument.Kind != SegmentTokenKind.String)
        {
            throw new SegmentSyntaxException(argument.Position, $"{name.Text} takes one text in double quotes, as in {example}; found {argument.Describe()}");
        }

        if (argument.Text.Length == 0)
        {
            throw new SegmentSyntaxException(argument.Position, $"{name.Text} needs a non-empty text, as in {example}");
        }

        _next++;
        if (Current.Kind != SegmentTokenKind.RightParen)
        {
            throw new SegmentSyntaxException(Current.Position, $"expected ')' after the text of {name.Text}, found {Current.Describe()}");
        }

        _next++;
        return new FunctionCall(function, argument.Text);
    }

    private SegmentExpression ParseComparison(SegmentToken name, SegmentField field)
    {
        var op = Current;
        if (op.Kind != SegmentTokenKind.Operator || SegmentSyntax.FindOperator(op.Text) is not { } comparison)
        {
            throw new SegmentSyntaxException(op.Position, $"expected a comparison (= != > >= < <=) after '{name.Text}', found {op.Describe()}");
        }

        _next++;
        var value = Current;
        if (value.Kind == SegmentTokenKind.End)
        {
            throw new SegmentSyntaxException(value.Position, $"expected a value after '{op.Text}'");
        }

        if (SegmentSyntax.IsText(field))
        {
            if (value.Kind != SegmentTokenKind.String)
            {
                throw new SegmentSyntaxException(value.Position, $"{name.Text} is a text; compare it with a text in double quotes, e.g. {name.Text} = \"Toys\"; found {value.Describe()}");
            }

            if (comparison is not (ComparisonOperator.Equal or ComparisonOperator.NotEqual))
            {
                throw new SegmentSyntaxException(op.Position, $"{name.Text} is a text and compares only with = or != (for a prefix use category_prefix(\"...\"))");
            }

            _next++;
            return new TextComparison(field, comparison, value.Text);
        }

        if (value.Kind != SegmentTokenKind.Number)
        {
            throw new SegmentSyntaxException(value.Position, $"{name.Text} is a number; compare it with a number, e.g. {name.Text} {op.Text} 3; found {value.Describe()}");
        }

        _next++;
        return new NumberComparison(field, comparison, double.Parse(value.Text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture));
    }

    private static string Example(SegmentFunction function) => function switch
    {
        SegmentFunction.HasTag => "vip",
        SegmentFunction.Channel => "app",
        SegmentFunction.CategoryPrefix => "Baby",
        _ => "backpack",
    };

    private static bool IsKeyword(SegmentToken token, string keyword) => token.Kind == SegmentTokenKind.Identifier && token.Text == keyword;

    private SegmentToken Take() => _tokens[_next++];

    private void Enter(SegmentToken token)
    {
        if (++_depth > SegmentSyntax.MaxDepth)
        {
            throw new SegmentSyntaxException(token.Position,
                string.Create(CultureInfo.InvariantCulture, $"the expression nests 'not' and parentheses deeper than {SegmentSyntax.MaxDepth} levels"));
        }
    }
}
