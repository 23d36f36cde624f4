namespace EdgeProfile.Knowledge.Tests.Rules;

/// <summary>What a tag rule set reads: the features it names, the predicates, and the knowledge it needs from the graph.</summary>
public sealed class TagRuleSetReadsTests
{
    [Fact]
    public void A_set_names_the_features_and_predicates_it_reads_and_the_knowledge_it_does_not_define()
    {
        var set = TagRuleSet.Compile("""
            @rule a
            @en "a"
            @zh "a"
            tag(C, a) :- feature(C, spend_30d, S), S > 5, N = count(X : feature(C, orders_30d, X)), N >= 0, not helper(C).
            helper(C) :- top(C, category_affinity_30d, K, _), needs(K, "Manual").
            """, null, out var errors);
        Assert.Empty(errors);
        Assert.Equal(["orders_30d", "spend_30d"], set!.ReadsFeatures!.Order(StringComparer.Ordinal));
        Assert.Contains(TagRuleSet.TopPredicate, set.ReadsPredicates);
        Assert.DoesNotContain(TagRuleSet.TextPredicate, set.ReadsPredicates);
        Assert.Equal([("needs", 2)], set.ExternalPredicates);

        // Only the named features matter: evaluating with them alone gives the same tags as with every feature.
        var all = new Dictionary<string, double>(StringComparer.Ordinal) { ["spend_30d"] = 9, ["orders_30d"] = 2, ["visits_7d"] = 4 };
        var reads = set.ReadsFeatures!;
        var named = all.Where(f => reads.Contains(f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        Assert.Equal(set.Evaluate("c", all).Select(t => t.Tag), set.Evaluate("c", named).Select(t => t.Tag));
        Assert.Equal(["a"], set.Evaluate("c", named).Select(t => t.Tag));
    }

    [Fact]
    public void A_rule_reading_a_feature_by_a_variable_name_reads_them_all()
    {
        var set = TagRuleSet.Compile("""
            @rule any_high
            @en "any feature above 100"
            @zh "任一特征超过100"
            tag(C, any_high) :- feature(C, F, V), V > 100.
            """, null, out var errors);
        Assert.Empty(errors);
        Assert.Null(set!.ReadsFeatures);
        Assert.Empty(set.ExternalPredicates);
    }

    [Fact]
    public void The_warm_up_set_compiles_and_fires_its_tag()
    {
        // The hub and the edges run it at start and discard its result; a warm-up that stopped compiling would only
        // show here.
        Assert.Equal(1, RuleWarmUp.Run());
    }
}
