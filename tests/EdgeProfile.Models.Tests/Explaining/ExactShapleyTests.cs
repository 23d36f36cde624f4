using EdgeProfile.Models.Explaining;
using EdgeProfile.Models.Reference;

namespace EdgeProfile.Models.Tests.Explaining;

/// <summary>Exact Shapley values: closed forms, the axioms (null player, dummy, efficiency), and the definition over
/// all M! orders on random networks.</summary>
public sealed class ExactShapleyTests
{
    private static readonly TaskSpec[] SmallTasks =
    [
        new("churn_90d", TaskKind.Binary),
        new("ltv_90d", TaskKind.Regression),
        new("category_propensity", TaskKind.MultiLabel, ["grocery", "fashion"]),
    ];

    private static readonly string[] Names3 = ["x0", "x1", "x2"];

    [Fact]
    public void Linear_function_gets_its_coefficients_times_the_distance_from_the_weighted_background_mean()
    {
        var f = DelegateFunction.Scalar(3, v => v[0] + (2 * v[1]));
        var random = new Random(3);
        var rows = Enumerable.Range(0, 5 * 3).Select(_ => (random.NextDouble() * 10) - 5).ToArray();
        var background = new Background(rows, 3, "random rows", [1, 2, 3, 4, 5]);
        double[] x = [1.25, -0.5, 7];

        var attribution = Assert.Single(ExactShapley.Explain(f, x, background, Singletons(3)));

        double[] coefficients = [1, 2, 0];
        for (int i = 0; i < 3; i++)
        {
            double mean = Enumerable.Range(0, 5).Sum(k => background.Weights[k] * background.Row(k)[i]);
            Assert.Equal(coefficients[i] * (x[i] - mean), attribution.Values[i], 1e-12);
        }

        Assert.Equal(AttributionMethod.ExactShapley, attribution.Method);
        Assert.Equal(Names3, attribution.Groups);
        Assert.Null(attribution.StandardErrors);
        Assert.Equal(8 * 5, attribution.Evaluations);
        Assert.Equal("random rows (5 rows)", attribution.Background);
        Assert.Equal(x[0] + (2 * x[1]), attribution.Output, 1e-12);
        Assert.True(attribution.AdditivityError <= 1e-12, $"additivity error {attribution.AdditivityError}");
    }

    [Fact]
    public void Each_product_term_splits_evenly_between_its_factors_against_a_zero_background()
    {
        var f = DelegateFunction.Scalar(4, v => (v[0] * v[2]) + v[1] + v[2] + (v[2] * v[3]));
        var background = new Background(new double[4], 4, "zeros");
        double[] x = [1.5, -2, 3, 0.5];

        var phi = Assert.Single(ExactShapley.Explain(f, x, background, Singletons(4))).Values;

        Assert.Equal(x[0] * x[2] / 2, phi[0], 1e-12);
        Assert.Equal(x[1], phi[1], 1e-12);
        Assert.Equal(x[2] + (x[0] * x[2] / 2) + (x[2] * x[3] / 2), phi[2], 1e-12);
        Assert.Equal(x[2] * x[3] / 2, phi[3], 1e-12);
    }

    [Fact]
    public void A_feature_equal_to_the_single_background_row_gets_exactly_zero()
    {
        var weights = RandomModels.Build(new ModelSpec(RandomModels.FeatureNames(6), 2, [4], [3], SmallTasks), seed: 21);
        var function = new ReferenceFunction(new ReferenceModel(weights));
        var b = ToDouble(RandomModels.Rows(weights, 1, seed: 22));
        var x = ToDouble(RandomModels.Rows(weights, 1, seed: 23));
        x[2] = b[2];

        var attributions = ExactShapley.Explain(function, x, new Background(b, 6, "one row"), Singletons(6));

        Assert.Equal(function.Outputs, attributions.Length);
        foreach (var attribution in attributions)
        {
            Assert.Equal(0.0, attribution.Values[2]);
            Assert.Contains(attribution.Values, v => Math.Abs(v) > 1e-6); // the others do move the output
        }
    }

