namespace EdgeProfile.Hub.Segments;

/// <summary>
/// A parsed segment rule: a tree of immutable records, kept as data so that other consumers (a rules engine, a query
/// planner) can walk it; <see cref="SegmentEvaluator"/> evaluates it against a profile. Records compare by value, and
/// <see cref="object.ToString"/> gives canonical text that <see cref="Parse"/> reads back to an equal tree.
/// </summary>
public abstract record SegmentExpression
{
    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="SegmentSyntaxException">The text is not a valid expression; the message names the position.</exception>
    public static SegmentExpression Parse(string text) => SegmentParser.Parse(text);

    /// <summary>How tightly the node binds when written out: or 1, and 2, everything else 3.</summary>
    internal virtual int Precedence => 3;

    /// <summary>The operand's text, in parentheses when it binds looser than <paramref name="context"/> (or as loose, on the right).</summary>
    private protected static string Wrap(SegmentExpression operand, int context, bool right) =>
        operand.Precedence < context || (right && operand.Precedence == context) ? $"({operand})" : operand.ToString();
}

/// <summary><c>left and right</c>.</summary>
public sealed record AndExpression(SegmentExpression Left, SegmentExpression Right) : SegmentExpression
{
    internal override int Precedence => 2;

    /// <inheritdoc />
    public override string ToString() => $"{Wrap(Left, 2, false)} and {Wrap(Right, 2, true)}";
}

/// <summary><c>left or right</c>.</summary>
public sealed record OrExpression(SegmentExpression Left, SegmentExpression Right) : SegmentExpression
{
    internal override int Precedence => 1;

    /// <inheritdoc />
    public override string ToString() => $"{Wrap(Left, 1, false)} or {Wrap(Right, 1, true)}";
}

/// <summary><c>not operand</c>.</summary>
public sealed record NotExpression(SegmentExpression Operand) : SegmentExpression
{
    /// <inheritdoc />
    public override string ToString() => "not " + Wrap(Operand, 3, false);
}

/// <summary>A numeric field compared with a number, e.g. <c>spend_30d &gt;= 100</c>.</summary>
public sealed record NumberComparison(SegmentField Field, ComparisonOperator Operator, double Value) : SegmentExpression
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{SegmentSyntax.Name(Field)} {SegmentSyntax.Symbol(Operator)} {SegmentSyntax.FormatNumber(Value)}";
}

/// <summary>A text field compared with a string (<c>=</c> or <c>!=</c>, ignoring case), e.g. <c>last_category = "Toys"</c>.</summary>
public sealed record TextComparison(SegmentField Field, ComparisonOperator Operator, string Value) : SegmentExpression
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{SegmentSyntax.Name(Field)} {SegmentSyntax.Symbol(Operator)} {SegmentSyntax.Quote(Value)}";
}

/// <summary>A function of one string, e.g. <c>has_tag("vip")</c>.</summary>
public sealed record FunctionCall(SegmentFunction Function, string Argument) : SegmentExpression
{
    /// <inheritdoc />
    public override string ToString() => $"{SegmentSyntax.Name(Function)}({SegmentSyntax.Quote(Argument)})";
}
