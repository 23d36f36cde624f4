using EdgeProfile.Knowledge.Rules;
using static EdgeProfile.Knowledge.Tests.Rules.RuleTestHelpers;

namespace EdgeProfile.Knowledge.Tests.Rules;

public sealed class RuleEngineTests
{
    private const string Ancestor = """
        @rule anc_base
        ancestor(X, Y) :- parent(X, Y).
        @rule anc_step
        ancestor(X, Z) :- parent(X, Y), ancestor(Y, Z).
        """;

    [Fact]
    public void Transitive_closure_over_a_chain()
    {
        var result = Engine.Evaluate(Compile(Ancestor), Facts("parent(a, b)", "parent(b, c)", "parent(c, d)", "parent(d, e)"));
        Assert.Equal(
            Set("ancestor(a, b)", "ancestor(a, c)", "ancestor(a, d)", "ancestor(a, e)", "ancestor(b, c)", "ancestor(b, d)", "ancestor(b, e)", "ancestor(c, d)", "ancestor(c, e)", "ancestor(d, e)"),
            Set(result.Facts("ancestor")));
    }

    [Fact]
    public void Transitive_closure_over_a_dag()
    {
        var result = Engine.Evaluate(Compile(Ancestor), Facts("parent(a, b)", "parent(a, c)", "parent(b, d)", "parent(c, d)", "parent(d, e)"));
        Assert.Equal(
            Set("ancestor(a, b)", "ancestor(a, c)", "ancestor(a, d)", "ancestor(a, e)", "ancestor(b, d)", "ancestor(b, e)", "ancestor(c, d)", "ancestor(c, e)", "ancestor(d, e)"),
            Set(result.Facts("ancestor")));
    }

    [Fact]
    public void Transitive_closure_over_a_cycle_terminates_with_every_pair()
    {
        var result = Engine.Evaluate(Compile(Ancestor), Facts("parent(a, b)", "parent(b, c)", "parent(c, a)"));
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var x in new[] { "a", "b", "c" })
        {
            foreach (var y in new[] { "a", "b", "c" })
            {
                expected.Add($"ancestor({x}, {y})");
            }
        }

