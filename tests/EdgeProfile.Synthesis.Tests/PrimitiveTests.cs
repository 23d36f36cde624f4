using EdgeProfile.Synthesis.Dfs;
using EdgeProfile.Synthesis.Loading;

namespace EdgeProfile.Synthesis.Tests;

public sealed class PrimitiveTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly EntitySet set;
    private readonly FeatureMatrix matrix;

    public PrimitiveTests()
    {
        set = TinyShop.Load(dir);
        matrix = TinyShop.Compute(set);
    }

    public void Dispose() => dir.Dispose();

    private double Value(string customer, string feature)
    {
        var row = matrix.RowOf(set.IndexOfCustomer(customer));
        Assert.True(row >= 0, $"{customer} has no row");
        Assert.True(matrix.Contains(feature), $"no feature '{feature}' among {string.Join("; ", matrix.Features.Select(f => f.Name))}");
        return matrix.Column(feature)[row];
    }

    [Theory]
    [InlineData("COUNT(transactions)", 6)]
    [InlineData("SUM(transactions.amount)", 30)]
    [InlineData("MEAN(transactions.amount)", 5)]
    [InlineData("STD(transactions.amount)", 2.756809750418044)]
    [InlineData("MIN(transactions.amount)", 3)]
    [InlineData("MAX(transactions.amount)", 10)]
    [InlineData("SUM(transactions.quantity)", 11)]
    [InlineData("N_UNIQUE(transactions.product)", 4)]
    [InlineData("N_UNIQUE(transactions.category)", 3)]
    [InlineData("N_UNIQUE(transactions.category_top)", 2)]
    [InlineData("N_UNIQUE(transactions.store)", 2)]
    [InlineData("TREND(transactions.amount, time)", 0.02178131370407219)]
    [InlineData("TIME_SINCE_LAST(transactions.time)", 0.625)]
    [InlineData("TIME_SINCE_FIRST(transactions.time)", 131.54166666666666)]
    [InlineData("AVG_TIME_BETWEEN(transactions.time)", 26.18333333333333)]
    [InlineData("COUNT(transactions WHERE last 30d)", 4)]
    [InlineData("SUM(transactions.amount WHERE last 30d)", 22)]
    [InlineData("COUNT(transactions WHERE last 90d)", 5)]
    [InlineData("SUM(transactions.amount WHERE last 90d)", 27)]
    [InlineData("COUNT(transactions WHERE category_top = Food)", 4)]
    [InlineData("SUM(transactions.amount WHERE category_top = Home)", 15)]
    [InlineData("COUNT(transactions WHERE store = s2)", 1)]
    public void Depth_one_aggregations_of_c1_have_the_hand_computed_values(string feature, double expected) =>
        Assert.Equal(expected, Value("c1", feature), 9);

    [Theory]
    [InlineData("N_UNIQUE(transactions.DAY_OF_WEEK(time))", 4)] // Fri, Wed, Mon, Wed, Sat, Wed
    [InlineData("MODE(transactions.DAY_OF_WEEK(time))", 2)] // Wednesday, Monday = 0
    [InlineData("MEAN(transactions.IS_WEEKEND(time))", 1.0 / 6)]
    [InlineData("MEAN(transactions.HOUR(time))", 12.333333333333334)]
    [InlineData("STD(transactions.HOUR(time))", 3.265986323710904)]
    [InlineData("N_UNIQUE(transactions.MONTH(time))", 3)]
    [InlineData("COUNT(transactions WHERE last 30d) / COUNT(transactions)", 4.0 / 6)]
    [InlineData("N_UNIQUE(transactions.product) / COUNT(transactions)", 4.0 / 6)]
    public void Transforms_and_ratios_of_c1_have_the_hand_computed_values(string feature, double expected) =>
        Assert.Equal(expected, Value("c1", feature), 9);

    [Theory]
    // Product counts before the cutoff, all customers: A 4, B 1 (c3's and c1's later B rows are after it), C 2, D 1.
    [InlineData("MEAN(transactions.products.COUNT(transactions))", 16.0 / 6)]
    [InlineData("MAX(transactions.products.COUNT(transactions))", 4)]
    [InlineData("MIN(transactions.products.COUNT(transactions))", 1)]
    // Product mean amounts: A (3 + 3 + 6 + 1.5) / 4 = 3.375, B 3, C (10 + 20) / 2 = 15, D 5.
    [InlineData("MEAN(transactions.products.MEAN(transactions.amount))", 5.520833333333333)]
    [InlineData("MAX(transactions.products.N_UNIQUE(transactions.customer))", 2)]
    [InlineData("MEAN(transactions.products.N_UNIQUE(transactions.customer))", 10.0 / 6)]
    // Stores: s1 5 rows, s2 3 rows (c1's Jan 6 and c2's two).
    [InlineData("MEAN(transactions.stores.COUNT(transactions))", 28.0 / 6)]
    public void Depth_two_stacking_uses_all_customers_before_the_cutoff(string feature, double expected) =>
        Assert.Equal(expected, Value("c1", feature), 9);

    [Fact]
    public void Second_customer_has_its_own_values()
    {
        Assert.Equal(2, Value("c2", "COUNT(transactions)"));
        Assert.Equal(5.5, Value("c2", "AVG_TIME_BETWEEN(transactions.time)"), 9);
        Assert.Equal((20 - 1.5) / 5.5, Value("c2", "TREND(transactions.amount, time)"), 9);
        Assert.Equal(13.081475451951127, Value("c2", "STD(transactions.amount)"), 9);
        Assert.Equal(3 + (4 / 24.0), Value("c2", "TIME_SINCE_LAST(transactions.time)"), 9);
        Assert.Equal(0.5, Value("c2", "MEAN(transactions.IS_WEEKEND(time))"), 9);
    }

    [Fact]
    public void Empty_windows_count_zero_and_leave_means_missing()
    {
        // c9 bought once, 71 days before the cutoff: nothing in the last 30 days.
        using var other = new TempDir();
        var withC9 = TinyShop.Load(other, TinyShop.Rows + "c9,2023-11-01 10:00:00,A,Apple,1,1.5,Food > Fruit,s1\n");
        var m = TinyShop.Compute(withC9);
        var row = m.RowOf(withC9.IndexOfCustomer("c9"));
        Assert.Equal(0, m.Column("COUNT(transactions WHERE last 30d)")[row]);
        Assert.Equal(0, m.Column("SUM(transactions.amount WHERE last 30d)")[row]);
        Assert.Equal(0, m.Column("N_UNIQUE(transactions.product WHERE last 30d)")[row]);
        Assert.True(double.IsNaN(m.Column("MEAN(transactions.amount WHERE last 30d)")[row]));
        Assert.True(double.IsNaN(m.Column("STD(transactions.amount)")[row]), "one value has no sample standard deviation");
        Assert.True(double.IsNaN(m.Column("AVG_TIME_BETWEEN(transactions.time)")[row]));
        Assert.True(double.IsNaN(m.Column("COUNT(transactions WHERE last 30d) / COUNT(transactions)")[row]) is false);
        Assert.Equal(71 - (10 / 24.0), m.Column("TIME_SINCE_LAST(transactions.time)")[row], 9);
    }

    [Fact]
    public void Only_customers_with_history_before_the_cutoff_are_rows()
    {
        Assert.Equal(["c1", "c2"], matrix.Rows.Select(r => set.CustomerIds[r.Customer]).Order().ToArray());
    }

    [Fact]
    public void Every_feature_carries_its_primitive_chain()
    {
        var stacked = matrix.Features.Single(f => f.Name == "MEAN(transactions.products.MEAN(transactions.amount))");
        Assert.Equal(2, stacked.Depth);
        Assert.Equal(FeatureKind.Stacked, stacked.Kind);
        Assert.Equal(["MEAN", "DIRECT", "MEAN"], stacked.Chain.Select(s => s.Primitive).ToArray());
        Assert.Equal(["products", "transactions", "customers"], stacked.Chain.Select(s => s.Entity).ToArray());

        var weekend = matrix.Features.Single(f => f.Name == "MEAN(transactions.IS_WEEKEND(time))");
        Assert.Equal(["IS_WEEKEND", "MEAN"], weekend.Chain.Select(s => s.Primitive).ToArray());
        Assert.All(matrix.Features, f => Assert.False(string.IsNullOrWhiteSpace(f.Explanation)));
    }

    [Fact]
    public void Depth_one_has_no_stacked_transform_or_ratio_features()
    {
        var features = DeepFeatureSynthesis.BuildCandidates(set, new DfsOptions { Depth = 1 });
        Assert.NotEmpty(features);
        Assert.All(features, f => Assert.Equal(1, f.Depth));
        Assert.DoesNotContain(features, f => f.Kind is FeatureKind.Stacked or FeatureKind.Ratio or FeatureKind.Transform);
    }
}
