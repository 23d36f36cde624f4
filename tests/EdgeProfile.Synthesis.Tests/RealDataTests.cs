using System.Text.Json;
using EdgeProfile.Core.Features;
using EdgeProfile.Synthesis.Labels;
using EdgeProfile.Synthesis.Mapping;

namespace EdgeProfile.Synthesis.Tests;

/// <summary>Runs synthesis on the UCI Online Retail data (../shared/data/online-retail) with the shipped mapping.</summary>
public sealed class RealDataTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void Online_retail_repurchase_within_90_days_yields_a_ranked_selection_and_definitions()
    {
        var mapping = TestData.Mapping("online-retail.mapping.json");
        var result = SynthesisRunner.Run(new SynthesisOptions
        {
            CsvPath = TestData.Dataset("online-retail", "online_retail_clean.csv.gz"),
            Mapping = ColumnMapping.Load(mapping),
            MappingPath = mapping,
            Label = LabelKind.Repurchase,
            Horizon = TimeSpan.FromDays(90),
        });

        // The classic cleaned figures (SOURCE.txt).
        Assert.Equal(397_924, result.Data.RowCount);
        Assert.Equal(4_339, result.Data.CustomerIds.Count);
        Assert.Equal(531_282, result.Data.RowsRead);

        var report = result.Report;
        Assert.Equal("2011-09-07 05:44:00", report.Label.Cutoff); // 75 % of 2010-12-01 08:26 .. 2011-12-09 12:50
        Assert.True(report.Label.CutoffDefaulted);
        Assert.InRange(report.Label.BaseRate, 0.3, 0.8);
        Assert.True(report.Summary.Candidates >= 50, $"{report.Summary.Candidates} candidates");
        Assert.NotEmpty(report.Selected);
        Assert.True(report.Selected.Count <= 20);
        Assert.True(report.Ranking.Count >= report.Selected.Count);
        Assert.True(report.Ranking.Zip(report.Ranking.Skip(1)).All(p => p.First.MutualInformation >= p.Second.MutualInformation), "ranking is by MI");
        Assert.True(report.Selected[0].MutualInformation > 0.01);

        var files = SynthesisOutput.Write(result, dir.Path);
        var json = File.ReadAllText(Path.Combine(dir.Path, "report.json"));
        using (var doc = JsonDocument.Parse(json))
        {
            var ranking = doc.RootElement.GetProperty("ranking");
            Assert.Equal(report.Ranking.Count, ranking.GetArrayLength());
            Assert.Equal(report.Ranking[0].Name, ranking[0].GetProperty("name").GetString());
            Assert.True(ranking[0].GetProperty("mutualInformation").GetDouble() > 0);
        }

        Assert.Contains("## Ranking by mutual information", File.ReadAllText(Path.Combine(dir.Path, "report.md")), StringComparison.Ordinal);
        var definitions = FeatureSet.Parse(File.ReadAllText(Path.Combine(dir.Path, "definitions.json")));
        Assert.NotEmpty(definitions.Definitions);
        Assert.All(definitions.Definitions, d => Assert.StartsWith("syn_", d.Name, StringComparison.Ordinal));

        var matrixLines = File.ReadAllLines(Path.Combine(dir.Path, "feature_matrix.csv"));
        Assert.Equal(report.Label.Rows + 1, matrixLines.Length);
        Assert.StartsWith("customer,cutoff,label,", matrixLines[0], StringComparison.Ordinal);
        Assert.Equal(4, files.Count);
    }
}
