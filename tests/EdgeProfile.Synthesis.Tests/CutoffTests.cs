using EdgeProfile.Synthesis.Dfs;
using EdgeProfile.Synthesis.Labels;

namespace EdgeProfile.Synthesis.Tests;

public sealed class CutoffTests : IDisposable
{
    // Rows at and after the cutoff: one exactly at it, two one second after it (c2 buys again, c1 buys the top
    // product), a new customer buying everything later, and huge amounts that would move every aggregate they leaked into.
    private const string After = """
        c1,2024-01-11 00:00:00,C,Candle,3,10.0,Home > Decor,s2
        c2,2024-01-11 00:00:01,A,Apple,100,1.5,Food > Fruit,s1
        c1,2024-01-11 00:00:01,A,Apple,50,99.0,Food > Fruit,s1
        c4,2024-01-12 09:00:00,A,Apple,1000,1.5,Food > Fruit,s2
        c4,2024-01-13 09:00:00,B,Bread,1000,3.0,Food > Bakery,s2
        c4,2024-01-14 09:00:00,C,Candle,1000,10.0,New > Thing,s3

        """;

    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void Rows_at_or_after_the_cutoff_change_no_feature_value_only_labels()
    {
        var before = TinyShop.Load(dir, TinyShop.Rows, "before.csv");
        var after = TinyShop.Load(dir, TinyShop.Rows + After, "after.csv");
        var a = TinyShop.Compute(before);
        var b = TinyShop.Compute(after);

        Assert.Equal(a.Features.Select(f => f.Name), b.Features.Select(f => f.Name));
        Assert.Equal(2, b.Rows.Count);
        foreach (var customer in new[] { "c1", "c2" })
        {
            var ra = a.RowOf(before.IndexOfCustomer(customer));
            var rb = b.RowOf(after.IndexOfCustomer(customer));
            for (var f = 0; f < a.Features.Count; f++)
            {
                var x = a.Columns[f][ra];
                var y = b.Columns[f][rb];
                Assert.True(x.Equals(y), $"{customer} {a.Features[f].Name}: {x} before the extra rows, {y} after");
            }
        }

        var horizon = TimeSpan.FromDays(30);
        var la = LabelBuilder.Compute(before, a.Rows, LabelKind.Repurchase, horizon);
        var lb = LabelBuilder.Compute(after, b.Rows, LabelKind.Repurchase, horizon);
        var c2a = a.RowOf(before.IndexOfCustomer("c2"));
        var c2b = b.RowOf(after.IndexOfCustomer("c2"));
        Assert.Equal(0, la[c2a]);
        Assert.Equal(1, lb[c2b]);

        var spendA = LabelBuilder.Compute(before, a.Rows, LabelKind.Spend, horizon);
        var spendB = LabelBuilder.Compute(after, b.Rows, LabelKind.Spend, horizon);
        var c1a = a.RowOf(before.IndexOfCustomer("c1"));
        var c1b = b.RowOf(after.IndexOfCustomer("c1"));
        Assert.Equal(3.0, spendA[c1a], 9); // the Feb 1 bread
        Assert.Equal(3.0 + (50 * 99.0), spendB[c1b], 9); // plus the row 1 s after; the row at the cutoff is in neither
    }

    [Fact]
    public void Labels_look_only_at_the_horizon_after_the_cutoff()
    {
        var set = TinyShop.Load(dir);
        var rows = CutoffRows.AtCutoff(set, TinyShop.CutoffMs);
        var c1 = rows.ToList().FindIndex(r => set.CustomerIds[r.Customer] == "c1");
        var c2 = rows.ToList().FindIndex(r => set.CustomerIds[r.Customer] == "c2");

        var repurchase = LabelBuilder.Compute(set, rows, LabelKind.Repurchase, TimeSpan.FromDays(30));
        var churn = LabelBuilder.Compute(set, rows, LabelKind.Churn, TimeSpan.FromDays(30));
        var shortHorizon = LabelBuilder.Compute(set, rows, LabelKind.Repurchase, TimeSpan.FromDays(20));
        Assert.Equal((1.0, 0.0), (repurchase[c1], repurchase[c2]));
        Assert.Equal((0.0, 1.0), (churn[c1], churn[c2]));
        Assert.Equal(0.0, shortHorizon[c1]); // Feb 1 is 21 days after Jan 11
    }

    [Fact]
    public void Per_customer_cutoffs_from_a_file_apply_to_features_and_labels()
    {
        var set = TinyShop.Load(dir);
        var file = CutoffRows.FromFile(set, dir.Write("cutoffs.csv", "customer,cutoff\nc1,2024-01-11\nc2,2024-01-05 00:00:00\nnobody,2024-01-05\nc3,2024-01-05\n"));
        Assert.Equal(2, file.Rows.Count);
        Assert.Equal(1, file.UnknownCustomers);
        Assert.Equal(1, file.WithoutHistory);

        var features = DeepFeatureSynthesis.BuildCandidates(set, new DfsOptions());
        var m = DeepFeatureSynthesis.Compute(set, features, file.Rows);
        var c2 = m.RowOf(set.IndexOfCustomer("c2"));
        Assert.Equal(1, m.Column("COUNT(transactions)")[c2]); // only the Jan 2 row lies before Jan 5
        Assert.Equal(2 + (16 / 24.0), m.Column("TIME_SINCE_LAST(transactions.time)")[c2], 9); // Jan 2 08:00 to Jan 5
        // Product A before Jan 5: c1's Sep 1 and Jan 1 rows and c2's Jan 2 row.
        Assert.Equal(3, m.Column("MEAN(transactions.products.COUNT(transactions))")[c2]);

        var labels = LabelBuilder.Compute(set, file.Rows, LabelKind.Repurchase, TimeSpan.FromDays(3));
        Assert.Equal(1, labels[c2]); // Jan 7 lies in (Jan 5, Jan 8]
    }
}
