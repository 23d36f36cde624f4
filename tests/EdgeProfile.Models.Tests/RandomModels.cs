using EdgeProfile.Models;

namespace EdgeProfile.Models.Tests;

/// <summary>Seeded random <see cref="ModelWeights"/> and input rows for the architectures we ship (no TorchSharp).</summary>
public static class RandomModels
{
    public const int Features = 20;

    public static readonly TaskSpec[] ThreeTasks =
    [
        new("repurchase_30d", TaskKind.Binary),
        new("ltv_90d", TaskKind.Regression),
        new("category_propensity", TaskKind.MultiLabel, ["grocery", "fashion", "electronics", "home"]),
    ];

    public static ModelWeights Mmoe(int seed = 1) =>
        Build(new ModelSpec(FeatureNames(Features), 3, [16], [8], ThreeTasks), seed);

    public static ModelWeights MmoeDeep(int seed = 5) =>
        Build(new ModelSpec(FeatureNames(Features), 3, [16, 12], [8, 4], ThreeTasks), seed);

    /// <summary>Experts without layers: each is the standardised input, so the gated mixture is that input.</summary>
    public static ModelWeights MmoeWithoutExpertLayers(int seed = 6) =>
        Build(new ModelSpec(FeatureNames(Features), 3, [], [8], ThreeTasks), seed);

    public static ModelWeights SharedBottom(int seed = 2) =>
        Build(new ModelSpec(FeatureNames(Features), 1, [16], [8], ThreeTasks), seed);

    public static ModelWeights SingleTaskMlp(int seed = 3) =>
        Build(new ModelSpec(FeatureNames(Features), 1, [32, 16], [8], [new TaskSpec("churn_90d", TaskKind.Binary)]), seed);

    public static ModelWeights LogisticRegression(int seed = 4) =>
        Build(new ModelSpec(FeatureNames(Features), 1, [], [], [new TaskSpec("churn_90d", TaskKind.Binary)]), seed);

    public static IReadOnlyList<string> FeatureNames(int count) => [.. Enumerable.Range(0, count).Select(i => $"f{i:00}")];

    public static ModelWeights Build(ModelSpec spec, int seed)
    {
        var random = new Random(seed);
        var mean = Enumerable.Range(0, spec.Inputs).Select(_ => (float)(random.NextDouble() * 20 - 5)).ToArray();
        var std = Enumerable.Range(0, spec.Inputs).Select(_ => (float)(0.5 + random.NextDouble() * 3)).ToArray();
        var experts = new List<IReadOnlyList<DenseWeights>>();
        for (int e = 0; e < spec.Experts; e++)
        {
            var layers = new List<DenseWeights>();
            int width = spec.Inputs;
            foreach (int hidden in spec.ExpertHidden)
            {
                layers.Add(Dense(random, width, hidden));
                width = hidden;
            }

            experts.Add(layers);
        }

        var gates = spec.Experts == 1 ? [] : spec.Tasks.Select(_ => Dense(random, spec.Inputs, spec.Experts)).ToList();
        var towers = new List<IReadOnlyList<DenseWeights>>();
        foreach (var task in spec.Tasks)
        {
            var layers = new List<DenseWeights>();
            int width = spec.ExpertOutputs;
            foreach (int hidden in spec.TowerHidden)
            {
                layers.Add(Dense(random, width, hidden));
                width = hidden;
            }

            layers.Add(Dense(random, width, task.Outputs));
            towers.Add(layers);
        }

        return new ModelWeights(spec, mean, std, experts, gates, towers);
    }

    /// <summary>Rows around the training distribution (about ±1.5 standard deviations, some further out).</summary>
    public static float[] Rows(ModelWeights weights, int count, int seed)
    {
        var random = new Random(seed);
        int f = weights.Spec.Inputs;
        var rows = new float[count * f];
        for (int r = 0; r < count; r++)
        {
            for (int i = 0; i < f; i++)
            {
                rows[(r * f) + i] = weights.Mean[i] + (weights.Std[i] * (float)(1.5 * Gaussian(random)));
            }
        }

        return rows;
    }

    private static DenseWeights Dense(Random random, int inputs, int outputs)
    {
        // He-style scale keeps activations O(1) through ReLU layers, as a trained model's would be.
        double scale = Math.Sqrt(2.0 / inputs);
        var w = Enumerable.Range(0, inputs * outputs).Select(_ => (float)(Gaussian(random) * scale)).ToArray();
        var b = Enumerable.Range(0, outputs).Select(_ => (float)(Gaussian(random) * 0.1)).ToArray();
        return new DenseWeights(inputs, outputs, w, b);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
