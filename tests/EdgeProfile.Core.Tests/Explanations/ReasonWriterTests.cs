using EdgeProfile.Core.Events;
using EdgeProfile.Core.Explanations;
using EdgeProfile.Core.Features;

namespace EdgeProfile.Core.Tests.Explanations;

public sealed class ReasonWriterTests
{
    private const string Model = "mmoe-2026.11.30";

    private static readonly FeatureDefinition BabyViews2h = new()
    {
        Name = "baby_views_2h",
        EventTypes = [EventType.View],
        CategoryPrefix = "Baby & Toddler",
        Window = WindowSpec.Sliding(TimeSpan.FromHours(2), TimeSpan.FromMinutes(10)),
        Aggregation = new AggregationSpec { Kind = AggregationKind.Count },
        Description = "Baby & Toddler product views in the last 2 hours",
    };

    private static readonly IReadOnlyList<FeatureDefinition> Definitions = [.. DefaultFeatures.Set.Definitions, BabyViews2h];

    private static ReasonRequest Request(
        string task,
        IReadOnlyList<GroupContribution> contributions,
        IReadOnlyDictionary<string, double> values,
        string? label = null,
        IReadOnlyDictionary<string, double>? baseline = null,
        IReadOnlyList<FeatureDefinition>? definitions = null,
        int top = 3) =>
        new(task, label, 0.8, Model, contributions, values, baseline, definitions ?? Definitions, top);

    private static GroupContribution C(string group, double phi, params string[] features) => new(group, phi, features);

    private static string Text(ReasonRequest request, ReasonLanguage language) => ReasonWriter.Write(request, language)[0].Text;

