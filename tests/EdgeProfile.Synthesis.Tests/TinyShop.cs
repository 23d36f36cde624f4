using EdgeProfile.Synthesis.Dfs;
using EdgeProfile.Synthesis.Labels;
using EdgeProfile.Synthesis.Loading;
using EdgeProfile.Synthesis.Mapping;

namespace EdgeProfile.Synthesis.Tests;

/// <summary>
/// A hand-made shop whose feature values were worked out by hand (see the expected values in the tests). Cutoff
/// 2024-01-11 00:00:00; c1 has six rows before it (one 132 days, one 57 days before), c2 two, c3 only one after it.
/// </summary>
internal static class TinyShop
{
    public const string Cutoff = "2024-01-11 00:00:00";

    public const string Header = "customer,time,sku,name,qty,price,cat,store\n";

    public const string Rows = """
        c1,2023-09-01 11:00:00,A,Apple,2,1.5,Food > Fruit,s1
        c1,2023-11-15 14:00:00,D,Doily,1,5.0,Home > Decor,s1
        c1,2024-01-01 10:00:00,A,Apple,2,1.5,Food > Fruit,s1
        c1,2024-01-03 12:00:00,B,Bread,1,3.0,Food > Bakery,s1
        c1,2024-01-06 18:00:00,A,Apple,4,1.5,Food > Fruit,s2
        c1,2024-01-10 09:00:00,C,Candle,1,10.0,Home > Decor,s1
        c2,2024-01-02 08:00:00,A,Apple,1,1.5,Food > Fruit,s2
        c2,2024-01-07 20:00:00,C,Candle,2,10.0,Home > Decor,s2
        c3,2024-01-20 10:00:00,B,Bread,5,3.0,Food > Bakery,s2
        c1,2024-02-01 10:00:00,B,Bread,1,3.0,Food > Bakery,s1

        """;

    public const string MappingJson = """
        {
          "customer": "customer", "time": "time", "product": "sku", "productName": "name",
          "amount": ["qty", "price"], "quantity": "qty", "category": "cat", "store": "store"
        }
        """;

    public static ColumnMapping Mapping => ColumnMapping.Parse(MappingJson);

    public static long CutoffMs => Timestamps.Parse(Cutoff, "cutoff");

    public static EntitySet Load(TempDir dir, string rows = Rows, string name = "tiny.csv") =>
        TransactionLoader.Load(dir.Write(name, Header + rows), Mapping);

    public static FeatureMatrix Compute(EntitySet set, int depth = 2) =>
        DeepFeatureSynthesis.Compute(set, DeepFeatureSynthesis.BuildCandidates(set, new DfsOptions { Depth = depth, InterestingBefore = CutoffMs }), CutoffRows.AtCutoff(set, CutoffMs));
}
