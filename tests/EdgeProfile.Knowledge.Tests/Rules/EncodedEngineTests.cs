using EdgeProfile.Knowledge.Rules;
using static EdgeProfile.Knowledge.Tests.Rules.RuleTestHelpers;

namespace EdgeProfile.Knowledge.Tests.Rules;

/// <summary>The engine's encoded storage: value semantics of the 64-bit codes, large strata (evaluated on several
/// threads and merged in rule order), provenance decoded on demand, and concurrent per-customer evaluation.</summary>
public sealed class EncodedEngineTests
{
    private static List<Fact> Numbers(int count)
    {
        var facts = new List<Fact>(count + 600);
        for (var i = 0; i < count; i++)
        {
            facts.Add(Fact.Of("num", i));
        }

        for (var i = 1; i < 1000; i += 2)
        {
            facts.Add(Fact.Of("odd", i));
        }

        return facts;
    }

    [Fact]
    public void Large_stratum_keeps_rule_order_and_first_derivations()
    {
        var rules = Compile("""
            @rule low
            p(X) :- num(X), X < 50000.
            @rule high
            p(X) :- num(X), X >= 40000.
            @rule t_even
            t(X, a) :- num(X), X < 10, not odd(X).
            @rule t_count
            t(X, b) :- num(X), X < 5, N = count(Y : num(Y), Y < X), N >= 0.
            @rule t_any
            t(X, a) :- num(X), X < 20.
            """);
        var result = Engine.Evaluate(rules, Numbers(120_000));

        var p = result.Facts("p");
        Assert.Equal(120_000, p.Count);
        Assert.Equal(Enumerable.Range(0, 120_000).Select(i => (double)i), p.Select(f => f.Arguments[0].Number));
        Assert.Equal("low", result.DerivationOf(Fact.Of("p", 45_000))!.RuleId);
        Assert.Equal("high", result.DerivationOf(Fact.Of("p", 60_000))!.RuleId);
        Assert.Equal(new[] { Fact.Of("num", 45_000) }, result.DerivationOf(Fact.Of("p", 45_000))!.Premises);

        Assert.Equal(25, result.Facts("t").Count);
        var even = result.DerivationOf(Fact.Parse("t(4, a)"))!;
        Assert.Equal("t_even", even.RuleId);
        Assert.Equal("odd(4)", Assert.Single(even.Absent));
        Assert.Equal("t_any", result.DerivationOf(Fact.Parse("t(3, a)"))!.RuleId);
        var counted = result.DerivationOf(Fact.Parse("t(2, b)"))!;
        Assert.Equal("t_count", counted.RuleId);
        Assert.Equal(new[] { Fact.Of("num", 2), Fact.Of("num", 0), Fact.Of("num", 1) }, counted.Premises);
        Assert.Equal("t(2, b)  [rule t_count]\n  num(2)  [fact]\n  num(0)  [fact]\n  num(1)  [fact]\n", result.Why(Fact.Parse("t(2, b)"))!.ToText());
    }

    [Fact]
    public void Aggregates_over_joins_count_distinct_tuples_and_list_each_premise_once()
    {
        var rules = Compile("""
            total(C, S) :- customer(C), S = sum(V, F : feature(C, F, V), counted(F, _)).
            kinds(C, N) :- customer(C), N = count(K : feature(C, F, _), counted(F, K)).
            """);
        var facts = Facts(
            "customer(c1)", "feature(c1, a, 2)", "feature(c1, b, 3)", "feature(c1, z, 100)",
            "counted(a, x)", "counted(a, y)", "counted(b, x)");
        var result = Engine.Evaluate(rules, facts);
        Assert.True(result.Contains(Fact.Parse("total(c1, 5)")));
        Assert.True(result.Contains(Fact.Parse("kinds(c1, 2)")));
        var premises = result.DerivationOf(Fact.Parse("total(c1, 5)"))!.Premises.Select(f => f.ToString()).ToList();
        Assert.Equal(premises.Distinct().Count(), premises.Count);
        Assert.Equal(
            Set("customer(c1)", "feature(c1, a, 2)", "counted(a, x)", "counted(a, y)", "feature(c1, b, 3)", "counted(b, x)"),
            Set(premises.Select(Fact.Parse)));
        Assert.Equal(Set(Engine.EvaluateNaive(rules, facts).AllFacts()), Set(result.AllFacts()));
    }

