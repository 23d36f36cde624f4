using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Segments;

namespace EdgeProfile.Hub.Tests;

/// <summary>The segment expression language: parser (precedence, errors with positions) and evaluator (every field and function).</summary>
public sealed class SegmentExpressionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly FunctionCall A = new(SegmentFunction.HasTag, "a");
    private static readonly FunctionCall B = new(SegmentFunction.HasTag, "b");
    private static readonly FunctionCall C = new(SegmentFunction.HasTag, "c");

    [Fact]
    public void And_binds_tighter_than_or_and_not_tighter_than_and()
    {
        Assert.Equal(new OrExpression(A, new AndExpression(B, C)), Parse("has_tag(\"a\") or has_tag(\"b\") and has_tag(\"c\")"));
        Assert.Equal(new OrExpression(new AndExpression(A, B), C), Parse("has_tag(\"a\") and has_tag(\"b\") or has_tag(\"c\")"));
        Assert.Equal(new AndExpression(new NotExpression(A), B), Parse("not has_tag(\"a\") and has_tag(\"b\")"));
        Assert.Equal(new NotExpression(new AndExpression(A, B)), Parse("not (has_tag(\"a\") and has_tag(\"b\"))"));
        Assert.Equal(new AndExpression(new OrExpression(A, B), C), Parse("(has_tag(\"a\") or has_tag(\"b\")) and has_tag(\"c\")"));
        Assert.Equal(new NotExpression(new NotExpression(A)), Parse("not not has_tag(\"a\")"));
    }

    [Fact]
    public void Binary_operators_associate_to_the_left()
    {
        Assert.Equal(new AndExpression(new AndExpression(A, B), C), Parse("has_tag(\"a\") and has_tag(\"b\") and has_tag(\"c\")"));
        Assert.Equal(new OrExpression(new OrExpression(A, B), C), Parse("has_tag(\"a\") or has_tag(\"b\") or has_tag(\"c\")"));
    }

    [Fact]
    public void Every_field_operator_and_function_parses_to_data()
    {
        Assert.Equal(new NumberComparison(SegmentField.Visits7d, ComparisonOperator.Equal, 3), Parse("visits_7d = 3"));
        Assert.Equal(new NumberComparison(SegmentField.Visits30d, ComparisonOperator.NotEqual, 0), Parse("visits_30d != 0"));
        Assert.Equal(new NumberComparison(SegmentField.Spend7d, ComparisonOperator.Greater, 49.5), Parse("spend_7d > 49.5"));
        Assert.Equal(new NumberComparison(SegmentField.Spend30d, ComparisonOperator.GreaterOrEqual, 100), Parse("spend_30d >= 100"));
        Assert.Equal(new NumberComparison(SegmentField.StoresSeen, ComparisonOperator.Less, 2), Parse("stores_seen < 2"));
        Assert.Equal(new NumberComparison(SegmentField.LastSeenDays, ComparisonOperator.LessOrEqual, 7), Parse("last_seen_days <= 7"));
        Assert.Equal(new NumberComparison(SegmentField.IdentifierCount, ComparisonOperator.Greater, -1), Parse("identifier_count>-1"));
        Assert.Equal(new TextComparison(SegmentField.LastCategory, ComparisonOperator.Equal, "Toys"), Parse("last_category = \"Toys\""));
        Assert.Equal(new TextComparison(SegmentField.LastCategory, ComparisonOperator.NotEqual, "Toys"), Parse("last_category != \"Toys\""));
        Assert.Equal(new FunctionCall(SegmentFunction.HasTag, "vip"), Parse("has_tag(\"vip\")"));
        Assert.Equal(new FunctionCall(SegmentFunction.Channel, "app"), Parse("channel( \"app\" )"));
        Assert.Equal(new FunctionCall(SegmentFunction.CategoryPrefix, "Baby"), Parse("category_prefix(\"Baby\")"));
        Assert.Equal(new FunctionCall(SegmentFunction.Searched, "backpack"), Parse("searched(\"backpack\")"));
    }

    [Fact]
    public void Keywords_and_names_ignore_case_and_strings_take_escapes()
    {
        Assert.Equal(new AndExpression(new NumberComparison(SegmentField.Visits7d, ComparisonOperator.Greater, 1), new NotExpression(A)),
            Parse("VISITS_7D > 1 AND NOT Has_Tag(\"a\")"));
        Assert.Equal(new FunctionCall(SegmentFunction.Searched, "say \"hi\" \\ bye"), Parse("searched(\"say \\\"hi\\\" \\\\ bye\")"));
    }

    [Theory]
    [InlineData("spend_30d >= 100")]
    [InlineData("has_tag(\"a\") or has_tag(\"b\") and has_tag(\"c\")")]
    [InlineData("(has_tag(\"a\") or has_tag(\"b\")) and not (visits_7d > 1 or last_category = \"Toys & \\\"Games\\\"\")")]
    [InlineData("has_tag(\"a\") and (has_tag(\"b\") and has_tag(\"c\"))")]
    [InlineData("not not searched(\"back pack\") or spend_7d < 0.25")]
    [InlineData("spend_30d > 100000000000000000000 and spend_7d > 0.0000001 and visits_7d > -2.5")]
    public void Canonical_text_parses_back_to_the_same_tree(string text)
    {
        var parsed = Parse(text);
        Assert.Equal(parsed, Parse(parsed.ToString()));
        Assert.Equal(parsed.ToString(), Parse(parsed.ToString()).ToString());
    }

    [Fact]
    public void Canonical_text_writes_minimal_parentheses()
    {
        Assert.Equal("has_tag(\"a\") or has_tag(\"b\") and has_tag(\"c\")", Parse("(has_tag(\"a\")) or (has_tag(\"b\") and has_tag(\"c\"))").ToString());
        Assert.Equal("(has_tag(\"a\") or has_tag(\"b\")) and not (spend_30d >= 100 or last_category = \"Toys\")",
            Parse("(has_tag(\"a\") or has_tag(\"b\")) and not (spend_30d>=100 or last_category=\"Toys\")").ToString());
        Assert.Equal("spend_30d > 100000000000000000000", Parse("spend_30d > 100000000000000000000").ToString());
    }

    [Theory]
    [InlineData("spend_30d >= ", 14, "expected a value after '>='")]
    [InlineData("", 1, "the expression is empty")]
    [InlineData("   ", 4, "the expression is empty")]
    [InlineData("foo > 1", 1, "unknown field or function 'foo'")]
    [InlineData("visits_30d > \"x\"", 14, "visits_30d is a number")]
    [InlineData("visits_30d 3", 12, "expected a comparison (= != > >= < <=) after 'visits_30d'")]
    [InlineData("visits_30d > 30d", 14, "'30d' is not a number")]
    [InlineData("visits_30d > 1.2.3", 14, "'1.2.3' is not a number")]
    [InlineData("visits_30d == 1", 12, "'==' is not an operator")]
    [InlineData("visits_30d > 1 && has_tag(\"a\")", 16, "use 'and'")]
    [InlineData("visits_30d > 1 has_tag(\"a\")", 16, "expected 'and', 'or' or the end of the expression, found 'has_tag'")]
    [InlineData("visits_30d > 1 and", 19, "expected a condition, found the end of the expression")]
    [InlineData("and visits_30d > 1", 1, "expected a condition before 'and'")]
    [InlineData("(visits_30d > 1", 16, "expected ')' to close the '(' at 1")]
    [InlineData("visits_30d > 1)", 15, "')' has no matching '('")]
    [InlineData("last_category > \"a\"", 15, "compares only with = or !=")]
    [InlineData("last_category = 3", 17, "last_category is a text")]
    [InlineData("has_tag", 8, "expected '(' after has_tag")]
    [InlineData("has_tag(vip)", 9, "has_tag takes one text in double quotes")]
    [InlineData("has_tag(\"vip\"", 14, "expected ')' after the text of has_tag")]
    [InlineData("has_tag(\"\")", 9, "needs a non-empty text")]
    [InlineData("channel(\"app\", \"pos\")", 14, "expected ')' after the text of channel")]
    [InlineData("searched(\"back", 10, "no closing '\"'")]
    [InlineData("has_tag('vip')", 9, "double quotes")]
    [InlineData("has_tag(\"a\\b\")", 11, "'\\' in a text must be followed by")]
    [InlineData("! has_tag(\"a\")", 1, "use 'not'")]
    [InlineData("visits_30d > 1 and # 2", 20, "unexpected character '#'")]
    public void Errors_name_the_position(string text, int position, string reason)
    {
        var error = Assert.Throws<SegmentSyntaxException>(() => SegmentExpression.Parse(text));
        Assert.Equal(position, error.Position);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.StartsWith($"at {position}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_and_length_are_bounded()
    {
        var deep = new string('(', 65) + "visits_7d > 1" + new string(')', 65);
        var error = Assert.Throws<SegmentSyntaxException>(() => SegmentExpression.Parse(deep));
        Assert.Equal(65, error.Position);
        Assert.Contains("deeper than 64", error.Reason, StringComparison.Ordinal);
        Assert.NotNull(SegmentExpression.Parse(new string('(', 64) + "visits_7d > 1" + new string(')', 64)));

        var nots = string.Concat(Enumerable.Repeat("not ", 65)) + "visits_7d > 1";
        Assert.Contains("deeper than 64", Assert.Throws<SegmentSyntaxException>(() => SegmentExpression.Parse(nots)).Reason, StringComparison.Ordinal);

        var longText = string.Join(" or ", Enumerable.Repeat("visits_7d > 1", 300));
        Assert.Equal(SegmentSyntax.MaxLength + 1, Assert.Throws<SegmentSyntaxException>(() => SegmentExpression.Parse(longText)).Position);
    }

    [Fact]
    public void Numeric_fields_evaluate_against_the_global_features()
    {
        var p = Profile();
        Assert.True(Matches("visits_7d = 2 and visits_30d = 5", p));
        Assert.True(Matches("spend_7d = 20.5 and spend_30d >= 120.25 and spend_30d < 120.26", p));
        Assert.True(Matches("stores_seen = 2 and identifier_count = 3", p));
        Assert.False(Matches("visits_30d > 5", p));
        Assert.True(Matches("visits_30d >= 5 and visits_30d <= 5 and visits_30d != 4", p));
    }

    [Fact]
    public void Last_seen_days_counts_whole_days_before_the_evaluation_time()
    {
        // Seen 36 hours before Now.
        var p = Profile();
        Assert.True(Matches("last_seen_days = 1", p));
        Assert.True(Matches("last_seen_days = 0", p, Now - TimeSpan.FromHours(13)));
        Assert.True(Matches("last_seen_days = 30", p, Now + TimeSpan.FromDays(29)));
        Assert.True(Matches("last_seen_days = 0", p, Now - TimeSpan.FromDays(10))); // a clock behind the store's counts as today

        // Never seen: a comparison is false whatever the operator; its negation is true.
        var never = p with { Global = p.Global with { LastSeen = null } };
        Assert.False(Matches("last_seen_days > 30", never));
        Assert.False(Matches("last_seen_days <= 30", never));
        Assert.True(Matches("not last_seen_days <= 30", never));
    }

    [Fact]
    public void Last_category_and_category_prefix_compare_text_ignoring_case()
    {
        var p = Profile();
        Assert.True(Matches("last_category = \"baby & toddler > strollers\"", p));
        Assert.True(Matches("last_category != \"Toys\"", p));
        Assert.True(Matches("category_prefix(\"Baby\") and category_prefix(\"baby & toddler >\")", p));
        Assert.False(Matches("category_prefix(\"Toddler\")", p));

        var none = p with { Global = p.Global with { LastCategory = null } };
        Assert.False(Matches("last_category = \"Toys\"", none));
        Assert.False(Matches("last_category != \"Toys\"", none));
        Assert.False(Matches("category_prefix(\"Baby\")", none));
    }

    [Fact]
    public void Has_tag_channel_and_searched_look_at_tags_channels_and_recent_searches()
    {
        var p = Profile();
        Assert.True(Matches("has_tag(\"vip\") and has_tag(\"STROLLER-intent\")", p));
        Assert.False(Matches("has_tag(\"vi\")", p));
        Assert.True(Matches("channel(\"app\") and channel(\"POS\")", p));
        Assert.False(Matches("channel(\"web\")", p));
        Assert.True(Matches("searched(\"backpack\")", p)); // "Kids Backpack 20L"
        Assert.True(Matches("searched(\"20l\")", p));
        Assert.False(Matches("searched(\"lunchbox\")", p));
    }

    [Fact]
    public void Boolean_operators_combine_the_conditions()
    {
        var p = Profile();
        Assert.True(Matches("has_tag(\"nope\") or spend_30d > 100", p));
        Assert.False(Matches("has_tag(\"nope\") and spend_30d > 100", p));
        Assert.True(Matches("not has_tag(\"nope\") and (channel(\"web\") or channel(\"app\"))", p));
        Assert.False(Matches("not (has_tag(\"vip\") or channel(\"web\"))", p));
    }

    private static SegmentExpression Parse(string text) => SegmentExpression.Parse(text);

    private static bool Matches(string text, GlobalProfile profile, DateTimeOffset? now = null) =>
        SegmentEvaluator.Matches(Parse(text), profile, now ?? Now);

    private static GlobalProfile Profile()
    {
        var seen = Now - TimeSpan.FromHours(36);
        return new GlobalProfile(
            "ep:0123456789abcdef",
            ["app:u-1", "device:d-1", "loyalty:L-1"],
            [],
            new GlobalFeatures(2, 5, 20.5, 120.25, seen, "Baby & Toddler > Strollers", ["app", "pos"], 2),
            [new TagReason("stroller-intent", "reported by store-001"), new TagReason("vip", "reported by store-002")],
            [],
            [])
        {
            Searches = [new StoreSearchEntry("cdn-01", "Kids Backpack 20L", seen, "app")],
        };
    }
}
