using EdgeProfile.Hub.Api;

namespace EdgeProfile.Hub.Segments;

/// <summary>
/// Evaluates a <see cref="SegmentExpression"/> against a <see cref="GlobalProfile"/>. Texts match ignoring case.
/// A comparison with a value the profile does not have (<c>last_seen_days</c> of a customer never seen, the
/// <c>last_category</c> of one without a category) is false, whatever the operator; <c>not (...)</c> of it is true.
/// </summary>
public static class SegmentEvaluator
{
    /// <summary>True when <paramref name="profile"/> satisfies <paramref name="expression"/> at <paramref name="now"/> (for <c>last_seen_days</c>).</summary>
    public static bool Matches(SegmentExpression expression, GlobalProfile profile, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(expression);
        ArgumentNullException.ThrowIfNull(profile);
        return expression switch
        {
            AndExpression and => Matches(and.Left, profile, now) && Matches(and.Right, profile, now),
            OrExpression or => Matches(or.Left, profile, now) || Matches(or.Right, profile, now),
            NotExpression not => !Matches(not.Operand, profile, now),
            NumberComparison c => Number(c.Field, profile, now) is { } value && Compare(value.CompareTo(c.Value), c.Operator),
            TextComparison c => Text(c.Field, profile) is { } text && (c.Operator switch
            {
                ComparisonOperator.Equal => string.Equals(text, c.Value, StringComparison.OrdinalIgnoreCase),
                ComparisonOperator.NotEqual => !string.Equals(text, c.Value, StringComparison.OrdinalIgnoreCase),
                _ => throw new ArgumentException($"{SegmentSyntax.Name(c.Field)} compares only with = or !=", nameof(expression)),
            }),
            FunctionCall f => Call(f, profile),
            _ => throw new ArgumentException($"unknown segment expression node {expression.GetType().Name}", nameof(expression)),
        };
    }

    /// <summary>The value of a numeric field, or null when the profile has none.</summary>
    public static double? Number(SegmentField field, GlobalProfile profile, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var g = profile.Global;
        return field switch
        {
            SegmentField.Visits7d => g.Visits7d,
            SegmentField.Visits30d => g.Visits30d,
            SegmentField.Spend7d => g.Spend7d,
            SegmentField.Spend30d => g.Spend30d,
            SegmentField.StoresSeen => g.StoresSeen,
            SegmentField.IdentifierCount => profile.Identifiers.Count,
            // Whole days, rounded down: seen 36 hours ago is 1. A last-seen time ahead of the clock (skew) counts as today.
            SegmentField.LastSeenDays => g.LastSeen is { } seen ? Math.Max(0, Math.Floor((now - seen).TotalDays)) : null,
            _ => throw new ArgumentException($"{SegmentSyntax.Name(field)} is not a number", nameof(field)),
        };
    }

    private static string? Text(SegmentField field, GlobalProfile profile) => field switch
    {
        SegmentField.LastCategory => profile.Global.LastCategory,
        _ => throw new ArgumentException($"{SegmentSyntax.Name(field)} is not a text", nameof(field)),
    };

    private static bool Compare(int order, ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => order == 0,
        ComparisonOperator.NotEqual => order != 0,
        ComparisonOperator.Greater => order > 0,
        ComparisonOperator.GreaterOrEqual => order >= 0,
        ComparisonOperator.Less => order < 0,
        ComparisonOperator.LessOrEqual => order <= 0,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    private static bool Call(FunctionCall call, GlobalProfile profile)
    {
        var arg = call.Argument;
        return call.Function switch
        {
            SegmentFunction.HasTag => profile.Tags.Any(t => string.Equals(t.Name, arg, StringComparison.OrdinalIgnoreCase)),
            SegmentFunction.Channel => profile.Global.Channels.Any(c => string.Equals(c, arg, StringComparison.OrdinalIgnoreCase)),
            SegmentFunction.CategoryPrefix => profile.Global.LastCategory?.StartsWith(arg, StringComparison.OrdinalIgnoreCase) == true,
            SegmentFunction.Searched => profile.Searches.Any(s => s.Text.Contains(arg, StringComparison.OrdinalIgnoreCase)),
            _ => throw new ArgumentException($"unknown segment function {call.Function}", nameof(call)),
        };
    }
}
