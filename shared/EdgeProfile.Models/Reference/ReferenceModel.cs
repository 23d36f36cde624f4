namespace EdgeProfile.Models.Reference;

/// <summary>
/// A plain, double-precision forward pass over <see cref="ModelWeights"/>: the definition the ONNX export is tested
/// against. Slow on purpose (no batching, no SIMD); use <c>OnnxScorer</c> to score in production.
/// </summary>
public sealed class ReferenceModel
{
    private readonly ModelWeights weights;

    /// <summary>Validates the weights once.</summary>
    public ReferenceModel(ModelWeights weights)
    {
        weights.Validate();
        this.weights = weights;
    }

    /// <summary>The model's specification.</summary>
    public ModelSpec Spec => weights.Spec;

    /// <summary>Scores one row of raw (unstandardised) features; returns one array per task, in task order.</summary>
    public double[][] Forward(ReadOnlySpan<float> features)
    {
        var spec = weights.Spec;
        if (features.Length != spec.Inputs)
        {
            throw new ArgumentException($"expected {spec.Inputs} features, got {features.Length}", nameof(features));
        }

        var x = new double[spec.Inputs];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (weights.Transform(i, features[i]) - weights.Mean[i]) / weights.Std[i];
        }

        var experts = new double[spec.Experts][];
        for (int e = 0; e < spec.Experts; e++)
        {
            var h = x;
            foreach (var layer in weights.Experts[e])
            {
                h = Relu(Dense(layer, h));
            }

            experts[e] = h;
        }

        var outputs = new double[spec.Tasks.Count][];
        for (int t = 0; t < spec.Tasks.Count; t++)
        {
            double[] mixed;
            if (spec.Experts == 1)
            {
                // A softmax over one logit is exactly 1, so the gate cannot change anything.
                mixed = experts[0];
            }
            else
            {
                var gate = Softmax(Dense(weights.Gates[t], x));
                mixed = new double[spec.ExpertOutputs];
                for (int e = 0; e < spec.Experts; e++)
                {
                    for (int j = 0; j < mixed.Length; j++)
                    {
                        mixed[j] += gate[e] * experts[e][j];
                    }
                }
            }

            var tower = weights.Towers[t];
            var h = mixed;
            for (int l = 0; l < tower.Count - 1; l++)
            {
                h = Relu(Dense(tower[l], h));
            }

            var y = Dense(tower[^1], h);
            if (spec.Tasks[t].Kind is TaskKind.Binary or TaskKind.MultiLabel)
            {
                for (int j = 0; j < y.Length; j++)
                {
                    y[j] = 1 / (1 + Math.Exp(-y[j]));
                }
            }

            outputs[t] = y;
        }

        return outputs;
    }

    private static double[] Dense(DenseWeights layer, double[] x)
    {
        var y = new double[layer.Out];
        for (int o = 0; o < layer.Out; o++)
        {
            y[o] = layer.B[o];
        }

        for (int i = 0; i < layer.In; i++)
        {
            double xi = x[i];
            int row = i * layer.Out;
            for (int o = 0; o < layer.Out; o++)
            {
                y[o] += xi * layer.W[row + o];
            }
        }

        return y;
    }

    private static double[] Relu(double[] x)
    {
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = Math.Max(0, x[i]);
        }

        return x;
    }

    private static double[] Softmax(double[] logits)
    {
        double max = logits.Max();
        var p = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = Math.Exp(logits[i] - max);
            sum += p[i];
        }

        for (int i = 0; i < p.Length; i++)
        {
            p[i] /= sum;
        }

        return p;
    }
}