    [Fact]
    public void A_feature_the_function_ignores_gets_zero_over_a_multi_row_background()
    {
        var f = DelegateFunction.Scalar(4, v => (Math.Sin(v[0]) * v[1]) + (v[1] * v[3] * v[3]) + Math.Exp(v[0] / 3));
        var background = new Background(RandomValues(7 * 4, seed: 5), 4, "random rows");
        double[] x = [0.3, -1.2, 4, 2.2];

        var phi = Assert.Single(ExactShapley.Explain(f, x, background, Singletons(4))).Values;

        Assert.True(Math.Abs(phi[2]) <= 1e-12, $"φ2 = {phi[2]}");
        Assert.True(Math.Abs(phi[1]) > 1e-3);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Equals_the_average_over_all_orders_on_random_networks_with_single_features(int m)
    {
        var weights = RandomModels.Build(new ModelSpec(RandomModels.FeatureNames(m), 2, [4], [3], SmallTasks), seed: 100 + m);
        var function = new ReferenceFunction(new ReferenceModel(weights));
        var background = new Background(ToDouble(RandomModels.Rows(weights, 3, seed: 200 + m)), m, "3 random rows", [0.5, 0.3, 0.2]);
        var x = ToDouble(RandomModels.Rows(weights, 1, seed: 300 + m));

        AssertMatchesBruteForce(function, x, background, Singletons(m));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Equals_the_average_over_all_orders_on_random_networks_with_feature_groups(int m)
    {
        var weights = RandomModels.Build(new ModelSpec(RandomModels.FeatureNames(6), 2, [4], [3], SmallTasks), seed: 400 + m);
        var function = new ReferenceFunction(new ReferenceModel(weights));
        var background = new Background(ToDouble(RandomModels.Rows(weights, 3, seed: 500 + m)), 6, "3 random rows");
        var x = ToDouble(RandomModels.Rows(weights, 1, seed: 600 + m));

        // Interleaved, uneven groups: feature i joins group (5 − i) mod M.
        var members = Enumerable.Range(0, m).Select(g => Enumerable.Range(0, 6).Where(i => (5 - i) % m == g).ToArray()).ToArray();
        var groups = new FeatureGroups(6, [.. Enumerable.Range(0, m).Select(g => $"g{g}")], members);

        AssertMatchesBruteForce(function, x, background, groups);
    }

    [Fact]
    public void Attributions_add_up_to_the_output_on_an_mmoe_with_ten_groups()
    {
        var weights = RandomModels.Mmoe(seed: 9);
        var function = new ReferenceFunction(new ReferenceModel(weights));
        var names = weights.Spec.Features;
        var groups = FeatureGroups.By(names, name => $"pair{int.Parse(name[1..], System.Globalization.CultureInfo.InvariantCulture) / 2}");
        Assert.Equal(10, groups.Count);
        var background = new Background(ToDouble(RandomModels.Rows(weights, 8, seed: 10)), names.Count, "8 random rows");
        var x = ToDouble(RandomModels.Rows(weights, 1, seed: 11));

        var attributions = ExactShapley.Explain(function, x, background, groups);

        Assert.Equal(function.Outputs, attributions.Length);
        var direct = new double[function.Outputs];
        function.Evaluate(x, direct);
        for (int o = 0; o < attributions.Length; o++)
        {
            var a = attributions[o];
            Assert.True(a.AdditivityError <= 1e-9, $"output {o}: additivity error {a.AdditivityError}");
            Assert.True(Math.Abs(a.BaseValue + a.Values.Sum() - direct[o]) <= 1e-9);
            Assert.Equal(1024 * 8, a.Evaluations);
        }
    }

    [Fact]
    public void Coalition_values_are_background_averages_by_mask()
    {
        var f = DelegateFunction.Scalar(3, v => (v[0] * v[1]) + v[2]);
        var background = new Background([1, 2, 3, 4, 5, 6], 3, "two rows", [1, 3]);
        double[] x = [10, 20, 30];
        var groups = new FeatureGroups(3, ["a", "b"], [[0, 2], [1]]);

        var values = ExactShapley.CoalitionValues(f, x, background, groups);

        Assert.Equal(4, values.Length);
        Assert.Equal((0.25 * ((1 * 2) + 3)) + (0.75 * ((4 * 5) + 6)), values[0], 1e-12); // ∅
        Assert.Equal((0.25 * ((10 * 2) + 30)) + (0.75 * ((10 * 5) + 30)), values[1], 1e-12); // {a}
        Assert.Equal((0.25 * ((1 * 20) + 3)) + (0.75 * ((4 * 20) + 6)), values[2], 1e-12); // {b}
        Assert.Equal((10 * 20) + 30, values[3], 1e-12); // all
    }

    [Fact]
    public void Rows_are_evaluated_in_chunks()
    {
        var function = new RecordingLinear([.. Enumerable.Range(0, 12).Select(i => i - 5.5)]);
        var background = new Background(RandomValues(32 * 12, seed: 4), 12, "32 random rows");
        var x = RandomValues(12, seed: 6);

        var attribution = Assert.Single(ExactShapley.Explain(function, x, background, Singletons(12)));

        Assert.True(function.LargestBatch <= 4096, $"{function.LargestBatch} rows in one call");
        Assert.Equal(4096L * 32, function.RowsEvaluated);
        Assert.Equal(4096L * 32, attribution.Evaluations);
        for (int i = 0; i < 12; i++)
        {
            double mean = Enumerable.Range(0, 32).Sum(k => background.Weights[k] * background.Row(k)[i]);
            Assert.Equal(function.Coefficients[i] * (x[i] - mean), attribution.Values[i], 1e-9);
        }
    }

    [Fact]
    public void A_coalition_values_fast_path_is_used_instead_of_row_evaluations()
    {
        double[] coefficients = [2, -1, 0.5, 3, 0];
        var fast = new LinearWithCoalitionValues(coefficients);
        var slow = DelegateFunction.Scalar(5, v => 1 + v.Select((value, i) => coefficients[i] * value).Sum());
        var background = new Background(RandomValues(4 * 5, seed: 12), 5, "4 random rows");
        var x = RandomValues(5, seed: 13);
        var groups = new FeatureGroups(5, ["a", "b", "c"], [[0, 3], [1], [2, 4]]);

        var expected = Assert.Single(ExactShapley.Explain(slow, x, background, groups));
        var actual = Assert.Single(ExactShapley.Explain(fast, x, background, groups));

        Assert.Equal(0, fast.Evaluations);
        Assert.Equal(expected.BaseValue, actual.BaseValue, 1e-12);
        Assert.Equal(expected.Output, actual.Output, 1e-12);
        for (int g = 0; g < 3; g++)
        {
            Assert.Equal(expected.Values[g], actual.Values[g], 1e-12);
        }
    }

    [Fact]
    public void More_than_sixteen_groups_is_refused_with_a_pointer_to_kernel_shap()
    {
        var f = DelegateFunction.Scalar(17, v => v.Sum());
        var background = new Background(new double[17], 17, "zeros");

        var error = Assert.Throws<ArgumentException>(() => ExactShapley.Explain(f, new double[17], background, Singletons(17)));
        Assert.Contains("KernelSHAP", error.Message);
    }

    [Fact]
    public void Mismatched_widths_are_refused()
    {
        var f = DelegateFunction.Scalar(3, v => v.Sum());
        var background = new Background(new double[3], 3, "zeros");

        Assert.Throws<ArgumentException>(() => ExactShapley.Explain(f, new double[4], background, Singletons(3)));
        Assert.Throws<ArgumentException>(() => ExactShapley.Explain(f, new double[3], new Background(new double[4], 4, "zeros"), Singletons(3)));
        Assert.Throws<ArgumentException>(() => ExactShapley.Explain(f, new double[3], background, Singletons(2)));
        Assert.Throws<ArgumentException>(() => ExactShapley.CoalitionValues(f, new double[2], background, Singletons(3)));
    }

    internal static FeatureGroups Singletons(int count) =>
        FeatureGroups.Singletons([.. Enumerable.Range(0, count).Select(i => $"x{i}")]);

    internal static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);

    internal static double[] RandomValues(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (random.NextDouble() * 6) - 3)];
    }

    private static void AssertMatchesBruteForce(IExplainedFunction function, double[] x, Background background, FeatureGroups groups)
    {
        var expected = BruteForceShapley.Values(function, x, background, groups);
        var actual = ExactShapley.Explain(function, x, background, groups);

        Assert.Equal(expected.Length, actual.Length);
        for (int o = 0; o < expected.Length; o++)
        {
            for (int g = 0; g < groups.Count; g++)
            {
                Assert.True(
                    Math.Abs(expected[o][g] - actual[o].Values[g]) <= 1e-9,
                    $"output {o}, group {g}: brute force {expected[o][g]}, exact {actual[o].Values[g]}");
            }

            Assert.True(actual[o].AdditivityError <= 1e-9);
        }
    }

    /// <summary>A linear function that records how it is called.</summary>
    private sealed class RecordingLinear(double[] coefficients) : IExplainedFunction
    {
        public double[] Coefficients { get; } = coefficients;

        public int Inputs => Coefficients.Length;

        public int Outputs => 1;

        public int LargestBatch { get; private set; }

        public long RowsEvaluated { get; private set; }

        public void Evaluate(ReadOnlySpan<double> rows, Span<double> outputs)
        {
            int count = rows.Length / Inputs;
            LargestBatch = Math.Max(LargestBatch, count);
            RowsEvaluated += count;
            for (int r = 0; r < count; r++)
            {
                double y = 0;
                for (int i = 0; i < Inputs; i++)
                {
                    y += Coefficients[i] * rows[(r * Inputs) + i];
                }

                outputs[r] = y;
            }
        }
    }

    /// <summary><c>1 + c·x</c> with its coalition values in closed form: the groups in S contribute <c>c·x</c>, the others
    /// <c>c·E[b]</c> (linearity of the expectation).</summary>
    private sealed class LinearWithCoalitionValues(double[] coefficients) : IExplainedFunction, ICoalitionValues
    {
        public int Inputs => coefficients.Length;

        public int Outputs => 1;

        public int Evaluations { get; private set; }

        public void Evaluate(ReadOnlySpan<double> rows, Span<double> outputs)
        {
            Evaluations++;
            for (int r = 0; r < outputs.Length; r++)
            {
                double y = 1;
                for (int i = 0; i < Inputs; i++)
                {
                    y += coefficients[i] * rows[(r * Inputs) + i];
                }

                outputs[r] = y;
            }
        }

        public void CoalitionValues(ReadOnlySpan<double> x, Background background, FeatureGroups groups, Span<double> values)
        {
            var mean = new double[Inputs];
            for (int k = 0; k < background.Count; k++)
            {
                for (int i = 0; i < Inputs; i++)
                {
                    mean[i] += background.Weights[k] * background.Row(k)[i];
                }
            }

            for (int mask = 0; mask < values.Length; mask++)
            {
                double y = 1;
                for (int i = 0; i < Inputs; i++)
                {
                    bool inS = (mask & (1 << groups.GroupOf[i])) != 0;
                    y += coefficients[i] * (inS ? x[i] : mean[i]);
                }

                values[mask] = y;
            }
        }
    }
}
