using EdgeProfile.Models.Explaining;
using EdgeProfile.Models.Reference;

namespace EdgeProfile.Models.Tests.Explaining;

/// <summary>LIME: exact on linear functions (the surrogate can fit them perfectly), deterministic, honest about
/// additivity.</summary>
public sealed class LimeTests
{
    private static readonly double[] Coefficients = [2, -1, 0.5, 3];

    [Fact]
    public void Recovers_the_shapley_values_of_a_linear_function_without_a_ridge()
    {
        var (f, x, background) = Linear();
        var exact = Assert.Single(ExactShapley.Explain(f, x, background, ExactShapleyTests.Singletons(4)));

        var lime = Assert.Single(Lime.Explain(f, x, background, ExactShapleyTests.Singletons(4), new LimeOptions { Ridge = 0, Samples = 500 }));

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(exact.Values[i], lime.Values[i], 1e-6);
        }

        Assert.Equal(exact.BaseValue, lime.BaseValue, 1e-6);
        Assert.Equal(exact.Output, lime.Output, 1e-12);
        Assert.True(lime.SurrogateFit >= 1 - 1e-9, $"R² {lime.SurrogateFit}");
        Assert.True(lime.AdditivityError <= 1e-6);
        Assert.Equal(AttributionMethod.Lime, lime.Method);
        Assert.Null(lime.StandardErrors);
        Assert.Equal("one row (1 rows)", lime.Background);
    }

    [Fact]
    public void The_default_ridge_shrinks_a_linear_fit_only_slightly()
    {
        var (f, x, background) = Linear();
        var exact = Assert.Single(ExactShapley.Explain(f, x, background, ExactShapleyTests.Singletons(4)));

        var lime = Assert.Single(Lime.Explain(f, x, background, ExactShapleyTests.Singletons(4)));

        for (int i = 0; i < 4; i++)
        {
            Assert.True(Math.Abs(exact.Values[i] - lime.Values[i]) <= 0.01 * Math.Abs(exact.Values[i]), $"group {i}: {lime.Values[i]} vs {exact.Values[i]}");
        }

        Assert.True(lime.SurrogateFit > 0.999, $"R² {lime.SurrogateFit}");
    }

    [Fact]
    public void Same_seed_gives_the_same_surrogate_and_additivity_is_reported_as_it_is()
    {
        var weights = RandomModels.Build(new ModelSpec(RandomModels.FeatureNames(8), 2, [8], [4], [new TaskSpec("churn_90d", TaskKind.Binary)]), seed: 71);
        var function = new ReferenceFunction(new ReferenceModel(weights));
        var background = new Background(ExactShapleyTests.ToDouble(RandomModels.Rows(weights, 4, seed: 72)), 8, "4 random rows");
        var x = ExactShapleyTests.ToDouble(RandomModels.Rows(weights, 1, seed: 73));
        var groups = ExactShapleyTests.Singletons(8);
        var options = new LimeOptions { Samples = 400, Seed = 5 };

        var first = Assert.Single(Lime.Explain(function, x, background, groups, options));
        var second = Assert.Single(Lime.Explain(function, x, background, groups, options));
        var other = Assert.Single(Lime.Explain(function, x, background, groups, options with { Seed = 6 }));

        Assert.Equal(first.Values, second.Values);
        Assert.Equal(first.BaseValue, second.BaseValue);
        Assert.NotEqual(first.Values, other.Values);

        var direct = new double[1];
        function.Evaluate(x, direct);
        Assert.Equal(direct[0], first.Output, 1e-12);
        Assert.Equal(Math.Abs(first.BaseValue + first.Values.Sum() - first.Output), first.AdditivityError, 1e-15);
        Assert.InRange(first.SurrogateFit ?? double.NaN, double.NegativeInfinity, 1.0);
        Assert.True(first.Evaluations <= 400 * 4);
    }

    [Fact]
    public void Bad_options_are_refused()
    {
        var (f, x, background) = Linear();
        var groups = ExactShapleyTests.Singletons(4);

        Assert.Throws<ArgumentException>(() => Lime.Explain(f, x, background, groups, new LimeOptions { Samples = 1 }));
        Assert.Throws<ArgumentException>(() => Lime.Explain(f, x, background, groups, new LimeOptions { KernelWidth = 0 }));
        Assert.Throws<ArgumentException>(() => Lime.Explain(f, x, background, groups, new LimeOptions { Ridge = -1 }));
        Assert.Throws<ArgumentException>(() => Lime.Explain(f, [1, 2], background, groups));
    }

    private static (DelegateFunction F, double[] X, Background Background) Linear()
    {
        var f = DelegateFunction.Scalar(4, v => 0.7 + v.Select((value, i) => Coefficients[i] * value).Sum());
        var background = new Background([0.5, 1, -2, 0.25], 4, "one row");
        return (f, [1.5, -0.5, 3, 2], background);
    }
}
