using EdgeProfile.Models.Reference;
using EdgeProfile.Models.Scoring;

namespace EdgeProfile.Models.Tests;

/// <summary>Names the test models and compares a scorer with the reference forward pass.</summary>
public static class Models
{
    public static readonly string[] Names = ["mmoe", "mmoe-deep", "mmoe-no-expert-layers", "shared-bottom", "single-task-mlp", "logistic-regression", "mmoe-log1p"];

    public static TheoryData<string> All => [.. Names];

    public static ModelWeights Get(string name) => name switch
    {
        "mmoe" => RandomModels.Mmoe(),
        "mmoe-deep" => RandomModels.MmoeDeep(),
        "mmoe-no-expert-layers" => RandomModels.MmoeWithoutExpertLayers(),
        "shared-bottom" => RandomModels.SharedBottom(),
        "single-task-mlp" => RandomModels.SingleTaskMlp(),
        "logistic-regression" => RandomModels.LogisticRegression(),

        // Every third feature through log1p(max(x, 0)) before standardisation (its mean and std then describe the
        // logged values, as the trainer fits them); test rows around them include negative raw values.
        "mmoe-log1p" => Log1p(RandomModels.Mmoe(seed: 1)),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    private static ModelWeights Log1p(ModelWeights m)
    {
        var flags = m.Spec.Features.Select((_, i) => i % 3 == 0).ToArray();
        var mean = m.Mean.Select((v, i) => flags[i] ? 1f : v).ToArray();
        var std = m.Std.Select((v, i) => flags[i] ? 0.8f : v).ToArray();
        return m with { Mean = mean, Std = std, Log1p = flags };
    }

    /// <summary>Largest |scorer − reference| per task, scoring in batches of <paramref name="batch"/> rows
    /// (1 = the single-row path).</summary>
    public static double[] MaxAbsDiff(ModelWeights weights, OnnxScorer scorer, float[] rows, int batch) =>
        AbsDiff(weights, scorer, rows, batch).Max;

    /// <summary>Largest and mean |scorer − reference| per task.</summary>
    public static (double[] Max, double[] Mean) AbsDiff(ModelWeights weights, OnnxScorer scorer, float[] rows, int batch)
    {
        var reference = new ReferenceModel(weights);
        var tasks = weights.Spec.Tasks;
        int f = weights.Spec.Inputs;
        int count = rows.Length / f;
        var worst = new double[tasks.Count];
        var sum = new double[tasks.Count];
        var single = new float[scorer.OutputWidth];
        for (int start = 0; start < count; start += batch)
        {
            int n = Math.Min(batch, count - start);
            var chunk = rows.AsSpan(start * f, n * f);
            float[][] outputs;
            if (batch == 1)
            {
                scorer.Score(chunk, single);
                int offset = 0;
                outputs = new float[tasks.Count][];
                for (int t = 0; t < tasks.Count; t++)
                {
                    outputs[t] = single.AsSpan(offset, tasks[t].Outputs).ToArray();
                    offset += tasks[t].Outputs;
                }
            }
            else
            {
                outputs = scorer.ScoreBatch(chunk);
            }

            for (int r = 0; r < n; r++)
            {
                var expected = reference.Forward(chunk.Slice(r * f, f));
                for (int t = 0; t < tasks.Count; t++)
                {
                    int width = tasks[t].Outputs;
                    for (int j = 0; j < width; j++)
                    {
                        double diff = Math.Abs(outputs[t][(r * width) + j] - expected[t][j]);
                        worst[t] = Math.Max(worst[t], diff);
                        sum[t] += diff / width;
                    }
                }
            }
        }

        return (worst, [.. sum.Select(v => v / count)]);
    }
}