        Assert.Equal(expected, Set(result.Facts("ancestor")));
        Assert.Equal(Set(Engine.EvaluateNaive(Compile(Ancestor), Facts("parent(a, b)", "parent(b, c)", "parent(c, a)")).Facts("ancestor")), Set(result.Facts("ancestor")));
    }

    [Fact]
    public void Same_generation()
    {
        var rules = Compile("""
            sg(X, X) :- person(X).
            sg(X, Y) :- parent(XP, X), parent(YP, Y), sg(XP, YP).
            """);
        var facts = Facts("person(r)", "person(a)", "person(b)", "person(c)", "person(d)", "parent(r, a)", "parent(r, b)", "parent(a, c)", "parent(b, d)");
        var result = Engine.Evaluate(rules, facts);
        Assert.Equal(
            Set("sg(r, r)", "sg(a, a)", "sg(b, b)", "sg(c, c)", "sg(d, d)", "sg(a, b)", "sg(b, a)", "sg(c, d)", "sg(d, c)"),
            Set(result.Facts("sg")));
    }

    [Fact]
    public void Stratified_negation_bachelor()
    {
        var rules = Compile("""
            @rule bachelor
            bachelor(X) :- male(X), not married(X).
            """);
        var result = Engine.Evaluate(rules, Facts("male(bob)", "male(tom)", "married(tom)", "married(ann)"));
        Assert.Equal(Set("bachelor(bob)"), Set(result.Facts("bachelor")));
        Assert.Equal("bachelor(bob)  [rule bachelor]\n  male(bob)  [fact]\n  not married(bob)  [absent]\n", result.Why(Fact.Parse("bachelor(bob)"))!.ToText());
    }

    [Fact]
    public void Two_strata_chain_of_negation_with_an_anonymous_variable()
    {
        var rules = Compile("""
            reachable(X) :- start(X).
            reachable(Y) :- reachable(X), edge(X, Y).
            unreachable(X) :- node(X), not reachable(X).
            lonely(X) :- unreachable(X), not edge(_, X).
            """);
        var facts = Facts("node(1)", "node(2)", "node(3)", "node(4)", "node(5)", "node(6)", "start(1)", "edge(1, 2)", "edge(2, 3)", "edge(4, 5)");
        var result = Engine.Evaluate(rules, facts);
        Assert.Equal(Set("reachable(1)", "reachable(2)", "reachable(3)"), Set(result.Facts("reachable")));
        Assert.Equal(Set("unreachable(4)", "unreachable(5)", "unreachable(6)"), Set(result.Facts("unreachable")));
        Assert.Equal(Set("lonely(4)", "lonely(6)"), Set(result.Facts("lonely")));
        string[] order = ["reachable", "unreachable", "lonely"];
        Assert.Equal(order, rules.Strata.Where(s => s.Count == 1 && s[0] is "reachable" or "unreachable" or "lonely").Select(s => s[0]));
        Assert.Equal("lonely(4)  [rule rule@4]\n  unreachable(4)  [rule rule@3]\n    node(4)  [fact]\n    not reachable(4)  [absent]\n  not edge(_, 4)  [absent]\n", result.Why(Fact.Parse("lonely(4)"))!.ToText());
    }

    [Fact]
    public void Comparisons_on_features()
    {
        var rules = Compile("big(C) :- feature(C, spend_30d, S), S > 5000.\nsmall(C) :- feature(C, spend_30d, S), S <= 5000, S != 0.");
        var facts = new List<Fact>
        {
            Fact.Feature("c1", "spend_30d", 6000),
            Fact.Feature("c2", "spend_30d", 5000),
            Fact.Feature("c3", "spend_30d", 0),
            Fact.Of("feature", "c4", "spend_30d", "n/a"),
        };
        var result = Engine.Evaluate(rules, facts);
        Assert.Equal(Set("big(c1)"), Set(result.Facts("big")));
        Assert.Equal(Set("small(c2)"), Set(result.Facts("small")));
    }

    [Fact]
    public void Count_and_sum_per_customer()
    {
        var rules = Compile("""
            orders(C, N) :- customer(C), N = count(O : order(C, O)).
            spent(C, S) :- customer(C), S = sum(A, O : order(C, O), amount(O, A)).
            loyal(C) :- customer(C), N = count(O : order(C, O)), N >= 2.
            """);
        var facts = Facts("customer(c1)", "customer(c2)", "customer(c3)", "order(c1, o1)", "order(c1, o2)", "order(c3, o3)", "order(c3, o4)",
            "amount(o1, 10)", "amount(o2, 20.5)", "amount(o3, 5)", "amount(o4, 5)");
        var result = Engine.Evaluate(rules, facts);
        Assert.Equal(Set("orders(c1, 2)", "orders(c2, 0)", "orders(c3, 2)"), Set(result.Facts("orders")));
        Assert.Equal(Set("spent(c1, 30.5)", "spent(c2, 0)", "spent(c3, 10)"), Set(result.Facts("spent")));
        Assert.Equal(Set("loyal(c1)", "loyal(c3)"), Set(result.Facts("loyal")));
        Assert.Equal(Set(result.AllFacts()), Set(Engine.EvaluateNaive(rules, facts).AllFacts()));
        Assert.Equal(
            "orders(c1, 2)  [rule rule@1]\n  customer(c1)  [fact]\n  order(c1, o1)  [fact]\n  order(c1, o2)  [fact]\n",
            result.Why(Fact.Parse("orders(c1, 2)"))!.ToText());
    }

    private const string NewParent = """
        # the example from the issue
        @rule new_parent
        @version 3
        @en "Bought baby products in the last 30 days for the first time"
        @zh "近30天首次购买母婴商品"
        tag(C, new_parent) :- feature(C, baby_purchases_30d, N), N > 0, feature(C, baby_purchases_lifetime, L), L = N.
        """;

    [Fact]
    public void New_parent_example_tags_only_first_time_buyers_with_the_rule_as_reason()
    {
        var rules = Compile(NewParent, new HashSet<string> { "baby_purchases_30d", "baby_purchases_lifetime", "spend_30d" });
        var facts = new List<Fact>
        {
            Fact.Feature("c1", "baby_purchases_30d", 2), Fact.Feature("c1", "baby_purchases_lifetime", 2),
            Fact.Feature("c2", "baby_purchases_30d", 1), Fact.Feature("c2", "baby_purchases_lifetime", 5),
            Fact.Feature("c3", "baby_purchases_30d", 0), Fact.Feature("c3", "baby_purchases_lifetime", 0),
        };
        var result = Engine.Evaluate(rules, facts);
        var tag = Assert.Single(result.Tags());
        Assert.Equal(Value.Of("c1"), tag.Customer);
        Assert.Equal(Value.Of("new_parent"), tag.Tag);
        Assert.Equal("new_parent", tag.RuleId);
        Assert.Equal(3, tag.Rule!.Version);
        Assert.Equal("new_parent", tag.Rule.Tag);
        Assert.Equal("近30天首次购买母婴商品", tag.Reason("zh-CN"));
        Assert.Equal("Bought baby products in the last 30 days for the first time", tag.Reason("en"));
        Assert.Equal(
            "tag(c1, new_parent)  [rule new_parent]\n  feature(c1, baby_purchases_30d, 2)  [fact]\n  feature(c1, baby_purchases_lifetime, 2)  [fact]\n",
            result.Why(Fact.Parse("tag(c1, new_parent)"))!.ToText());

        // Per customer over a prepared rule set: same answers.
        var prepared = Engine.Prepare(rules);
        Assert.Single(prepared.Evaluate(facts.Where(f => f.Arguments[0].Text == "c1")).Tags("c1"));
        Assert.Empty(prepared.Evaluate(facts.Where(f => f.Arguments[0].Text == "c2")).Tags());
        Assert.Empty(prepared.Evaluate([]).Tags());
    }

    [Fact]
    public void Provenance_tree_of_a_recursive_derivation_has_the_exact_shape()
    {
        var result = Engine.Evaluate(Compile(Ancestor), Facts("parent(a, b)", "parent(b, c)", "parent(c, d)"));
        var tree = result.Why(Fact.Parse("ancestor(a, d)"))!;
        Assert.Equal(
            """
            ancestor(a, d)  [rule anc_step]
              parent(a, b)  [fact]
              ancestor(b, d)  [rule anc_step]
                parent(b, c)  [fact]
                ancestor(c, d)  [rule anc_base]
                  parent(c, d)  [fact]

            """.ReplaceLineEndings("\n"),
            tree.ToText());
        Assert.Equal(4, tree.Depth);
        Assert.Equal("anc_step", tree.Derivation!.RuleId);
        Assert.Equal(new[] { Fact.Parse("parent(a, b)"), Fact.Parse("ancestor(b, d)") }, tree.Derivation.Premises);
        Assert.True(tree.Children[0].IsBase);
        Assert.Null(result.DerivationOf(Fact.Parse("parent(a, b)")));
        Assert.Null(result.Why(Fact.Parse("ancestor(d, a)")));
        Assert.True(result.Why(Fact.Parse("parent(a, b)"))!.IsBase);
    }

    [Fact]
    public void Rdfs_subclass_chain_of_depth_seven_types_every_ancestor()
    {
        var facts = new List<Fact> { Fact.Of("type", "x", "c0") };
        for (var i = 0; i < 7; i++)
        {
            facts.Add(Fact.Of("subClassOf", "c" + i, "c" + (i + 1)));
        }

        var rules = Compile("heavy(X) :- type(X, c7).");
        var on = Engine.Evaluate(rules, facts, new EngineOptions { Rdfs = true });
        Assert.Equal(Set(Enumerable.Range(0, 8).Select(i => Fact.Of("type", "x", "c" + i))), Set(on.Facts("type")));
        Assert.Equal(28, on.Facts("subClassOf").Count);
        Assert.True(on.Contains(Fact.Parse("heavy(x)")));
        var why = on.Why(Fact.Parse("type(x, c7)"))!;
        Assert.Equal("rdfs:type-inheritance", why.Derivation!.RuleId);
        Assert.Equal(Fact.Parse("type(x, c0)"), why.Children[0].Fact);
        Assert.Equal(Fact.Parse("subClassOf(c0, c7)"), why.Children[1].Fact);

        var off = Engine.Evaluate(rules, facts);
        Assert.Equal(Set("type(x, c0)"), Set(off.Facts("type")));
        Assert.False(off.Contains(Fact.Parse("heavy(x)")));
        Assert.Equal(Set(on.AllFacts()), Set(Engine.EvaluateNaive(rules, facts, new EngineOptions { Rdfs = true }).AllFacts()));
    }

    [Fact]
    public void Rdfs_subproperty_inheritance()
    {
        var rules = Compile("""
            subPropertyOf(motherOf, parentOf).
            subPropertyOf(parentOf, relativeOf).
            knows(X, Y) :- relativeOf(X, Y).
            """);
        var result = Engine.Evaluate(rules, Facts("motherOf(m, k)"), new EngineOptions { Rdfs = true });
        Assert.True(result.Contains(Fact.Parse("parentOf(m, k)")));
        Assert.True(result.Contains(Fact.Parse("relativeOf(m, k)")));
        Assert.True(result.Contains(Fact.Parse("knows(m, k)")));
        Assert.True(result.Contains(Fact.Parse("subPropertyOf(motherOf, relativeOf)")));
        Assert.Equal("rdfs:subPropertyOf-inheritance", result.DerivationOf(Fact.Parse("relativeOf(m, k)"))!.RuleId);
        Assert.False(Engine.Evaluate(rules, Facts("motherOf(m, k)")).Contains(Fact.Parse("knows(m, k)")));
    }

    [Fact]
    public void Prepared_rules_per_customer_match_full_evaluation_and_respect_negation_over_shared_facts()
    {
        var rules = Compile("""
            @rule vip
            @en "Big spender in a premium category"
            @zh "高端品类大额消费"
            tag(C, vip) :- feature(C, spend_30d, S), S > 5000, prefers(C, K), type(K, premium), not blocked(C).
            """);
        var shared = Facts("subClassOf(watches, luxury)", "subClassOf(luxury, premium)", "type(rolex, watches)", "blocked(c9)");
        var prepared = Engine.Prepare(rules, shared, new EngineOptions { Rdfs = true });
        var c1 = new List<Fact> { Fact.Feature("c1", "spend_30d", 7000), Fact.Parse("prefers(c1, rolex)") };
        var c9 = new List<Fact> { Fact.Feature("c9", "spend_30d", 9000), Fact.Parse("prefers(c9, rolex)") };
        var c2 = new List<Fact> { Fact.Feature("c2", "spend_30d", 9000), Fact.Parse("prefers(c2, rolex)"), Fact.Parse("blocked(c2)") };

        var r1 = prepared.Evaluate(c1);
        Assert.Equal("高端品类大额消费", Assert.Single(r1.Tags("c1")).Reason("zh-CN"));
        Assert.True(r1.Contains(Fact.Parse("type(rolex, premium)")));
        Assert.Equal("rdfs:type-inheritance", r1.DerivationOf(Fact.Parse("type(rolex, premium)"))!.RuleId);
        Assert.Empty(prepared.Evaluate(c9).Tags());
        Assert.Empty(prepared.Evaluate(c2).Tags());
        Assert.Empty(prepared.Shared.Tags());

        var all = Engine.Evaluate(rules, shared.Concat(c1).Concat(c9).Concat(c2), new EngineOptions { Rdfs = true });
        Assert.Equal(Set("tag(c1, vip)"), Set(all.Facts("tag")));
        Assert.Equal(Set(r1.AllFacts()), Set(Engine.Evaluate(rules, shared.Concat(c1), new EngineOptions { Rdfs = true }).AllFacts()));
    }

    [Fact]
    public void Facts_written_in_the_rule_file_are_base_facts()
    {
        var rules = Compile("edge(a, b).\nedge(b, \"c d\").\npath(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).");
        var result = Engine.Evaluate(rules, []);
        Assert.Equal(Set("path(a, \"c d\")", "path(a, b)", "path(b, \"c d\")"), Set(result.Facts("path")));
        Assert.Equal(5, result.Count);
    }

    [Fact]
    public void Prepared_rules_can_be_evaluated_from_several_threads()
    {
        var rules = Compile("""
            @rule spender
            @en "Spent over 100 on a premium class"
            @zh "在高端品类消费超过100"
            tag(C, spender) :- bought(C, K, A), type(K, premium), A > 100.
            """);
        var shared = new List<Fact> { Fact.Parse("subClassOf(k0, premium)") };
        for (var i = 1; i < 50; i++)
        {
            shared.Add(Fact.Of("subClassOf", "k" + i, "k" + (i - 1)));
            shared.Add(Fact.Of("type", "item" + i, "k" + i));
        }

        var prepared = Engine.Prepare(rules, shared, new EngineOptions { Rdfs = true });
        var results = new bool[400];
        Parallel.For(0, results.Length, i =>
        {
            var facts = new List<Fact> { Fact.Of("bought", "c" + i, "item" + (1 + (i % 49)), i) };
            results[i] = prepared.Evaluate(facts).Tags("c" + i).Count == 1;
        });
        Assert.Equal(Enumerable.Range(0, results.Length).Select(i => i > 100), results);
    }
}
