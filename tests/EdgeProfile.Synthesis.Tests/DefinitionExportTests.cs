using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Synthesis.Dfs;
using EdgeProfile.Synthesis.Export;

namespace EdgeProfile.Synthesis.Tests;

public sealed class DefinitionExportTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly Dictionary<string, SynthesizedFeature> features;

    public DefinitionExportTests()
    {
        var set = TinyShop.Load(dir);
        features = DeepFeatureSynthesis.BuildCandidates(set, new DfsOptions { InterestingBefore = TinyShop.CutoffMs }).ToDictionary(f => f.Name);
    }

    public void Dispose() => dir.Dispose();

    private DefinitionExport Export(params string[] names) =>
        DefinitionExporter.Export(names.Select(n => (features[n], 0.0123)).ToList(), "repurchase within 90d after 2024-01-11 00:00:00");

    [Fact]
    public void Stream_expressible_features_become_definitions_with_windows_fields_and_names()
    {
        var export = Export(
            "COUNT(transactions WHERE last 30d)",
            "SUM(transactions.amount WHERE last 90d)",
            "MEAN(transactions.quantity)",
            "N_UNIQUE(transactions.product WHERE last 90d)",
            "N_UNIQUE(transactions.category_top)",
            "TIME_SINCE_LAST(transactions.time)",
            "SUM(transactions.amount WHERE category_top = Food)",
            "N_UNIQUE(transactions.product) / COUNT(transactions)",
            "MEAN(transactions.HOUR(time))");
        var set = FeatureSet.Parse(export.Set.ToJson());
        Assert.Equal(0, set.Revision);
        Assert.Equal(
            ["syn_count_30d", "syn_sum_amount_90d", "syn_mean_quantity_lifetime", "syn_distinct_sku_90d", "syn_distinct_category_top_lifetime", "syn_days_since_last", "syn_sum_amount_cat_food", "syn_distinct_sku_per_count_lifetime", "syn_mean_hour_lifetime"],
            set.Definitions.Select(d => d.Name).ToArray());
        Assert.All(set.Definitions, d =>
        {
            Assert.Equal("synthesis", d.Owner);
            Assert.Equal([EventType.Purchase], d.EventTypes);
            Assert.Contains("MI 0.0123 nats", d.Description, StringComparison.Ordinal);
        });

        var count30 = set.Find("syn_count_30d")!;
        Assert.Equal(WindowSpec.Sliding(TimeSpan.FromDays(30), TimeSpan.FromDays(1)), count30.Window);
        Assert.Equal(AggregationKind.Count, count30.Aggregation.Kind);
        Assert.Equal(TimeSpan.FromDays(30), count30.Ttl);
        Assert.Contains("COUNT(transactions WHERE last 30d)", count30.Description, StringComparison.Ordinal);

        Assert.Equal(WindowSpec.Sliding(TimeSpan.FromDays(90), TimeSpan.FromDays(1)), set.Find("syn_sum_amount_90d")!.Window);
        Assert.Equal(FeatureField.Amount, set.Find("syn_sum_amount_90d")!.Aggregation.Field);
        Assert.Equal(FeatureField.Sku, set.Find("syn_distinct_sku_90d")!.Aggregation.Field);
        Assert.Equal(AggregationKind.DistinctCount, set.Find("syn_distinct_sku_90d")!.Aggregation.Kind);
        Assert.Equal(FeatureField.CategoryTop, set.Find("syn_distinct_category_top_lifetime")!.Aggregation.Field);
        Assert.Equal(WindowSpec.Lifetime, set.Find("syn_days_since_last")!.Window);
        Assert.Equal(AggregationKind.TimeSinceLast, set.Find("syn_days_since_last")!.Aggregation.Kind);
        Assert.Null(set.Find("syn_days_since_last")!.Ttl);

        var food = set.Find("syn_sum_amount_cat_food")!;
        Assert.Equal("Food", food.CategoryPrefix);
        Assert.Equal(AggregationKind.Sum, food.Aggregation.Kind);

        var ratio = set.Find("syn_distinct_sku_per_count_lifetime")!.Aggregation;
        Assert.Equal(AggregationKind.Ratio, ratio.Kind);
        Assert.Equal(AggregationKind.DistinctCount, ratio.Numerator!.Kind);
        Assert.Equal(AggregationKind.Count, ratio.Denominator!.Kind);

        Assert.Equal(FeatureField.Hour, set.Find("syn_mean_hour_lifetime")!.Aggregation.Field);
    }

    [Theory]
    [InlineData("STD(transactions.amount)", "STD has no stream aggregation")]
    [InlineData("TREND(transactions.amount, time)", "TREND has no stream aggregation")]
    [InlineData("AVG_TIME_BETWEEN(transactions.time)", "AVG_TIME_BETWEEN has no stream aggregation")]
    [InlineData("MEAN(transactions.products.MEAN(transactions.amount))", "depth-2 stacking")]
    [InlineData("MEAN(transactions.IS_WEEKEND(time))", "IS_WEEKEND(time) is not a field of stream events")]
    [InlineData("COUNT(transactions WHERE last 30d) / COUNT(transactions)", "across two windows")]
    [InlineData("COUNT(transactions WHERE store = s1)", "a filter on store")]
    public void Other_features_stay_offline_with_a_reason(string name, string reason)
    {
        var export = Export(name);
        Assert.Empty(export.Set.Definitions);
        var only = Assert.Single(export.Features);
        Assert.Null(only.Definition);
        Assert.Contains(reason, only.OfflineReason, StringComparison.Ordinal);
    }
}
