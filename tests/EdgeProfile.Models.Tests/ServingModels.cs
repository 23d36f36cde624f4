using System.Runtime.InteropServices;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Reference;
using EdgeProfile.Models.Serving;
using Google.Protobuf;

namespace EdgeProfile.Models.Tests;

/// <summary>Models, rows and expectations for the <see cref="ModelHost"/> tests.</summary>
public static class ServingModels
{
    public static IReadOnlyList<string> Features => RandomModels.FeatureNames(RandomModels.Features);

    public static Canary Canary(int rows = 16, int seed = 21) => new(RandomModels.Rows(RandomModels.Mmoe(), rows, seed));

    /// <summary>The reference outputs of every row, all tasks concatenated in task order.</summary>
    public static double[][] Expected(ModelWeights weights, float[] rows)
    {
        var reference = new ReferenceModel(weights);
        int f = weights.Spec.Inputs;
        return [.. Enumerable.Range(0, rows.Length / f).Select(r => reference.Forward(rows.AsSpan(r * f, f)).SelectMany(t => t).ToArray())];
    }

    /// <summary>Exports <paramref name="weights"/> with the bias of task <paramref name="task"/>'s output layer set to
    /// <paramref name="value"/> in the ONNX file itself (the exporter refuses non-finite weights, rightly).</summary>
    public static byte[] WithOutputBias(ModelWeights weights, int task, float value)
    {
        var model = OnnxExporter.BuildModel(weights);
        var bias = model.Graph.Initializer.Single(i => i.Name == $"/task{task}/tower/out/B");
        var values = Enumerable.Repeat(value, weights.Spec.Tasks[task].Outputs).ToArray();
        bias.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return model.ToByteArray();
    }

    /// <summary>A copy whose task <paramref name="task"/> output layer is replaced: weights <paramref name="w"/> times
    /// the original (or constant when <paramref name="constant"/>), bias times <paramref name="b"/>.</summary>
    public static ModelWeights WithOutputLayer(ModelWeights weights, int task, float w, float b, bool constant = false)
    {
        var towers = weights.Towers.Select((layers, t) =>
        {
            if (t != task)
            {
                return layers;
            }

            var last = layers[^1];
            var replaced = new DenseWeights(last.In, last.Out, [.. last.W.Select(v => constant ? w : v * w)], [.. last.B.Select(v => v * b)]);
            return (IReadOnlyList<DenseWeights>)[.. layers.Take(layers.Count - 1), replaced];
        }).ToList();
        return weights with { Towers = towers };
    }

    /// <summary>AUC by counting pairs (ties count half): the slow definition the host's rank-sum AUC must match.</summary>
    public static double PairwiseAuc(float[] scores, bool[] labels)
    {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (!labels[i])
            {
                continue;
            }

            for (int j = 0; j < labels.Length; j++)
            {
                if (labels[j])
                {
                    continue;
                }

                pairs++;
                wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
            }
        }

        return wins / pairs;
    }

    /// <summary>Why a concurrent score is wrong: a value off its version's reference by more than 1e-5; null when right.</summary>
    public static string? Mismatch(ScoreResult result, double[] want, int row)
    {
        var got = result.Values;
        for (int k = 0; k < want.Length; k++)
        {
            if (Math.Abs(got[k] - want[k]) > 1e-5)
            {
                return $"row {row} claims {result.Version} but value {k} is {got[k]}, expected {want[k]}";
            }
        }

        return null;
    }
}