    [Fact]
    public void Aggregates_with_lookups_match_the_naive_evaluator_with_their_premises()
    {
        var rules = Compile("""
            n(C, N) :- customer(C), N = count(T : likes(C, T), top(T)).
            s(C, S) :- customer(C), S = sum(V, F : feature(C, F, V), counted(F)).
            none(C) :- customer(C), N = count(T : likes(C, T), top(T)), N = 0.
            """);
        var facts = Facts(
            "customer(c1)", "customer(c2)", "likes(c1, a)", "likes(c1, b)", "likes(c1, z)", "likes(c2, z)", "top(a)", "top(b)",
            "feature(c1, x, 2)", "feature(c1, y, 3)", "feature(c1, w, 7)", "feature(c2, w, 1)", "counted(x)", "counted(y)");
        var result = Engine.Evaluate(rules, facts);
        var naive = Engine.EvaluateNaive(rules, facts);
        Assert.Equal(Set(naive.AllFacts()), Set(result.AllFacts()));
        Assert.Equal(Set("n(c1, 2)", "n(c2, 0)"), Set(result.Facts("n")));
        Assert.Equal(Set("s(c1, 5)", "s(c2, 0)"), Set(result.Facts("s")));
        Assert.Equal(Set("none(c2)"), Set(result.Facts("none")));
        foreach (var fact in result.AllFacts().Where(f => f.Predicate is "n" or "s" or "none"))
        {
            Assert.Equal(naive.DerivationOf(fact)!.Premises, result.DerivationOf(fact)!.Premises);
        }

        Assert.Equal(
            new[] { Fact.Parse("customer(c1)"), Fact.Parse("likes(c1, a)"), Fact.Parse("top(a)"), Fact.Parse("likes(c1, b)"), Fact.Parse("top(b)") },
            result.DerivationOf(Fact.Parse("n(c1, 2)"))!.Premises);
    }

    [Fact]
    public void Encoded_values_compare_like_values()
    {
        var rules = Compile("""
            same(X) :- v(X), X = X.
            small(X) :- v(X), X < 1.
            after_b(X) :- v(X), X > "b".
            zero(X) :- v(X), X = 0.
            """);
        var facts = new List<Fact>
        {
            Fact.Of("v", double.NaN), Fact.Of("v", -0.0), Fact.Of("v", -1e300), Fact.Of("v", double.PositiveInfinity),
            Fact.Of("v", "a"), Fact.Of("v", "c"), Fact.Of("v", "日本"),
        };
        var result = Engine.Evaluate(rules, facts);
        Assert.Equal(Set(Engine.EvaluateNaive(rules, facts).AllFacts()), Set(result.AllFacts()));
        Assert.Equal(7, result.Facts("same").Count);
        Assert.Equal(Set("small(0)", "small(-1E+300)"), Set(result.Facts("small")));
        Assert.Equal(Set("after_b(c)", "after_b(\"日本\")"), Set(result.Facts("after_b")));
        Assert.True(result.Contains(Fact.Of("zero", 0)));
        Assert.True(result.Contains(Fact.Of("v", double.NaN)));
        Assert.False(result.Contains(Fact.Of("v", "never seen")));
        Assert.Null(result.DerivationOf(Fact.Of("same", "never seen")));
        Assert.Equal(7, result.Facts("v").Count);
    }

    [Fact]
    public void Prepared_rules_evaluate_concurrently_with_new_texts()
    {
        var prepared = Engine.Prepare(
            Compile("""
                @rule vip
                @en "VIP"
                @zh "贵宾"
                tag(C, vip) :- feature(C, spend, S), S >= 100, member(C, G), gold(G).
                gold(g1).
                """),
            Facts("member(c1, g1)"));
        var errors = new List<string>();
        Parallel.For(0, 64, i =>
        {
            var customer = i % 2 == 0 ? "c1" : "new customer " + i;
            var result = prepared.Evaluate([Fact.Feature(customer, "spend", 100 + i), Fact.Of("member", customer, "g1")]);
            var tags = result.Tags(customer);
            var derivation = result.DerivationOf(new Fact("tag", Value.Of(customer), Value.Of("vip")));
            if (tags.Count != 1 || derivation is null || derivation.Premises.Count != 3 || derivation.Premises[0].Arguments[0].Text != customer)
            {
                lock (errors)
                {
                    errors.Add(customer);
                }
            }
        });
        Assert.Empty(errors);
        Assert.Empty(prepared.Shared.Facts("tag"));
    }
}
