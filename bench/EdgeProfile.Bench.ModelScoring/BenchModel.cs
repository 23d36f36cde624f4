using EdgeProfile.Models;
using EdgeProfile.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeProfile.Bench.ModelScoring;

/// <summary>
/// The issue's production-sized MMoE (320 features, 8 experts of width 256, towers of 64, four tasks) as a seeded
/// <see cref="MmoeModule"/>, with synthetic customers: raw features on varied scales (so the standardisation inside the
/// graph does real work) and labels from a fixed random rule (so a training step has something to fit).
/// </summary>
public static class BenchModel
{
    /// <summary>Input width.</summary>
    public const int Features = 320;

    /// <summary>The benchmark's architecture.</summary>
    public static ModelSpec Spec { get; } = new(
        [.. Enumerable.Range(0, Features).Select(i => $"f{i:D3}")],
        Experts: 8,
        ExpertHidden: [256],
        TowerHidden: [64],
        Tasks:
        [
            new TaskSpec("repurchase_30d", TaskKind.Binary),
            new TaskSpec("churn_90d", TaskKind.Binary),
            new TaskSpec("ltv_90d", TaskKind.Regression),
            new TaskSpec("category", TaskKind.MultiLabel, [.. Enumerable.Range(0, 20).Select(i => $"cat{i:D2}")]),
        ]);

    /// <summary>Total output width (all tasks).</summary>
    public static int OutputWidth => Spec.Tasks.Sum(t => t.Outputs);

    /// <summary>Raw feature rows, one per customer: feature j ~ N(mean_j, scale_j) with per-feature mean and scale.</summary>
    public static float[][] Customers(int count, int seed)
    {
        var random = new Random(seed);
        var mean = new double[Features];
        var scale = new double[Features];
        for (var j = 0; j < Features; j++)
        {
            mean[j] = random.NextDouble() * 200 - 50;
            scale[j] = Math.Pow(10, random.NextDouble() * 3 - 1);
        }

        var rows = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var row = rows[i] = new float[Features];
            for (var j = 0; j < Features; j++)
            {
                row[j] = (float)(mean[j] + scale[j] * Gaussian(random));
            }
        }

        return rows;
    }

    /// <summary>Labels per task <c>[task][row][output]</c> from a fixed random linear rule on the standardised rows.</summary>
    public static float[][][] Labels(float[] standardised, int rows, int seed)
    {
        var random = new Random(seed + 1);
        var labels = new float[Spec.Tasks.Count][][];
        for (var t = 0; t < Spec.Tasks.Count; t++)
        {
            var task = Spec.Tasks[t];
            var w = new double[task.Outputs][];
            for (var o = 0; o < task.Outputs; o++)
            {
                w[o] = [.. Enumerable.Range(0, Features).Select(_ => Gaussian(random) / Math.Sqrt(Features))];
            }

            labels[t] = new float[rows][];
            for (var i = 0; i < rows; i++)
            {
                var y = labels[t][i] = new float[task.Outputs];
                for (var o = 0; o < task.Outputs; o++)
                {
                    double z = 0;
                    for (var j = 0; j < Features; j++)
                    {
                        z += w[o][j] * standardised[i * Features + j];
                    }

                    y[o] = task.Kind == TaskKind.Regression
                        ? (float)(2 + z + 0.3 * Gaussian(random))
                        : random.NextDouble() < 1 / (1 + Math.Exp(-2 * z)) ? 1f : 0f;
                }
            }
        }

        return labels;
    }

    /// <summary>A new module with torch's default initialisation under <paramref name="seed"/>.</summary>
    public static MmoeModule CreateModule(int seed)
    {
        manual_seed(seed);
        return new MmoeModule(Spec);
    }

    /// <summary>
    /// The module's parameters as <see cref="ModelWeights"/> for <see cref="Models.Onnx.OnnxExporter"/>, found by their
    /// torch names (<c>experts.E.I</c>, <c>gates.T</c>, <c>towers.T.I</c>; I counts Linear and ReLU alike), each weight
    /// transposed from torch's <c>[out, in]</c> to <see cref="DenseWeights"/>' row-major <c>[in, out]</c>.
    /// </summary>
    public static ModelWeights ToWeights(MmoeModule module, Standardizer standardizer)
    {
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        DenseWeights Dense(string prefix)
        {
            if (!parameters.TryGetValue($"{prefix}.weight", out var weight) || !parameters.TryGetValue($"{prefix}.bias", out var bias))
            {
                throw new InvalidOperationException($"no parameters {prefix}.weight/.bias; the module has {string.Join(", ", parameters.Keys)}");
            }

            using var scope = NewDisposeScope();
            var w = weight.detach().t().contiguous().data<float>().ToArray();
            var b = bias.detach().contiguous().data<float>().ToArray();
            return new DenseWeights((int)weight.shape[1], (int)weight.shape[0], w, b);
        }

        var spec = module.Spec;
        var experts = Enumerable.Range(0, spec.Experts)
            .Select(e => (IReadOnlyList<DenseWeights>)[.. Enumerable.Range(0, spec.ExpertHidden.Count).Select(l => Dense($"experts.{e}.{2 * l}"))])
            .ToArray();
        var gates = Enumerable.Range(0, spec.Tasks.Count).Select(t => Dense($"gates.{t}")).ToArray();
        var towers = Enumerable.Range(0, spec.Tasks.Count)
            .Select(t => (IReadOnlyList<DenseWeights>)[.. Enumerable.Range(0, spec.TowerHidden.Count + 1).Select(l => Dense($"towers.{t}.{2 * l}"))])
            .ToArray();
        var weights = new ModelWeights(spec, (float[])standardizer.Mean.Clone(), (float[])standardizer.Std.Clone(), experts, gates, towers);
        weights.Validate();
        return weights;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
