using EdgeProfile.Core.Events;
using EdgeProfile.Core.Explanations;
using EdgeProfile.Core.Features;

namespace EdgeProfile.Core.Tests.Explanations;

public sealed class FeatureGroupingTests
{
    private static readonly FeatureDefinition BabyViews2h = new()
    {
        Name = "baby_views_2h",
        EventTypes = [EventType.View],
        CategoryPrefix = "Baby & Toddler",
        Window = WindowSpec.Sliding(TimeSpan.FromHours(2), TimeSpan.FromMinutes(10)),
        Aggregation = new AggregationSpec { Kind = AggregationKind.Count },
        Description = "Baby & Toddler product views in the last 2 hours",
    };

    [Theory]
    [InlineData("spend_30d", "spend")]
    [InlineData("avg_basket_7d", "spend")]
    [InlineData("max_purchase_1d", "spend")]
    [InlineData("lifetime_spend", "spend")]
    [InlineData("days_since_last_purchase", "recency")]
    [InlineData("days_since_last_event", "recency")]
    [InlineData("purchases_1d", "purchases")]
    [InlineData("lifetime_purchases", "purchases")]
    [InlineData("views_7d", "browsing")]
    [InlineData("distinct_skus_30d", "browsing")]
    [InlineData("cart_adds_7d", "cart")]
    [InlineData("returns_30d", "returns")]
    [InlineData("conversion_1d", "conversion")]
    [InlineData("session_events", "session")]
    [InlineData("session_categories", "session")]
    [InlineData("events_7d", "activity")]
    [InlineData("events_total", "activity")]
    [InlineData("active_days_30d", "activity")]
    [InlineData("distinct_channels", "activity")]
    public void Default_features_fall_into_their_groups(string name, string group)
    {
        var d = DefaultFeatures.Set.Find(name);
        Assert.NotNull(d);
        Assert.Equal(group, FeatureGrouping.GroupOf(d));
    }

    [Fact]
    public void The_default_set_makes_at_most_sixteen_groups_covering_every_feature_once()
    {
        var names = DefaultFeatures.Set.Definitions.Select(d => d.Name).ToArray();
        var groups = FeatureGrouping.Group(names, DefaultFeatures.Set);
        Assert.InRange(groups.Count, 1, 16);
        Assert.Equal(groups.Count, groups.Select(g => g.Group).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(Enumerable.Range(0, names.Length), groups.SelectMany(g => g.Members).Order());
        foreach (var (group, members) in groups)
        {
            Assert.All(members, i => Assert.Equal(group, FeatureGrouping.GroupOf(DefaultFeatures.Set.Find(names[i])!)));
        }
    }

    [Fact]
    public void Category_filters_group_by_their_top_level_slug()
    {
        Assert.Equal("category:baby_toddler", FeatureGrouping.GroupOf(BabyViews2h));
        var deeper = BabyViews2h with
        {
            Name = "stroller_spend_30d",
            CategoryPrefix = "Baby & Toddler > Strollers",
            Aggregation = new AggregationSpec { Kind = AggregationKind.Sum, Field = FeatureField.Amount },
        };
        Assert.Equal("category:baby_toddler", FeatureGrouping.GroupOf(deeper));
        Assert.Equal("category:electronics", FeatureGrouping.GroupOf(BabyViews2h with { CategoryPrefix = "Electronics" }));
        Assert.Equal("category:母婴", FeatureGrouping.GroupOf(BabyViews2h with { CategoryPrefix = "母婴" }));
    }

    [Fact]
    public void Overrides_win_and_unknown_features_are_their_own_group()
    {
        var set = DefaultFeatures.Set with { Definitions = [.. DefaultFeatures.Set.Definitions, BabyViews2h] };
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal) { ["views_7d"] = "engagement", ["push_opt_in"] = "consent" };
        var names = new[] { "baby_views_2h", "views_7d", "spend_30d", "mystery_score", "lifetime_spend", "push_opt_in" };

        var groups = FeatureGrouping.Group(names, set, overrides);

        Assert.Equal(["category:baby_toddler", "engagement", "spend", "mystery_score", "consent"], groups.Select(g => g.Group));
        Assert.Equal([2, 4], groups.Single(g => g.Group == "spend").Members);
        Assert.Equal("engagement", FeatureGrouping.GroupOf(set.Find("views_7d")!, overrides));
        Assert.Equal("browsing", FeatureGrouping.GroupOf(set.Find("views_7d")!));
    }

    [Theory]
    [InlineData("recency", "recency", "最近活跃")]
    [InlineData("spend", "spend", "消费金额")]
    [InlineData("category:baby_toddler", "baby-category activity", "母婴品类行为")]
    [InlineData("category:electronics", "electronics-category activity", "数码电子品类行为")]
    [InlineData("category:garden_tools", "garden tools category activity", "garden tools品类行为")]
    [InlineData("mystery_score", "mystery score", "mystery score")]
    public void Display_names_in_both_languages(string group, string en, string zh)
    {
        Assert.Equal(en, FeatureGrouping.DisplayName(group, ReasonLanguage.En));
        Assert.Equal(zh, FeatureGrouping.DisplayName(group, ReasonLanguage.ZhCn));
    }

    [Fact]
    public void Every_default_group_has_a_display_name_in_both_languages()
    {
        var names = DefaultFeatures.Set.Definitions.Select(d => d.Name).ToArray();
        foreach (var (group, _) in FeatureGrouping.Group(names, DefaultFeatures.Set))
        {
            Assert.False(string.IsNullOrWhiteSpace(FeatureGrouping.DisplayName(group, ReasonLanguage.En)));
            Assert.Matches(@"\p{IsCJKUnifiedIdeographs}", FeatureGrouping.DisplayName(group, ReasonLanguage.ZhCn));
        }
    }

    [Theory]
    [InlineData("Baby & Toddler")]
    [InlineData("baby")]
    [InlineData("Maternity")]
    [InlineData("母婴")]
    [InlineData("Women")]
    [InlineData("Men's")]
    [InlineData("Beauty & Personal Care")]
    [InlineData("Electronics")]
    [InlineData("Sports & Outdoors")]
    [InlineData("Home & Kitchen")]
    [InlineData("Grocery")]
    [InlineData("Pet Supplies")]
    [InlineData("Garden Tools")]
    public void Category_names_agree_with_interest_tags(string category)
    {
        var names = FeatureGrouping.CategoryName(category);
        var tag = InterestTags.TagFor(category);
        Assert.Equal(!tag.StartsWith("interest_", StringComparison.Ordinal), names is not null);
        if (names is not { } n)
        {
            return;
        }

        // InterestTags writes its Chinese segment name first in a tag's reason.
        var d = InterestTags.AffinityDefinition(DefaultFeatures.Set)!;
        var reading = new FeatureReading(
            d,
            new FeatureValue(Ranking: [new RankedValue(category, 10, 1.0)]),
            FeatureStatus.Fresh,
            new Lineage(d.Id, 10, 0, 1, "e1", null, null));
        var profileTag = Assert.Single(InterestTags.From(reading));
        Assert.Equal(tag, profileTag.Name);
        Assert.StartsWith(n.Zh + "兴趣", profileTag.ReasonZh, StringComparison.Ordinal);
    }
}
