using System.Globalization;
using System.Text;

namespace EdgeProfile.Hub.Segments;

/// <summary>The names and spellings of the segment expression language, shared by the parser and the canonical text.</summary>
public static class SegmentSyntax
{
    /// <summary>The longest expression accepted, in characters.</summary>
    public const int MaxLength = 4000;

    /// <summary>How deeply <c>not</c> and parentheses may nest.</summary>
    public const int MaxDepth = 64;

    private static readonly string PlainFormat = "0." + new string('#', 340);

    private static readonly (string Name, SegmentField Field)[] Fields =
    [
        ("visits_7d", SegmentField.Visits7d),
        ("visits_30d", SegmentField.Visits30d),
        ("spend_7d", SegmentField.Spend7d),
        ("spend_30d", SegmentField.Spend30d),
        ("stores_seen", SegmentField.StoresSeen),
        ("last_seen_days", SegmentField.LastSeenDays),
        ("last_category", SegmentField.LastCategory),
        ("identifier_count", SegmentField.IdentifierCount),
    ];

    private static readonly (string Name, SegmentFunction Function)[] Functions =
    [
        ("has_tag", SegmentFunction.HasTag),
        ("channel", SegmentFunction.Channel),
        ("category_prefix", SegmentFunction.CategoryPrefix),
        ("searched", SegmentFunction.Searched),
    ];

    private static readonly (string Symbol, ComparisonOperator Operator)[] Operators =
    [
        ("=", ComparisonOperator.Equal),
        ("!=", ComparisonOperator.NotEqual),
        (">", ComparisonOperator.Greater),
        (">=", ComparisonOperator.GreaterOrEqual),
        ("<", ComparisonOperator.Less),
        ("<=", ComparisonOperator.LessOrEqual),
    ];

    /// <summary>The field names, for error messages and help.</summary>
    public static string FieldList => string.Join(", ", Fields.Select(f => f.Name));

    /// <summary>The function names, for error messages and help.</summary>
    public static string FunctionList => string.Join(", ", Functions.Select(f => f.Name + "(\"...\")"));

    /// <summary>True for the one text field, <c>last_category</c>; every other field is a number.</summary>
    public static bool IsText(SegmentField field) => field == SegmentField.LastCategory;

    /// <summary>The field's name in expressions, e.g. <c>spend_30d</c>.</summary>
    public static string Name(SegmentField field) => Fields.First(f => f.Field == field).Name;

    /// <summary>The function's name in expressions, e.g. <c>has_tag</c>.</summary>
    public static string Name(SegmentFunction function) => Functions.First(f => f.Function == function).Name;

    /// <summary>The operator's symbol, e.g. <c>&gt;=</c>.</summary>
    public static string Symbol(ComparisonOperator op) => Operators.First(o => o.Operator == op).Symbol;

    /// <summary>The field named <paramref name="name"/> (lower case), if any.</summary>
    public static SegmentField? FindField(string name) =>
        Array.FindIndex(Fields, f => f.Name == name) is var i and >= 0 ? Fields[i].Field : null;

    /// <summary>The function named <paramref name="name"/> (lower case), if any.</summary>
    public static SegmentFunction? FindFunction(string name) =>
        Array.FindIndex(Functions, f => f.Name == name) is var i and >= 0 ? Functions[i].Function : null;

    /// <summary>The operator spelled <paramref name="symbol"/>, if any.</summary>
    public static ComparisonOperator? FindOperator(string symbol) =>
        Array.FindIndex(Operators, o => o.Symbol == symbol) is var i and >= 0 ? Operators[i].Operator : null;

    /// <summary>A number as the language writes it: invariant, shortest round-trip digits, never an exponent.</summary>
    public static string FormatNumber(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        // The language has no exponent notation: write 1E+20 and 1E-07 out in full.
        return text.Contains('E', StringComparison.Ordinal) ? value.ToString(PlainFormat, CultureInfo.InvariantCulture) : text;
    }

    /// <summary>A string literal: in double quotes, with <c>\"</c> and <c>\\</c> escaped.</summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (var ch in value)
        {
            if (ch is '"' or '\\')
            {
                text.Append('\\');
            }

            text.Append(ch);
        }

        return text.Append('"').ToString();
    }
}
