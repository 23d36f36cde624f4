using System.Text.Json;
using EdgeProfile.Cli;
using EdgeProfile.Core.Features;

namespace EdgeProfile.Synthesis.Tests;

/// <summary><c>edgeprofile features synthesize</c> run in-process, on the Complete Journey sample (../shared/data/completejourney).</summary>
public sealed class CliTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public async Task Synthesize_on_complete_journey_with_store_and_joined_category_writes_all_files()
    {
        var output = Path.Combine(dir.Path, "out");
        var code = await CliApp.RunAsync(
        [
            "features", "synthesize",
            "--csv", TestData.Dataset("completejourney", "transactions_sample.csv"),
            "--mapping", TestData.Mapping("completejourney.mapping.json"),
            "--cutoff", "2017-10-01",
            "--label", "churn",
            "--horizon", "60d",
            "--top", "15",
            "--out", output,
        ]);
        Assert.Equal(ExitCodes.Ok, code);

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        var root = doc.RootElement;
        Assert.Equal(75_000, root.GetProperty("input").GetProperty("rowsLoaded").GetInt32());
        Assert.Equal(2_377, root.GetProperty("input").GetProperty("customers").GetInt32());
        Assert.Equal(293, root.GetProperty("input").GetProperty("stores").GetInt32());
        Assert.True(root.GetProperty("input").GetProperty("categories").GetInt32() > 100, "categories joined from products.csv");
        Assert.Equal("2017-10-01 00:00:00", root.GetProperty("label").GetProperty("cutoff").GetString());
        Assert.Equal("churn", root.GetProperty("label").GetProperty("kind").GetString());
        Assert.True(root.GetProperty("summary").GetProperty("candidates").GetInt32() >= 50);
        var selected = root.GetProperty("selected");
        Assert.InRange(selected.GetArrayLength(), 1, 15);
        var names = selected.EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        var all = root.GetProperty("ranking").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToList();
        Assert.Contains(all, n => n.Contains("category", StringComparison.Ordinal));
        Assert.Contains(all, n => n.Contains("store", StringComparison.Ordinal));
        Assert.All(names, n => Assert.Contains(n, all));

        var set = FeatureSet.Parse(File.ReadAllText(Path.Combine(output, "definitions.json")));
        Assert.NotEmpty(set.Definitions);
        Assert.True(File.Exists(Path.Combine(output, "report.md")));
        Assert.True(File.Exists(Path.Combine(output, "feature_matrix.csv")));
    }

    [Fact]
    public async Task A_mapping_naming_a_missing_column_fails_with_one_line_and_usage_exit_code()
    {
        var csv = dir.Write("t.csv", TinyShop.Header + TinyShop.Rows);
        var mapping = dir.Write("m.json", TinyShop.MappingJson.Replace("\"store\": \"store\"", "\"store\": \"shop\"", StringComparison.Ordinal));
        var error = new StringWriter();
        var before = Console.Error;
        Console.SetError(error);
        int code;
        try
        {
            code = await CliApp.RunAsync(["features", "synthesize", "--csv", csv, "--mapping", mapping, "--out", Path.Combine(dir.Path, "out")]);
        }
        finally
        {
            Console.SetError(before);
        }

        Assert.Equal(ExitCodes.Usage, code);
        var text = error.ToString().Trim();
        Assert.Single(text.Split('\n'));
        Assert.Contains("mapping key 'store': column 'shop' is not in t.csv", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "out")));
    }

    [Fact]
    public async Task A_cutoff_before_all_data_is_a_usage_error()
    {
        var csv = dir.Write("t.csv", TinyShop.Header + TinyShop.Rows);
        var mapping = dir.Write("m.json", TinyShop.MappingJson);
        var error = new StringWriter();
        var before = Console.Error;
        Console.SetError(error);
        int code;
        try
        {
            code = await CliApp.RunAsync(["features", "synthesize", "--csv", csv, "--mapping", mapping, "--cutoff", "2020-01-01", "--out", Path.Combine(dir.Path, "out")]);
        }
        finally
        {
            Console.SetError(before);
        }

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("no customer has a transaction before the cutoff 2020-01-01 00:00:00", error.ToString(), StringComparison.Ordinal);
    }
}
