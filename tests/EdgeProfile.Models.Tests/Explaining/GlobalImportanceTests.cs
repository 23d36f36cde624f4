using EdgeProfile.Models.Explaining;

namespace EdgeProfile.Models.Tests.Explaining;

/// <summary>Global importance: mean |φ| over rows.</summary>
public sealed class GlobalImportanceTests
{
    [Fact]
    public void Mean_absolute_attribution_ranks_the_stronger_feature_first()
    {
        var f = DelegateFunction.Scalar(3, v => (3 * v[0]) + v[1]);
        var background = new Background(ExactShapleyTests.RandomValues(10 * 3, seed: 1), 3, "10 random rows");
        var rows = ExactShapleyTests.RandomValues(20 * 3, seed: 2);

        var importance = Assert.Single(GlobalImportance.Compute(f, rows, background, ExactShapleyTests.Singletons(3)));

        var mean = Enumerable.Range(0, 3).Select(i => Enumerable.Range(0, 10).Sum(k => background.Weights[k] * background.Row(k)[i])).ToArray();
        double expected0 = Enumerable.Range(0, 20).Average(r => Math.Abs(3 * (rows[(r * 3) + 0] - mean[0])));
        double expected1 = Enumerable.Range(0, 20).Average(r => Math.Abs(rows[(r * 3) + 1] - mean[1]));
        Assert.Equal(expected0, importance[0], 1e-12);
        Assert.Equal(expected1, importance[1], 1e-12);
        Assert.True(importance[2] <= 1e-12);
        Assert.Equal(0, Array.IndexOf(importance, importance.Max()));
    }

    [Fact]
    public void More_groups_than_exact_allows_go_through_kernel_shap()
    {
        const int m = 20;
        var coefficients = ExactShapleyTests.RandomValues(m, seed: 3);
        var f = DelegateFunction.Scalar(m, v => v.Select((value, i) => coefficients[i] * value).Sum());
        var background = new Background(ExactShapleyTests.RandomValues(3 * m, seed: 4), m, "3 random rows");
        var rows = ExactShapleyTests.RandomValues(4 * m, seed: 5);

        var importance = Assert.Single(GlobalImportance.Compute(f, rows, background, ExactShapleyTests.Singletons(m)));

        for (int i = 0; i < m; i++)
        {
            double mean = Enumerable.Range(0, 3).Sum(k => background.Weights[k] * background.Row(k)[i]);
            double expected = Enumerable.Range(0, 4).Average(r => Math.Abs(coefficients[i] * (rows[(r * m) + i] - mean)));
            Assert.Equal(expected, importance[i], 1e-9);
        }
    }

    [Fact]
    public void Ragged_or_empty_input_is_refused()
    {
        var f = DelegateFunction.Scalar(2, v => v[0]);
        var background = new Background([0, 0], 2, "zeros");
        var two = ExactShapley.Explain(f, [1, 2], background, ExactShapleyTests.Singletons(2));
        var one = ExactShapley.Explain(f, [1, 2], background, new FeatureGroups(2, ["both"], [[0, 1]]));
        var twoOutputs = new[] { two[0], two[0] };

        Assert.Throws<ArgumentException>(() => GlobalImportance.MeanAbsolute([]));
        Assert.Throws<ArgumentException>(() => GlobalImportance.MeanAbsolute([two, one]));
        Assert.Throws<ArgumentException>(() => GlobalImportance.MeanAbsolute([two, twoOutputs]));
        Assert.Throws<ArgumentException>(() => GlobalImportance.Compute(f, [1, 2, 3], background, ExactShapleyTests.Singletons(2)));
        Assert.Equal([[1.0, 0.0]], GlobalImportance.MeanAbsolute([two, two]));
    }
}
