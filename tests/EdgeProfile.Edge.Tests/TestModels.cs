using EdgeProfile.Models;
using EdgeProfile.Models.Onnx;

namespace EdgeProfile.Edge.Tests;

/// <summary>
/// Seeded random MMoE models over online feature names, exported to ONNX files (the idea of the models tests'
/// RandomModels, kept small: two experts, two tasks).
/// </summary>
public static class TestModels
{
    /// <summary>Built-in features a customer's purchases change (and one, returns, that they leave missing).</summary>
    public static readonly string[] Features = ["purchases_30d", "spend_30d", "events_7d", "distinct_skus_30d", "returns_30d"];

    public static readonly TaskSpec[] Tasks =
    [
        new("repurchase_30d", TaskKind.Binary),
        new("ltv_90d", TaskKind.Regression),
        new("category_propensity", TaskKind.MultiLabel, ["baby", "toys", "grocery"]),
    ];

    /// <summary>Writes a model over <paramref name="features"/> to <paramref name="path"/>; returns the path.</summary>
    /// <param name="backgroundRows">When above 0, the model ships that many seeded random rows as its explanation
    /// background (<see cref="EdgeProfile.Models.Explaining.ExplanationBackground"/>); otherwise explanations use its training mean.</param>
    public static string Write(string path, IReadOnlyList<string>? features = null, int seed = 7, string? version = null, int backgroundRows = 0)
    {
        var spec = new ModelSpec(features ?? Features, 2, [8], [4], Tasks);
        var metadata = new Dictionary<string, string>();
        if (version is not null)
        {
            metadata["model_version"] = version;
        }

        if (backgroundRows > 0)
        {
            var random = new Random(seed + 1000);
            var rows = Enumerable.Range(0, backgroundRows)
                .Select(_ => spec.Features.Select(_ => (float)Math.Round(random.NextDouble() * 5, 2)).ToArray()).ToList();
            metadata[EdgeProfile.Models.Explaining.ExplanationBackground.MetadataKey] =
                EdgeProfile.Models.Explaining.ExplanationBackground.Sample(spec.Features, rows, backgroundRows, seed, "test");
        }

        File.WriteAllBytes(path, OnnxExporter.Export(Build(spec, seed), new ExportOptions { Metadata = metadata }));
        return path;
    }

    /// <summary>A linear model whose output overflows to -Infinity for a customer without features (inputs 0).</summary>
    public static string WriteOverflowing(string path)
    {
        var spec = new ModelSpec(["purchases_30d", "spend_30d"], 1, [], [], [new TaskSpec("ltv_90d", TaskKind.Regression)]);
        var weights = new ModelWeights(spec, [1, 1], [1, 1], [[]], [], [[new DenseWeights(2, 1, [3e38f, 3e38f], [0])]]);
        File.WriteAllBytes(path, OnnxExporter.Export(weights));
        return path;
    }

    public static ModelWeights Build(ModelSpec spec, int seed)
    {
        var random = new Random(seed);

        // Centred near the values a handful of purchases give, so the scores move visibly with each event.
        var mean = Enumerable.Range(0, spec.Inputs).Select(_ => (float)(random.NextDouble() * 2)).ToArray();
        var std = Enumerable.Range(0, spec.Inputs).Select(_ => (float)(1 + (random.NextDouble() * 10))).ToArray();
        var experts = Enumerable.Range(0, spec.Experts).Select(_ => Layers(random, spec.Inputs, spec.ExpertHidden, null)).ToList();
        var gates = spec.Experts == 1 ? [] : spec.Tasks.Select(_ => Dense(random, spec.Inputs, spec.Experts)).ToList();
        var towers = spec.Tasks.Select(t => Layers(random, spec.ExpertOutputs, spec.TowerHidden, t.Outputs)).ToList();
        return new ModelWeights(spec, mean, std, experts, gates, towers);
    }

    private static IReadOnlyList<DenseWeights> Layers(Random random, int inputs, IReadOnlyList<int> hidden, int? outputs)
    {
        var layers = new List<DenseWeights>();
        var width = inputs;
        foreach (var h in hidden.Concat(outputs is { } o ? [o] : []))
        {
            layers.Add(Dense(random, width, h));
            width = h;
        }

        return layers;
    }

    private static DenseWeights Dense(Random random, int inputs, int outputs)
    {
        var scale = Math.Sqrt(2.0 / inputs);
        var w = Enumerable.Range(0, inputs * outputs).Select(_ => (float)(Gaussian(random) * scale)).ToArray();
        var b = Enumerable.Range(0, outputs).Select(_ => (float)(Gaussian(random) * 0.1)).ToArray();
        return new DenseWeights(inputs, outputs, w, b);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
