using EdgeProfile.Models.Explaining;
using EdgeProfile.Models.Reference;

namespace EdgeProfile.Models.Tests.Explaining;

public sealed class MmoeFunctionTests
{
    public static TheoryData<string> Architectures => OnnxWeightsReaderTests.Architectures;

    public static TheoryData<string, int, bool, int> CoalitionCases()
    {
        var data = new TheoryData<string, int, bool, int>();
        foreach (var name in new[] { "Mmoe", "MmoeDeep", "MmoeWithoutExpertLayers", "SharedBottom", "SingleTaskMlp", "LogisticRegression", "Mmoe+log1p" })
        {
            for (int m = 1; m <= 8; m++)
            {
                data.Add(name, m, true, 1);
                data.Add(name, m, false, 5);
            }
        }

        // Many blocks of 32 coalitions, several high groups.
        data.Add("Mmoe", 10, false, 2);
        data.Add("MmoeDeep", 9, true, 3);
        return data;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Evaluate_equals_the_reference_forward_pass(string name)
    {
        var weights = OnnxWeightsReaderTests.Model(name);
        var reference = new ReferenceModel(weights);
        var function = new MmoeFunction(weights);
        int f = weights.Spec.Inputs;
        const int count = 150; // several blocks of 32 rows, the last one partial
        var rows = RandomModels.Rows(weights, count, 21);
        var outputs = new double[count * function.Outputs];

        function.Evaluate([.. rows.Select(v => (double)v)], outputs);

        Assert.Equal(weights.Spec.Tasks.Sum(t => t.Outputs), function.Outputs);
        for (int r = 0; r < count; r++)
        {
            var expected = reference.Forward(rows.AsSpan(r * f, f)).SelectMany(v => v).ToArray();
            for (int o = 0; o < expected.Length; o++)
            {
                double actual = outputs[(r * function.Outputs) + o];
                Assert.True(Math.Abs(expected[o] - actual) <= 1e-12 * Math.Max(1, Math.Abs(expected[o])), $"row {r} output {o}: {expected[o]} vs {actual}");
            }
        }
    }

    [Fact]
    public void Evaluate_of_one_row_does_not_depend_on_the_batch()
    {
        var weights = RandomModels.MmoeDeep();
        var function = new MmoeFunction(weights);
        var rows = RandomModels.Rows(weights, 70, 4).Select(v => (double)v).ToArray();
        var batch = new double[70 * function.Outputs];
        function.Evaluate(rows, batch);
        var one = new double[function.Outputs];
        for (int r = 0; r < 70; r += 7)
        {
            function.Evaluate(rows.AsSpan(r * 20, 20), one);
            Assert.Equal(batch.AsSpan(r * function.Outputs, function.Outputs).ToArray(), one);
        }
    }

    [Theory]
    [MemberData(nameof(CoalitionCases))]
    public void Coalition_values_equal_the_generic_computation(string name, int groupCount, bool singletons, int backgroundRows)
    {
        var weights = OnnxWeightsReaderTests.Model(name);
        var function = new MmoeFunction(weights);
        var groups = Groups(weights.Spec.Inputs, groupCount, singletons);
        var x = RandomModels.Rows(weights, 1, 100 + groupCount).Select(v => (double)v).ToArray();
        var rows = RandomModels.Rows(weights, backgroundRows, 200 + groupCount).Select(v => (double)v).ToArray();
        var background = new Background(rows, weights.Spec.Inputs, "test", [.. Enumerable.Range(1, backgroundRows).Select(k => (double)k * k)]);
        var values = new double[(1 << groupCount) * function.Outputs];

        function.CoalitionValues(x, background, groups, values);

        var expected = Generic(function, x, background, groups);
        double worst = 0;
        for (int n = 0; n < values.Length; n++)
        {
            worst = Math.Max(worst, Math.Abs(values[n] - expected[n]));
        }

        Assert.True(worst <= 1e-9, $"largest difference {worst}");
    }

    public static TheoryData<string, int, int> SampledCases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var name in new[] { "Mmoe", "MmoeDeep", "MmoeWithoutExpertLayers", "SharedBottom", "SingleTaskMlp", "LogisticRegression", "Mmoe+log1p" })
        {
            foreach (int m in new[] { 1, 3, 4, 9, 20 })
            {
                data.Add(name, m, m % 2 == 0 ? 1 : 4);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SampledCases))]
    public void Sampled_coalition_values_equal_the_generic_computation(string name, int groupCount, int backgroundRows)
    {
        var weights = OnnxWeightsReaderTests.Model(name);
        var function = new MmoeFunction(weights);
        var groups = Groups(weights.Spec.Inputs, groupCount, singletons: groupCount % 3 != 0);
        var x = RandomModels.Rows(weights, 1, 300 + groupCount).Select(v => (double)v).ToArray();
        var rows = RandomModels.Rows(weights, backgroundRows, 400 + groupCount).Select(v => (double)v).ToArray();
        var background = new Background(rows, weights.Spec.Inputs, "test", [.. Enumerable.Range(1, backgroundRows).Select(k => 1.0 + k)]);

        // 75 coalitions (not a whole number of 4- or 32-wide blocks): random ones, each often followed by its complement
        // (as KernelSHAP lays out its pairs), sometimes by the original again, plus the empty and the full coalition.
        var random = new Random(groupCount);
        const int Count = 75;
        var members = new bool[Count * groupCount];
        for (int c = 2; c < Count; c++)
        {
            var row = members.AsSpan(c * groupCount, groupCount);
            var previous = members.AsSpan((c - 1) * groupCount, groupCount);
            int kind = random.Next(3);
            for (int g = 0; g < groupCount; g++)
            {
                row[g] = kind switch
                {
                    0 => random.Next(2) == 1,
                    1 => !previous[g],
                    _ => c >= 2 && members[((c - 2) * groupCount) + g],
                };
            }
        }

        members.AsSpan(groupCount, groupCount).Fill(true);
        var values = new double[Count * function.Outputs];

        function.SampledCoalitionValues(x, background, groups, members, values);

        var expected = GenericSampled(function, x, background, groups, members);
        double worst = 0;
        for (int n = 0; n < values.Length; n++)
        {
            worst = Math.Max(worst, Math.Abs(values[n] - expected[n]) / Math.Max(1, Math.Abs(expected[n])));
        }

        Assert.True(worst <= 1e-10, $"largest relative difference {worst}");
    }

    [Fact]
    public void Parallel_coalition_values_are_identical()
    {
        var weights = RandomModels.MmoeDeep();
        var function = new MmoeFunction(weights);
        var groups = Groups(20, 11, singletons: false);
        var x = RandomModels.Rows(weights, 1, 1).Select(v => (double)v).ToArray();
        var background = new Background([.. RandomModels.Rows(weights, 3, 2).Select(v => (double)v)], 20, "test");
        var serial = new double[(1 << 11) * function.Outputs];
        function.CoalitionValues(x, background, groups, serial);

        function.MaxDegreeOfParallelism = 3;
        var parallel = new double[serial.Length];
        function.CoalitionValues(x, background, groups, parallel);

        Assert.Equal(serial, parallel);
        var rows = RandomModels.Rows(weights, 200, 5).Select(v => (double)v).ToArray();
        var a = new double[200 * function.Outputs];
        var b = new double[200 * function.Outputs];
        function.Evaluate(rows, a);
        function.MaxDegreeOfParallelism = 1;
        function.Evaluate(rows, b);
        Assert.Equal(b, a);
    }

    [Fact]
    public void Empty_and_full_coalitions_are_the_background_average_and_the_output()
    {
        var weights = RandomModels.Mmoe();
        var function = new MmoeFunction(weights);
        var groups = Groups(20, 9, singletons: true);
        var x = RandomModels.Rows(weights, 1, 9).Select(v => (double)v).ToArray();
        var background = new Background([.. RandomModels.Rows(weights, 4, 10).Select(v => (double)v)], 20, "test");
        var values = new double[(1 << 9) * function.Outputs];
        function.CoalitionValues(x, background, groups, values);

        var atX = new double[function.Outputs];
        function.Evaluate(x, atX);
        var atBackground = new double[4 * function.Outputs];
        function.Evaluate(background.Rows, atBackground);
        int full = (1 << 9) - 1;
        for (int o = 0; o < function.Outputs; o++)
        {
            double mean = Enumerable.Range(0, 4).Sum(k => background.Weights[k] * atBackground[(k * function.Outputs) + o]);
            Assert.Equal(mean, values[o], 12);
            Assert.Equal(atX[o], values[(full * function.Outputs) + o], 12);
        }
    }

    public static TheoryData<string, int, int> WideCases() => new()
    {
        // Four one-layer experts (the production shape): the mixture with the gates in registers; one task: the mixture
        // straight from the tables. Three experts: the general loops. Several high groups and background rows.
        { "FourExperts", 10, 3 },
        { "FourExperts/churn_90d", 11, 2 },
        { "FourExperts/churn_90d", 4, 1 },
        { "FourExperts/category_propensity", 9, 3 },
        { "Mmoe/repurchase_30d", 9, 3 },
        { "Mmoe/category_propensity", 7, 1 },
        { "MmoeDeep/ltv_90d", 8, 2 },
    };

    [Theory]
    [MemberData(nameof(WideCases))]
    public void Coalition_values_of_single_and_multi_task_models_equal_the_generic_computation(string name, int groupCount, int backgroundRows)
    {
        var weights = WideModel(name);
        var function = new MmoeFunction(weights);
        int f = weights.Spec.Inputs;
        var groups = Groups(f, groupCount, singletons: false);
        var x = RandomModels.Rows(weights, 1, 300 + groupCount).Select(v => (double)v).ToArray();
        var rows = RandomModels.Rows(weights, backgroundRows, 400 + groupCount).Select(v => (double)v).ToArray();
        var background = new Background(rows, f, "test", [.. Enumerable.Range(1, backgroundRows).Select(k => 1.0 / k)]);
        var values = new double[(1 << groupCount) * function.Outputs];

        function.CoalitionValues(x, background, groups, values);

        var expected = Generic(function, x, background, groups);
        double worst = 0;
        for (int n = 0; n < values.Length; n++)
        {
            worst = Math.Max(worst, Math.Abs(values[n] - expected[n]));
        }

        Assert.True(worst <= 1e-9, $"largest difference {worst}");
        function.MaxDegreeOfParallelism = 2;
        var parallel = new double[values.Length];
        function.CoalitionValues(x, background, groups, parallel);
        Assert.Equal(values, parallel);
    }

    [Theory]
    [InlineData("FourExperts")]
    [InlineData("FourExperts/churn_90d")]
    [InlineData("Mmoe/repurchase_30d")]
    public void Evaluate_of_single_and_multi_task_models_equals_the_reference_forward_pass(string name)
    {
        var weights = WideModel(name);
        var reference = new ReferenceModel(weights);
        var function = new MmoeFunction(weights);
        int f = weights.Spec.Inputs;
        const int count = 70;
        var rows = RandomModels.Rows(weights, count, 22);
        var outputs = new double[count * function.Outputs];

        function.Evaluate([.. rows.Select(v => (double)v)], outputs);

        for (int r = 0; r < count; r++)
        {
            var expected = reference.Forward(rows.AsSpan(r * f, f)).SelectMany(v => v).ToArray();
            for (int o = 0; o < expected.Length; o++)
            {
                double actual = outputs[(r * function.Outputs) + o];
                Assert.True(Math.Abs(expected[o] - actual) <= 1e-12 * Math.Max(1, Math.Abs(expected[o])), $"row {r} output {o}: {expected[o]} vs {actual}");
            }
        }
    }

    [Fact]
    public void A_missing_feature_value_gives_missing_outputs()
    {
        var weights = WideModel("FourExperts");
        var function = new MmoeFunction(weights);
        var row = RandomModels.Rows(weights, 1, 23).Select(v => (double)v).ToArray();
        row[3] = double.NaN;
        var outputs = new double[function.Outputs];

        function.Evaluate(row, outputs);

        Assert.All(outputs, v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void Mismatched_arguments_are_refused()
    {
        var weights = RandomModels.Mmoe();
        var function = new MmoeFunction(weights);
        var groups = Groups(20, 3, singletons: true);
        var background = new Background(new double[20], 20, "zeros");
        Assert.Throws<ArgumentException>(() => function.CoalitionValues(new double[19], background, groups, new double[8 * function.Outputs]));
        Assert.Throws<ArgumentException>(() => function.CoalitionValues(new double[20], background, groups, new double[(8 * function.Outputs) - 1]));
        Assert.Throws<ArgumentException>(() => function.SampledCoalitionValues(new double[19], background, groups, new bool[6], new double[2 * function.Outputs]));
        Assert.Throws<ArgumentException>(() => function.SampledCoalitionValues(new double[20], background, groups, new bool[7], new double[3 * function.Outputs]));
        Assert.Throws<ArgumentException>(() => function.SampledCoalitionValues(new double[20], background, groups, new bool[6], new double[(2 * function.Outputs) - 1]));
        Assert.Throws<ArgumentException>(() => function.Evaluate(new double[21], new double[function.Outputs]));
        Assert.Throws<ArgumentException>(() => function.Evaluate(new double[20], new double[function.Outputs + 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => function.MaxDegreeOfParallelism = 0);
        Assert.Throws<InvalidDataException>(() => new MmoeFunction(weights with { Std = new float[20] }));
    }

    /// <summary>"Model" or "Model/task" (<see cref="TaskSubset"/>); "FourExperts" is the production shape: four
    /// one-layer experts of 32, towers of 16, four tasks.</summary>
    private static ModelWeights WideModel(string name)
    {
        var parts = name.Split('/');
        var weights = parts[0] == "FourExperts"
            ? RandomModels.Build(
                new ModelSpec(RandomModels.FeatureNames(RandomModels.Features), 4, [32], [16], [.. RandomModels.ThreeTasks, new TaskSpec("churn_90d", TaskKind.Binary)]), 7)
            : OnnxWeightsReaderTests.Model(parts[0]);
        return parts.Length == 1 ? weights : TaskSubset.Of(weights, parts[1]);
    }

    /// <summary>M groups over F features: singletons {0}, {1}, … and the rest in the last group; or feature i in group i mod M.</summary>
    private static FeatureGroups Groups(int features, int m, bool singletons)
    {
        var members = Enumerable.Range(0, m).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < features; i++)
        {
            members[singletons ? Math.Min(i, m - 1) : i % m].Add(i);
        }

        return new FeatureGroups(features, [.. Enumerable.Range(0, m).Select(g => $"g{g}")], [.. members.Select(l => l.ToArray())]);
    }

    /// <summary>v(S) of the given coalitions by building every row x_S / b_k and evaluating it.</summary>
    private static double[] GenericSampled(IExplainedFunction function, double[] x, Background background, FeatureGroups groups, bool[] members)
    {
        int f = function.Inputs;
        int o = function.Outputs;
        int m = groups.Count;
        int coalitions = members.Length / m;
        var values = new double[coalitions * o];
        var row = new double[f];
        var output = new double[o];
        for (int c = 0; c < coalitions; c++)
        {
            for (int k = 0; k < background.Count; k++)
            {
                background.Row(k).CopyTo(row);
                for (int i = 0; i < f; i++)
                {
                    if (members[(c * m) + groups.GroupOf[i]])
                    {
                        row[i] = x[i];
                    }
                }

                function.Evaluate(row, output);
                for (int j = 0; j < o; j++)
                {
                    values[(c * o) + j] += background.Weights[k] * output[j];
                }
            }
        }

        return values;
    }

    /// <summary>v(S) by building every row x_S / b_k and evaluating it.</summary>
    private static double[] Generic(IExplainedFunction function, double[] x, Background background, FeatureGroups groups)
    {
        int f = function.Inputs;
        int o = function.Outputs;
        int coalitions = 1 << groups.Count;
        var rows = new double[coalitions * background.Count * f];
        for (int mask = 0; mask < coalitions; mask++)
        {
            for (int k = 0; k < background.Count; k++)
            {
                var row = rows.AsSpan(((mask * background.Count) + k) * f, f);
                background.Row(k).CopyTo(row);
                for (int i = 0; i < f; i++)
                {
                    if ((mask & (1 << groups.GroupOf[i])) != 0)
                    {
                        row[i] = x[i];
                    }
                }
            }
        }

        var outputs = new double[coalitions * background.Count * o];
        function.Evaluate(rows, outputs);
        var values = new double[coalitions * o];
        for (int mask = 0; mask < coalitions; mask++)
        {
            for (int k = 0; k < background.Count; k++)
            {
                for (int j = 0; j < o; j++)
                {
                    values[(mask * o) + j] += background.Weights[k] * outputs[(((mask * background.Count) + k) * o) + j];
                }
            }
        }

        return values;
    }
}
