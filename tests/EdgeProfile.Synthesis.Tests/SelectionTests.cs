using EdgeProfile.Synthesis.Dfs;
using EdgeProfile.Synthesis.Selection;

namespace EdgeProfile.Synthesis.Tests;

public sealed class SelectionTests
{
    private static SynthesizedFeature Feature(string name) => new()
    {
        Name = name,
        Depth = 1,
        Kind = FeatureKind.Aggregation,
        Primitive = Primitive.Sum,
        Chain = [new PrimitiveStep("SUM", "aggregation", "customers", name)],
        Explanation = name,
    };

    private static (FeatureMatrix Matrix, double[] Label) Synthetic()
    {
        const int n = 2000;
        var random = new Random(42);
        var label = new double[n];
        var informative = new double[n];
        var weak = new double[n];
        var noise = new double[n];
        var constant = new double[n];
        var mostlyNull = new double[n];
        var duplicate = new double[n];
        for (var i = 0; i < n; i++)
        {
            label[i] = random.NextDouble() < 0.4 ? 1 : 0;
            informative[i] = (label[i] * 2) + random.NextDouble(); // separates the classes well
            weak[i] = (label[i] * 0.3) + random.NextDouble(); // overlaps a lot
            noise[i] = random.NextDouble();
            constant[i] = 7;
            mostlyNull[i] = i % 10 < 6 ? double.NaN : label[i]; // 60 % missing, the rest perfect
            // A rescaled copy with one row in 50 on the wrong side: |r| still above 0.95, a little less informative.
            duplicate[i] = (3 * (i % 50 == 0 ? informative[i] + (label[i] > 0 ? -2 : 2) : informative[i])) + 1;
        }

        string[] names = ["noise", "weak", "informative", "constant", "mostly_null", "duplicate"];
        var rows = Enumerable.Range(0, n).Select(i => new CutoffRow(i, 0)).ToList();
        return (new FeatureMatrix(rows, names.Select(Feature).ToList(), [noise, weak, informative, constant, mostlyNull, duplicate]), label);
    }

    [Fact]
    public void Drops_constant_mostly_null_and_correlated_and_ranks_information_above_noise()
    {
        var (matrix, label) = Synthetic();
        var result = FeatureSelector.Select(matrix, label, binaryLabel: true, new SelectionOptions { Top = 2 });

        Assert.Equal(6, result.Candidates);
        var reasons = result.Dropped.ToDictionary(d => d.Name, d => d.Reason);
        Assert.Equal(DropReason.Constant, reasons["constant"]);
        Assert.Equal(DropReason.MostlyNull, reasons["mostly_null"]);
        Assert.Equal(DropReason.Correlated, reasons["duplicate"]);
        Assert.Equal(3, result.Dropped.Count);

        var duplicate = result.Dropped.Single(d => d.Name == "duplicate");
        Assert.Equal("informative", duplicate.CorrelatedWith);
        Assert.True(duplicate.Correlation > 0.95);

        Assert.Equal(["informative", "weak", "noise"], result.Ranked.Select(r => r.Name).ToArray());
        Assert.Equal(["informative", "weak"], result.Selected.Select(r => r.Name).ToArray());
        var mi = result.Ranked.ToDictionary(r => r.Name, r => r.MutualInformation);
        Assert.True(mi["informative"] > 0.5, $"MI of the informative feature {mi["informative"]}");
        Assert.True(mi["noise"] < 0.02, $"MI of noise {mi["noise"]}");
        Assert.True(mi["informative"] <= result.LabelEntropy + 1e-12);
    }

    [Fact]
    public void Limits_are_configurable()
    {
        var (matrix, label) = Synthetic();
        var result = FeatureSelector.Select(matrix, label, binaryLabel: true, new SelectionOptions { MaxMissing = 0.7, MaxCorrelation = 1.0 });
        Assert.DoesNotContain(result.Dropped, d => d.Name is "mostly_null" or "duplicate");
        Assert.Contains(result.Ranked, r => r.Name == "mostly_null");
    }

    [Fact]
    public void A_continuous_label_is_binned_too()
    {
        var (matrix, label) = Synthetic();
        var spend = label.Select((v, i) => v * (10 + (i % 7))).ToArray();
        var result = FeatureSelector.Select(matrix, spend, binaryLabel: false, new SelectionOptions());
        Assert.Equal("informative", result.Ranked[0].Name);
    }

    [Fact]
    public void Equal_frequency_bins_keep_ties_together_and_give_missing_its_own_bin()
    {
        var values = Enumerable.Range(0, 100).Select(i => (double)i).ToArray();
        var codes = MutualInformation.Discretize(values, 10);
        Assert.Equal(10, codes.Distinct().Count());
        Assert.All(codes.GroupBy(c => c), g => Assert.Equal(10, g.Count()));

        // 90 zeros, 10 distinct positives and 5 missing: zeros form one bin, positives are still split, NaN last.
        var skewed = Enumerable.Repeat(0.0, 90).Concat(Enumerable.Range(1, 10).Select(i => (double)i)).Concat(Enumerable.Repeat(double.NaN, 5)).ToArray();
        var s = MutualInformation.Discretize(skewed, 10);
        Assert.Single(s.Take(90).Distinct());
        Assert.True(s.Skip(90).Take(10).Distinct().Count() > 1);
        Assert.Single(s.Skip(100).Distinct());
        Assert.Equal(s.Max(), s[^1]);
    }

    [Fact]
    public void Mutual_information_of_a_balanced_binary_variable_with_itself_is_ln_2()
    {
        var x = Enumerable.Range(0, 1000).Select(i => i % 2).ToArray();
        Assert.Equal(Math.Log(2), MutualInformation.Compute(x, x), 12);
        var independent = Enumerable.Range(0, 1000).Select(i => i / 500).ToArray();
        Assert.Equal(0, MutualInformation.Compute(x, independent), 12);
    }
}
