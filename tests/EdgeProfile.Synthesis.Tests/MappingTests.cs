using System.IO.Compression;
using EdgeProfile.Synthesis.Loading;
using EdgeProfile.Synthesis.Mapping;

namespace EdgeProfile.Synthesis.Tests;

public sealed class MappingTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Theory]
    [InlineData("""{"time":"t","product":"p","amount":"a"}""", "key 'customer' is required")]
    [InlineData("""{"customer":"c","time":"t","product":"p"}""", "key 'amount' is required")]
    [InlineData("""{"customer":"c","time":"t","product":"p","amount":[]}""", "key 'amount' must be")]
    [InlineData("""{"customer":"c","time":"t","product":"p","amount":"a","custommer":"x"}""", "unknown key 'custommer'")]
    [InlineData("""{"customer":"c","time":"t","product":"p","amount":"a","store":3}""", "key 'store' must be a string")]
    [InlineData("""{"customer":"c","time":"t","product":"p","amount":"a","category":{"file":"x.csv","key":"k"}}""", "key 'category.category' is required")]
    [InlineData("""{"customer":"c", """, "is not valid JSON")]
    public void Mapping_errors_name_the_key(string json, string expected)
    {
        var ex = Assert.Throws<SynthesisException>(() => ColumnMapping.Parse(json));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.True(ex.IsConfiguration);
    }

    [Fact]
    public void A_mapped_column_missing_from_the_csv_is_named_with_its_key()
    {
        var csv = dir.Write("t.csv", TinyShop.Header + TinyShop.Rows);
        var mapping = TinyShop.Mapping with { Store = "shop" };
        var ex = Assert.Throws<SynthesisException>(() => TransactionLoader.Load(csv, mapping));
        Assert.Contains("mapping key 'store'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'shop'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("customer, time, sku", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_that_does_not_parse_is_reported_with_row_line_column_and_key()
    {
        var csv = dir.Write("bad.csv", TinyShop.Header + "c1,2024-01-01 10:00:00,A,Apple,2,1.5,F,s1\nc1,2024-01-02 10:00:00,A,Apple,2,1.5,F,s1\nc2,2024-01-03 10:00:00,A,Apple,2,abc,F,s1\n");
        var ex = Assert.Throws<SynthesisException>(() => TransactionLoader.Load(csv, TinyShop.Mapping));
        Assert.Contains("bad.csv row 3 (line 4)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("column 'price' (mapping key 'amount[1]') has 'abc'", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.IsConfiguration);

        var badTime = dir.Write("badtime.csv", TinyShop.Header + "c1,yesterday,A,Apple,2,1.5,F,s1\n");
        var ex2 = Assert.Throws<SynthesisException>(() => TransactionLoader.Load(badTime, TinyShop.Mapping));
        Assert.Contains("row 1 (line 2): column 'time' (mapping key 'time') has 'yesterday'", ex2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_file_or_one_without_rows_is_a_clear_error()
    {
        var empty = dir.Write("empty.csv", "");
        var ex = Assert.Throws<SynthesisException>(() => TransactionLoader.Load(empty, TinyShop.Mapping));
        Assert.Contains("empty.csv is empty", ex.Message, StringComparison.Ordinal);

        var headerOnly = dir.Write("header.csv", TinyShop.Header);
        var ex2 = Assert.Throws<SynthesisException>(() => SynthesisRunner.Run(new SynthesisOptions { CsvPath = headerOnly, Mapping = TinyShop.Mapping }));
        Assert.Contains("header.csv has no row with a customer", ex2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_without_a_customer_are_skipped_and_counted()
    {
        var set = TinyShop.Load(dir, TinyShop.Rows + ",2024-01-05 10:00:00,A,Apple,1,1.5,Food > Fruit,s1\n");
        Assert.Equal(11, set.RowsRead);
        Assert.Equal(1, set.RowsSkipped);
        Assert.Equal(10, set.RowCount);
        Assert.Equal(3, set.CustomerIds.Count);
    }

    [Fact]
    public void Time_formats_other_than_iso_are_read_with_time_format()
    {
        var csv = dir.Write("us.csv", "cust;when;item;value\nx;12/31/2023 9:05;A;2.5\n");
        var mapping = ColumnMapping.Parse("""{"customer":"cust","time":"when","timeFormat":"M/d/yyyy H:mm","product":"item","amount":"value","separator":";"}""");
        var set = TransactionLoader.Load(csv, mapping);
        Assert.Equal("2023-12-31 09:05:00", Timestamps.Format(set.Time[0]));
        Assert.Equal(2.5, set.Amount[0]);
    }

    [Fact]
    public void Gzip_files_are_read_by_extension()
    {
        var path = Path.Combine(dir.Path, "tiny.csv.gz");
        using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        using (var w = new StreamWriter(gz))
        {
            w.Write(TinyShop.Header + TinyShop.Rows);
        }

        var set = TransactionLoader.Load(path, TinyShop.Mapping);
        Assert.Equal(10, set.RowCount);
        Assert.Equal(30 + 21.5 + 15 + 3, set.Amount.Sum(), 9);
    }

    [Fact]
    public void A_category_join_is_resolved_beside_the_csv_and_builds_department_paths()
    {
        var csv = dir.Write("data/tx.csv", "\"hh\",\"ts\",\"pid\",\"sales\"\n\"1\",\"2024-01-01 10:00:00\",\"10\",2.5\n\"1\",\"2024-01-02 10:00:00\",\"11\",1\n\"2\",\"2024-01-02 11:00:00\",\"99\",4\n");
        dir.Write("data/products.csv", "\"pid\",\"dept\",\"cat\"\n\"10\",\"GROCERY\",\"BREAD\"\n\"11\",\"PRODUCE\",\n");
        var mappingPath = dir.Write("maps/cj.mapping.json", """
            {"customer":"hh","time":"ts","product":"pid","amount":"sales",
             "category":{"file":"products.csv","key":"pid","category":"cat","department":"dept"}}
            """);
        var set = TransactionLoader.Load(csv, ColumnMapping.Load(mappingPath));
        Assert.Equal(["GROCERY > BREAD", "PRODUCE"], set.Categories.ToArray());
        Assert.Equal(["GROCERY", "PRODUCE"], set.CategoryTops.ToArray());
        Assert.True(set.HasCategoryTop);
        Assert.Equal(1, set.RowsWithoutJoinedCategory); // product 99 is not in products.csv

        var missing = ColumnMapping.Load(mappingPath) with { CategoryJoin = new CategoryJoin { File = "nope.csv", Key = "pid", Category = "cat" } };
        var ex = Assert.Throws<SynthesisException>(() => TransactionLoader.Load(csv, missing));
        Assert.Contains("mapping key 'category.file': 'nope.csv' not found (tried ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(dir.Path, "data", "nope.csv"), ex.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(dir.Path, "maps", "nope.csv"), ex.Message, StringComparison.Ordinal);
    }
}
