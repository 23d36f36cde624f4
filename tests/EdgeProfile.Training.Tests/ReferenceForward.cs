using EdgeProfile.Models;

namespace EdgeProfile.Training.Tests;

/// <summary>An independent forward pass over <see cref="ModelWeights"/> in double precision, straight from the spec's definition.</summary>
internal static class ReferenceForward
{
    public static double[][] Predict(ModelWeights weights, float[] row)
    {
        var spec = weights.Spec;
        var x = new double[spec.Inputs];
        for (var j = 0; j < x.Length; j++)
        {
            x[j] = ((double)row[j] - weights.Mean[j]) / weights.Std[j];
        }
        var experts = weights.Experts.Select(layers => layers.Aggregate(x, (h, layer) => Relu(Dense(layer, h)))).ToArray();
        var result = new double[spec.Tasks.Count][];
        for (var t = 0; t < spec.Tasks.Count; t++)
        {
            var gate = Softmax(Dense(weights.Gates[t], x));
            var mixed = new double[spec.ExpertOutputs];
            for (var e = 0; e < experts.Length; e++)
            {
                for (var k = 0; k < mixed.Length; k++)
                {
                    mixed[k] += gate[e] * experts[e][k];
                }
            }
            var tower = weights.Towers[t];
            var h = mixed;
            for (var l = 0; l < tower.Count; l++)
            {
                h = Dense(tower[l], h);
                if (l < tower.Count - 1)
                {
                    h = Relu(h);
                }
            }
            result[t] = spec.Tasks[t].Kind == TaskKind.Regression ? h : h.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();
        }
        return result;
    }

    private static double[] Dense(DenseWeights layer, double[] input)
    {
        Assert.Equal(layer.In, input.Length);
        var output = new double[layer.Out];
        for (var o = 0; o < layer.Out; o++)
        {
            double sum = layer.B[o];
            for (var i = 0; i < layer.In; i++)
            {
                sum += input[i] * layer.W[i * layer.Out + o];
            }
            output[o] = sum;
        }
        return output;
    }

    private static double[] Relu(double[] v) => v.Select(x => Math.Max(0, x)).ToArray();

    private static double[] Softmax(double[] v)
    {
        var max = v.Max();
        var e = v.Select(x => Math.Exp(x - max)).ToArray();
        var sum = e.Sum();
        return e.Select(x => x / sum).ToArray();
    }
}