    [Fact]
    public void Young_mother_is_recommended_baby_products_for_her_recent_baby_views()
    {
        var set = DefaultFeatures.Set with { Definitions = Definitions };
        var features = new[] { "baby_views_2h", "days_since_last_purchase", "spend_30d", "views_7d", "session_events" };
        var groups = FeatureGrouping.Group(features, set);
        var phis = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["category:baby_toddler"] = 0.42,
            ["recency"] = 0.08,
            ["spend"] = -0.05,
            ["browsing"] = 0.11,
            ["session"] = 0.02,
        };
        var contributions = groups.Select(g => new GroupContribution(g.Group, phis[g.Group], g.Members.Select(i => features[i]).ToArray())).ToArray();
        var values = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["baby_views_2h"] = 3,
            ["days_since_last_purchase"] = 2,
            ["spend_30d"] = 0,
            ["views_7d"] = 12,
            ["session_events"] = 9,
        };
        var request = Request("category_propensity", contributions, values, label: "Baby & Toddler");

        var en = ReasonWriter.Write(request, ReasonLanguage.En);
        var zh = ReasonWriter.Write(request, ReasonLanguage.ZhCn);

        Assert.Equal(3, en.Count);
        Assert.Equal("Recommended Baby & Toddler products because you viewed 3 baby products in the last 2 hours", en[0].Text);
        Assert.Contains("3", en[0].Text, StringComparison.Ordinal);
        Assert.Contains("baby", en[0].Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("推荐母婴商品，因为您在过去2小时内浏览了3件母婴商品", zh[0].Text);
        Assert.Contains("母婴", zh[0].Text, StringComparison.Ordinal);
        Assert.Contains("3", zh[0].Text, StringComparison.Ordinal);
        Assert.Contains("2小时", zh[0].Text, StringComparison.Ordinal);

        var first = en[0];
        Assert.Equal(ReasonKind.Attribution, first.Kind);
        Assert.Equal("category_propensity:category:baby_toddler:+", first.Code);
        Assert.Equal(Model, first.Source);
        Assert.Equal(0.42, first.Weight);
        Assert.Equal(1, first.Direction);
        Assert.Equal("category:baby_toddler", first.Group);
        var evidence = Assert.Single(first.Evidence);
        Assert.Equal(new ReasonEvidence("baby_views_2h@v1", 3, "3"), evidence);
        Assert.Equal(["category:baby_toddler", "browsing", "recency"], en.Select(r => r.Group));
        Assert.Equal(en.Select(r => r.Code), zh.Select(r => r.Code));
    }

    [Fact]
    public void Recency_is_phrased_in_both_languages_from_the_most_telling_member()
    {
        var contributions = new[] { C("recency", 0.3, "days_since_last_event", "days_since_last_purchase") };
        var values = new Dictionary<string, double>(StringComparer.Ordinal) { ["days_since_last_event"] = 2, ["days_since_last_purchase"] = 45 };
        var baseline = new Dictionary<string, double>(StringComparer.Ordinal) { ["days_since_last_event"] = 3, ["days_since_last_purchase"] = 20 };
        var request = Request("churn_90d", contributions, values, baseline: baseline);

        Assert.Equal("Churn risk is higher because your last purchase was 45 days ago", Text(request, ReasonLanguage.En));
        Assert.Equal("流失风险较高，因为您上次购买是在45天前", Text(request, ReasonLanguage.ZhCn));
        Assert.Equal("days_since_last_purchase@v1", ReasonWriter.Write(request, ReasonLanguage.En)[0].Evidence[0].Feature);
    }

    [Fact]
    public void The_most_telling_member_is_measured_against_the_baseline()
    {
        // 2 days since the last event against a mean of 30 stands out more than 45 days since a purchase against 40.
        var contributions = new[] { C("recency", -0.3, "days_since_last_event", "days_since_last_purchase") };
        var values = new Dictionary<string, double>(StringComparer.Ordinal) { ["days_since_last_event"] = 2, ["days_since_last_purchase"] = 45 };
        var baseline = new Dictionary<string, double>(StringComparer.Ordinal) { ["days_since_last_event"] = 30, ["days_since_last_purchase"] = 40 };

        Assert.Equal(
            "Churn risk is lower because your last activity was 2 days ago",
            Text(Request("churn_90d", contributions, values, baseline: baseline), ReasonLanguage.En));
        Assert.Equal(
            "Churn risk is lower because your last purchase was 45 days ago",
            Text(Request("churn_90d", contributions, values), ReasonLanguage.En));
    }

    [Fact]
    public void Days_keep_one_decimal_and_one_day_is_singular()
    {
        var contributions = new[] { C("recency", 0.3, "days_since_last_purchase") };
        Assert.Equal(
            "Churn risk is higher because your last purchase was 12.3 days ago",
            Text(Request("churn_90d", contributions, new Dictionary<string, double> { ["days_since_last_purchase"] = 12.34 }), ReasonLanguage.En));
        Assert.Equal(
            "Churn risk is higher because your last purchase was 1 day ago",
            Text(Request("churn_90d", contributions, new Dictionary<string, double> { ["days_since_last_purchase"] = 1.02 }), ReasonLanguage.En));
        Assert.Equal(
            "流失风险较高，因为您上次购买是在12.3天前",
            Text(Request("churn_90d", contributions, new Dictionary<string, double> { ["days_since_last_purchase"] = 12.34 }), ReasonLanguage.ZhCn));
    }

    [Fact]
    public void Negative_contributions_are_framed_as_lowering_the_score()
    {
        var request = Request(
            "repurchase_30d",
            [C("spend", -0.2, "spend_30d")],
            new Dictionary<string, double> { ["spend_30d"] = 0 });

        var en = Assert.Single(ReasonWriter.Write(request, ReasonLanguage.En));
        var zh = Assert.Single(ReasonWriter.Write(request, ReasonLanguage.ZhCn));

        Assert.Equal("Less likely to buy again soon because you spent 0.00 in the last 30 days", en.Text);
        Assert.Equal("近期复购可能性较低，因为您在过去30天内消费了0.00", zh.Text);
        Assert.Equal(-1, en.Direction);
        Assert.Equal(-0.2, en.Weight);
        Assert.Equal("repurchase_30d:spend:-", en.Code);
        Assert.Equal(new ReasonEvidence("spend_30d@v1", 0, "0.00"), en.Evidence[0]);
    }

    [Fact]
    public void Lifetime_value_task_and_lifetime_windows()
    {
        var request = Request("ltv_90d", [C("purchases", 0.9, "lifetime_purchases")], new Dictionary<string, double> { ["lifetime_purchases"] = 4 });

        Assert.Equal("Expected 90-day value is higher because you bought 4 products in total", Text(request, ReasonLanguage.En));
        Assert.Equal("预计90天价值较高，因为您累计购买了4件商品", Text(request, ReasonLanguage.ZhCn));
    }

    [Fact]
    public void Money_has_two_decimals_and_ratios_are_percentages()
    {
        var request = Request(
            "ltv_90d",
            [C("spend", 0.5, "avg_basket_30d"), C("conversion", 0.4, "conversion_30d")],
            new Dictionary<string, double> { ["avg_basket_30d"] = 45.5, ["conversion_30d"] = 0.125 });

        var en = ReasonWriter.Write(request, ReasonLanguage.En);
        var zh = ReasonWriter.Write(request, ReasonLanguage.ZhCn);

        Assert.Equal("Expected 90-day value is higher because your average purchase in the last 30 days was 45.50", en[0].Text);
        Assert.Equal("Expected 90-day value is higher because 12.5% of your product views in the last 30 days led to a purchase", en[1].Text);
        Assert.Equal("预计90天价值较高，因为您在过去30天内的平均单笔消费为45.50", zh[0].Text);
        Assert.Equal("预计90天价值较高，因为您在过去30天内的浏览购买转化率为12.5%", zh[1].Text);
    }

    [Fact]
    public void Counts_are_integers_and_one_day_windows_read_naturally()
    {
        var request = Request(
            "repurchase_30d",
            [C("cart", 0.5, "cart_adds_1d"), C("session", 0.4, "session_events")],
            new Dictionary<string, double> { ["cart_adds_1d"] = 2.0000001, ["session_events"] = 17 });

        var en = ReasonWriter.Write(request, ReasonLanguage.En);
        var zh = ReasonWriter.Write(request, ReasonLanguage.ZhCn);

        Assert.Equal("More likely to buy again soon because you added 2 products to cart in the last day", en[0].Text);
        Assert.Equal("More likely to buy again soon because you had 17 interactions in your latest session", en[1].Text);
        Assert.Equal("近期复购可能性较高，因为您在过去1天内加购了2件商品", zh[0].Text);
        Assert.Equal("近期复购可能性较高，因为您在最近一次会话中共有17次互动", zh[1].Text);
    }

    [Fact]
    public void Top_limits_the_reasons_ordered_by_magnitude_with_ties_by_group()
    {
        var contributions = new[]
        {
            C("spend", 0.1, "spend_30d"),
            C("recency", -0.5, "days_since_last_purchase"),
            C("browsing", 0.3, "views_7d"),
            C("activity", 0.3, "events_7d"),
            C("cart", 0.05, "cart_adds_7d"),
        };
        var values = new Dictionary<string, double>
        {
            ["spend_30d"] = 10,
            ["days_since_last_purchase"] = 3,
            ["views_7d"] = 5,
            ["events_7d"] = 9,
            ["cart_adds_7d"] = 1,
        };

        var two = ReasonWriter.Write(Request("churn_90d", contributions, values, top: 2), ReasonLanguage.En);
        var all = ReasonWriter.Write(Request("churn_90d", contributions, values, top: 10), ReasonLanguage.En);
        var none = ReasonWriter.Write(Request("churn_90d", contributions, values, top: 0), ReasonLanguage.En);

        Assert.Equal(["recency", "activity"], two.Select(r => r.Group));
        Assert.Equal(["recency", "activity", "browsing", "spend", "cart"], all.Select(r => r.Group));
        Assert.Empty(none);
        Assert.Equal(3, ReasonWriter.Write(Request("churn_90d", contributions, values), ReasonLanguage.En).Count);
    }

    [Fact]
    public void Zero_contributions_are_skipped()
    {
        var contributions = new[] { C("spend", 0, "spend_30d"), C("recency", 0.2, "days_since_last_purchase"), C("browsing", 0.0, "views_7d") };
        var values = new Dictionary<string, double> { ["spend_30d"] = 10, ["days_since_last_purchase"] = 3, ["views_7d"] = 5 };

        var reasons = ReasonWriter.Write(Request("churn_90d", contributions, values), ReasonLanguage.En);

        Assert.Equal("recency", Assert.Single(reasons).Group);
        Assert.Empty(ReasonWriter.Write(Request("churn_90d", [C("spend", 0, "spend_30d")], values), ReasonLanguage.ZhCn));
    }

    [Fact]
    public void Unknown_tasks_get_a_generic_frame()
    {
        var request = Request("vip_upgrade", [C("purchases", -0.4, "purchases_7d")], new Dictionary<string, double> { ["purchases_7d"] = 1 });

        Assert.Equal("vip_upgrade score is lower because you bought 1 product in the last 7 days", Text(request, ReasonLanguage.En));
        Assert.Equal("vip_upgrade评分较低，因为您在过去7天内购买了1件商品", Text(request, ReasonLanguage.ZhCn));
        Assert.Equal("vip_upgrade:purchases:-", ReasonWriter.Write(request, ReasonLanguage.En)[0].Code);
    }

    [Fact]
    public void Category_propensity_without_a_label_and_with_an_unknown_label()
    {
        var values = new Dictionary<string, double> { ["baby_views_2h"] = 1 };
        var contributions = new[] { C("category:baby_toddler", 0.2, "baby_views_2h") };

        Assert.Equal(
            "Category interest is higher because you viewed 1 baby product in the last 2 hours",
            Text(Request("category_propensity", contributions, values), ReasonLanguage.En));
        Assert.Equal(
            "推荐Garden Tools商品，因为您在过去2小时内浏览了1件母婴商品",
            Text(Request("category_propensity", contributions, values, label: "Garden Tools"), ReasonLanguage.ZhCn));
        Assert.Equal(
            "Less likely to be interested in Electronics products because you viewed 1 baby product in the last 2 hours",
            Text(Request("category_propensity", [C("category:baby_toddler", -0.2, "baby_views_2h")], values, label: "Electronics"), ReasonLanguage.En));
        Assert.Equal(
            "对数码电子商品的兴趣较低，因为您在过去2小时内浏览了1件母婴商品",
            Text(Request("category_propensity", [C("category:baby_toddler", -0.2, "baby_views_2h")], values, label: "Electronics"), ReasonLanguage.ZhCn));
    }

    [Fact]
    public void Unknown_categories_are_named_by_their_prefix()
    {
        var garden = BabyViews2h with { Name = "garden_spend_30d", CategoryPrefix = "Garden Tools", EventTypes = [EventType.Purchase] };
        garden = garden with
        {
            Window = WindowSpec.Sliding(TimeSpan.FromDays(30), TimeSpan.FromDays(1)),
            Aggregation = new AggregationSpec { Kind = AggregationKind.Sum, Field = FeatureField.Amount },
        };
        var request = Request("ltv_90d", [C("category:garden_tools", 0.2, "garden_spend_30d")], new Dictionary<string, double> { ["garden_spend_30d"] = 1234.5 }, definitions: [garden]);

        Assert.Equal("Expected 90-day value is higher because you spent 1234.50 on Garden Tools products in the last 30 days", Text(request, ReasonLanguage.En));
        Assert.Equal("预计90天价值较高，因为您在过去30天内在Garden Tools商品上消费了1234.50", Text(request, ReasonLanguage.ZhCn));
    }

    [Fact]
    public void Unphrasable_features_fall_back_to_their_description_or_name()
    {
        var lastAmount = new FeatureDefinition
        {
            Name = "last_amount",
            EventTypes = [EventType.Purchase],
            Window = WindowSpec.Lifetime,
            Aggregation = new AggregationSpec { Kind = AggregationKind.LastValue, Field = FeatureField.Amount },
            Description = "Amount of the latest purchase",
        };
        var values = new Dictionary<string, double> { ["last_amount"] = 12.5, ["mystery_score"] = 0.333 };
        var request = Request("churn_90d", [C("spend", -0.3, "last_amount"), C("mystery_score", 0.1, "mystery_score")], values, definitions: [lastAmount]);

        var en = ReasonWriter.Write(request, ReasonLanguage.En);
        var zh = ReasonWriter.Write(request, ReasonLanguage.ZhCn);

        Assert.Equal("Churn risk is lower because of Amount of the latest purchase: 12.5", en[0].Text);
        Assert.Equal("流失风险较低，因为last_amount：12.5", zh[0].Text);
        Assert.Equal(new ReasonEvidence("last_amount@v1", 12.5, "12.5"), en[0].Evidence[0]);
        Assert.Equal("Churn risk is higher because of mystery_score: 0.33", en[1].Text);
        Assert.Equal("流失风险较高，因为mystery_score：0.33", zh[1].Text);
        Assert.Equal("mystery_score", en[1].Evidence[0].Feature);
    }

    [Fact]
    public void A_group_without_values_is_named_not_cited()
    {
        var request = Request("churn_90d", [C("recency", 0.3, "days_since_last_purchase")], new Dictionary<string, double>());

        var en = Assert.Single(ReasonWriter.Write(request, ReasonLanguage.En));
        Assert.Equal("Churn risk is higher because of your recency", en.Text);
        Assert.Empty(en.Evidence);
        Assert.Equal("流失风险较高，因为您的最近活跃", Text(request, ReasonLanguage.ZhCn));
    }

    [Fact]
    public void Braces_in_free_text_never_reach_a_reason()
    {
        var odd = new FeatureDefinition
        {
            Name = "odd_{x}",
            Window = WindowSpec.Lifetime,
            Aggregation = new AggregationSpec { Kind = AggregationKind.LastValue, Field = FeatureField.Price },
            Description = "Price of {sku}",
        };
        var request = new ReasonRequest("{task}", "{label}", 1, Model, [C("g", 1, "odd_{x}")], new Dictionary<string, double> { ["odd_{x}"] = 2 }, null, [odd]);

        foreach (var language in Enum.GetValues<ReasonLanguage>())
        {
            var text = Assert.Single(ReasonWriter.Write(request, language)).Text;
            Assert.DoesNotContain('{', text);
            Assert.DoesNotContain('}', text);
        }
    }

    public static TheoryData<string> NumericDefaultFeatures()
    {
        var data = new TheoryData<string>();
        foreach (var d in Definitions.Where(d => d.IsNumeric()))
        {
            data.Add(d.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(NumericDefaultFeatures))]
    public void Every_numeric_feature_yields_a_complete_sentence_for_every_task_sign_and_language(string feature)
    {
        var d = Definitions.Single(x => x.Name == feature);
        var group = FeatureGrouping.GroupOf(d);
        foreach (var task in new[] { "repurchase_30d", "churn_90d", "ltv_90d", "category_propensity", "custom_task" })
        {
            foreach (var phi in new[] { 0.25, -0.25 })
            {
                foreach (var value in new[] { 0.0, 1.0, 7.25, 1234.567 })
                {
                    var request = Request(task, [C(group, phi, feature)], new Dictionary<string, double> { [feature] = value }, label: "Baby & Toddler");
                    foreach (var language in Enum.GetValues<ReasonLanguage>())
                    {
                        var reason = Assert.Single(ReasonWriter.Write(request, language));
                        Assert.False(string.IsNullOrWhiteSpace(reason.Text));
                        Assert.DoesNotContain('{', reason.Text);
                        Assert.DoesNotContain('}', reason.Text);
                        Assert.DoesNotContain("  ", reason.Text, StringComparison.Ordinal);
                        Assert.Equal(reason.Text.Trim(), reason.Text);
                        Assert.Equal(d.Id, reason.Evidence[0].Feature);
                        Assert.Equal(value, reason.Evidence[0].Value);
                        Assert.Contains(reason.Evidence[0].Display!, reason.Text, StringComparison.Ordinal);
                        if (language == ReasonLanguage.ZhCn)
                        {
                            Assert.Contains("因为", reason.Text, StringComparison.Ordinal);
                        }
                        else
                        {
                            Assert.Contains(" because ", reason.Text, StringComparison.Ordinal);
                        }
                    }
                }
            }
        }
    }
}
