using EdgeProfile.Knowledge.Rules;

namespace EdgeProfile.Knowledge.Tests.Rules;

public sealed class RuleCompilerTests
{
    private static CompileError SingleError(string text, ISet<string>? known = null)
    {
        var result = RuleCompiler.Compile(text, known);
        Assert.False(result.Success);
        Assert.Null(result.RuleSet);
        return Assert.Single(result.Errors);
    }

    [Fact]
    public void Syntax_error_points_to_line_and_column()
    {
        var error = SingleError("# comment\np(a).\nq(X) :- p(X) r(X).\n");
        Assert.Equal(CompileErrorKind.Syntax, error.Kind);
        Assert.Equal(3, error.Line);
        Assert.Equal(14, error.Column);
        Assert.Contains("expected ',' or '.'", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("line 3, column 14: ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parsing_resumes_after_a_syntax_error()
    {
        var result = RuleCompiler.Compile("p(a) :- .\nq(b).\nr(\"open\n");
        Assert.False(result.Success);
        Assert.Equal(2, result.Errors.Count);
        Assert.Equal((1, 9), (result.Errors[0].Line, result.Errors[0].Column));
        Assert.Equal((3, 3), (result.Errors[1].Line, result.Errors[1].Column));
        Assert.Contains("unterminated string", result.Errors[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_feature_is_refused_only_when_known_features_are_given()
    {
        const string text = "big(C) :- feature(C, spend_30d, S), S > 5000.\nbigger(C) :-\n    feature(C, spend_31d, S), S > 9000.";
        var known = new HashSet<string> { "spend_30d" };
        var error = SingleError(text, known);
        Assert.Equal(CompileErrorKind.UnknownFeature, error.Kind);
        Assert.Equal((3, 16), (error.Line, error.Column));
        Assert.Contains("spend_31d", error.Message, StringComparison.Ordinal);
        Assert.True(RuleCompiler.Compile(text).Success);
    }

    [Theory]
    [InlineData("p(X, Y) :- q(X).", "Y", 1, 6)]
    [InlineData("p(X) :- q(X), not r(X, Y).", "Y", 1, 24)]
    [InlineData("p(X) :- q(X),\n  Y > 3.", "Y", 2, 3)]
    [InlineData("p(X, N) :- q(X), N = count(Z : r(Y, Z)), Y > 1.", "Y", 1, 34)]
    [InlineData("p(X).", "X", 1, 3)]
    public void Unsafe_variables_are_refused(string text, string variable, int line, int column)
    {
        var error = SingleError(text);
        Assert.Equal(CompileErrorKind.UnsafeVariable, error.Kind);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.StartsWith("unsafe variable " + variable + " ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Anonymous_variable_under_negation_is_safe()
    {
        Assert.True(RuleCompiler.Compile("p(X) :- q(X), not r(X, _).").Success);
    }

    [Fact]
    public void Cycle_through_negation_names_the_predicates_and_the_line()
    {
        var error = SingleError("q(a).\np(X) :- q(X), not r(X).\nr(X) :- q(X), not p(X).");
        Assert.Equal(CompileErrorKind.NegationCycle, error.Kind);
        Assert.Equal(2, error.Line);
        Assert.Contains("p -> not r -> p", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cycle_through_an_aggregate_is_refused()
    {
        var error = SingleError("n(X, N) :- base(X), N = count(Y : m(X, Y)).\nm(X, Y) :- n(X, Y).");
        Assert.Equal(CompileErrorKind.NegationCycle, error.Kind);
        Assert.Contains("n -> not m -> n", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tag_rule_without_chinese_text_is_refused()
    {
        var error = SingleError("@rule vip\n@en \"VIP\"\ntag(C, vip) :- feature(C, spend_30d, S), S > 5000.");
        Assert.Equal(CompileErrorKind.MissingText, error.Kind);
        Assert.Equal(3, error.Line);
        Assert.Contains("@zh", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tag_rule_without_any_metadata_reports_each_missing_line()
    {
        var result = RuleCompiler.Compile("tag(C, vip) :- customer(C).");
        Assert.Equal(3, result.Errors.Count);
        Assert.All(result.Errors, e => Assert.Equal(CompileErrorKind.MissingText, e.Kind));
    }

    [Fact]
    public void Duplicate_rule_id_points_to_the_second_declaration()
    {
        var error = SingleError("@rule a\np(X) :- q(X).\n\n@rule a\nr(X) :- q(X).");
        Assert.Equal(CompileErrorKind.DuplicateRuleId, error.Kind);
        Assert.Equal((4, 1), (error.Line, error.Column));
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Arity_mismatch_and_bad_metadata_are_refused()
    {
        Assert.Equal(CompileErrorKind.ArityMismatch, SingleError("p(a).\nq(X) :- p(X, X).").Kind);
        Assert.Equal(CompileErrorKind.Metadata, SingleError("@colour red\np(X) :- q(X).").Kind);
        Assert.Equal(CompileErrorKind.Metadata, SingleError("@version x\np(X) :- q(X).").Kind);
        Assert.Equal(CompileErrorKind.Metadata, SingleError("@rule a\np(a).").Kind);
    }

    [Fact]
    public void Metadata_is_kept_per_rule_id()
    {
        var result = RuleCompiler.Compile("""
            @rule new_parent
            @version 3
            @en "Bought baby products in the last 30 days for the first time"
            @zh "近30天首次购买母婴商品"
            tag(C, new_parent) :- feature(C, baby_purchases_30d, N), N > 0, feature(C, baby_purchases_lifetime, L), L = N.
            helper(C) :- feature(C, x, _).
            """);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        var meta = result.RuleSet!.MetadataFor("new_parent")!;
        Assert.Equal(new RuleMetadata("new_parent", 3, "Bought baby products in the last 30 days for the first time", "近30天首次购买母婴商品", 5, "new_parent"), meta);
        string[] ids = ["new_parent", "rule@6"];
        Assert.Equal(ids, result.RuleSet.Rules.Select(r => r.Id));
        Assert.Single(result.RuleSet.Metadata);
    }

    [Fact]
    public void Confidence_metadata_is_parsed_and_exposed()
    {
        const string text = """
            @rule new_parent
            @version 2
            @confidence 0.8
            @en "Parent"
            @zh "父母"
            tag(C, new_parent) :- feature(C, baby, N), N > 0.

            @rule senior
            @en "Senior"
            @zh "长者"
            tag(C, senior) :- feature(C, age, A), A >= 65.

            @rule sure
            @confidence 1
            helper(C) :- feature(C, x, _).
            """;
        var result = RuleCompiler.Compile(text);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        Assert.Equal(0.8, result.RuleSet!.MetadataFor("new_parent")!.Confidence);
        Assert.Null(result.RuleSet.MetadataFor("senior")!.Confidence);
        Assert.Equal(1.0, result.RuleSet.MetadataFor("sure")!.Confidence);
        Assert.Equal(2, result.RuleSet.MetadataFor("new_parent")!.Version);

        var set = TagRuleSet.Compile(text, null, out var errors)!;
        Assert.Empty(errors);
        Assert.Equal(0.8, set.Rules.Single(r => r.Id == "new_parent").Confidence);
        Assert.Null(set.Rules.Single(r => r.Id == "senior").Confidence);
        var fired = set.Evaluate("c1", new Dictionary<string, double> { ["baby"] = 2, ["age"] = 70 });
        Assert.Equal(0.8, fired.Single(f => f.Tag == "new_parent").Confidence);
        Assert.Null(fired.Single(f => f.Tag == "senior").Confidence);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1.5")]
    [InlineData("high")]
    [InlineData("\"0.5\"")]
    public void Bad_confidence_is_a_metadata_error(string value)
    {
        var error = SingleError("@confidence " + value + "\np(X) :- q(X).");
        Assert.Equal(CompileErrorKind.Metadata, error.Kind);
        Assert.Equal((1, 13), (error.Line, error.Column));
        Assert.Contains("@confidence", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_confidence_is_a_metadata_error()
    {
        var error = SingleError("@confidence 0.5\n@confidence 0.6\np(X) :- q(X).");
        Assert.Equal(CompileErrorKind.Metadata, error.Kind);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void Parsed_rules_print_back_as_source()
    {
        var rules = RuleCompiler.Compile("p(X, \"a b\", 2.5) :- q(X, _), not r(X), X != c, N = count(Y : s(X, Y)), N >= 1.").RuleSet!;
        Assert.Equal("p(X, \"a b\", 2.5) :- q(X, _), not r(X), X != c, N = count(Y : s(X, Y)), N >= 1.", rules.Rules[0].ToString());
    }

    [Fact]
    public void Constants_numbers_strings_and_zero_arity_atoms_parse()
    {
        var rules = RuleCompiler.Compile("limit(-1.5).\nlimit(3e2).\nlabel(\"say \\\"hi\\\"\\n\").\non.\nok(X) :- limit(X), on, X > -2, X != 300.\nnamed(X) :- label(X).").RuleSet!;
        var result = Engine.Evaluate(rules, []);
        Assert.Equal(new[] { Fact.Of("ok", -1.5) }, result.Facts("ok"));
        Assert.Equal("say \"hi\"\n", Assert.Single(result.Facts("named")).Arguments[0].Text);
        Assert.True(result.Contains(Fact.Parse("limit(300)")));
        Assert.True(result.Contains(new Fact("on")));
        Assert.Equal(Value.Of("x"), Fact.Parse("p(\"x\")").Arguments[0]);
        Assert.Equal(Fact.Parse("p(x)"), Fact.Parse("p(\"x\")"));
        Assert.Throws<FormatException>(() => Fact.Parse("p(X)"));
    }
}
