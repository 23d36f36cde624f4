namespace EdgeProfile.Models;

/// <summary>
/// The trainable parameters of a <see cref="ModelWeights"/> as one flat vector, the unit federated learning averages,
/// masks and sends: expert layers (expert by expert, layer by layer, each <c>W</c> row-major then <c>B</c>), then each
/// task's gate, then each task's tower layers. The input transform (log1p flags, mean and standard deviation) is not part
/// of the vector: it is fixed for a training job and carried by the template.
/// </summary>
public static class ModelWeightsVector
{
    /// <summary>Number of trainable parameters of <paramref name="weights"/>.</summary>
    public static int Length(ModelWeights weights) => Layers(weights).Sum(d => d.W.Length + d.B.Length);

    /// <summary>The trainable parameters in the documented order.</summary>
    public static float[] Flatten(ModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var result = new float[Length(weights)];
        var offset = 0;
        foreach (var layer in Layers(weights))
        {
            layer.W.CopyTo(result, offset);
            offset += layer.W.Length;
            layer.B.CopyTo(result, offset);
            offset += layer.B.Length;
        }
        return result;
    }

    /// <summary>A copy of <paramref name="template"/> whose trainable parameters are <paramref name="vector"/>.</summary>
    public static ModelWeights Unflatten(ModelWeights template, ReadOnlySpan<float> vector)
    {
        ArgumentNullException.ThrowIfNull(template);
        var length = Length(template);
        if (vector.Length != length)
        {
            throw new ArgumentException($"the vector has {vector.Length} values, the model {length} parameters", nameof(vector));
        }
        var offset = 0;
        DenseWeights Next(DenseWeights d, ReadOnlySpan<float> v)
        {
            var w = v.Slice(offset, d.W.Length).ToArray();
            offset += d.W.Length;
            var b = v.Slice(offset, d.B.Length).ToArray();
            offset += d.B.Length;
            return d with { W = w, B = b };
        }
        var experts = new IReadOnlyList<DenseWeights>[template.Experts.Count];
        for (var e = 0; e < experts.Length; e++)
        {
            var layers = new DenseWeights[template.Experts[e].Count];
            for (var l = 0; l < layers.Length; l++)
            {
                layers[l] = Next(template.Experts[e][l], vector);
            }
            experts[e] = layers;
        }
        var gates = new DenseWeights[template.Gates.Count];
        for (var t = 0; t < gates.Length; t++)
        {
            gates[t] = Next(template.Gates[t], vector);
        }
        var towers = new IReadOnlyList<DenseWeights>[template.Towers.Count];
        for (var t = 0; t < towers.Length; t++)
        {
            var layers = new DenseWeights[template.Towers[t].Count];
            for (var l = 0; l < layers.Length; l++)
            {
                layers[l] = Next(template.Towers[t][l], vector);
            }
            towers[t] = layers;
        }
        return template with { Experts = experts, Gates = gates, Towers = towers };
    }

    private static IEnumerable<DenseWeights> Layers(ModelWeights w) =>
        w.Experts.SelectMany(e => e).Concat(w.Gates).Concat(w.Towers.SelectMany(t => t));
}
