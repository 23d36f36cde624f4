using EdgeProfile.Models;
using static TorchSharp.torch;

namespace EdgeProfile.Training;

/// <summary>
/// A trained <see cref="MmoeModule"/> with its standardisation: TorchSharp inference (<see cref="Predict"/>) and the
/// framework-independent copy of its parameters (<see cref="ToWeights"/>). Owns native memory: dispose it. Not
/// thread-safe (torch dispose scopes are per thread): call it from one thread at a time.
/// </summary>
public sealed class MmoeModel : IDisposable
{
    internal MmoeModel(MmoeModule module, Standardizer standardizer)
    {
        Module = module;
        Standardizer = standardizer;
    }

    /// <summary>The architecture.</summary>
    public ModelSpec Spec => Module.Spec;

    /// <summary>The input standardisation fitted on the training rows.</summary>
    public Standardizer Standardizer { get; }

    internal MmoeModule Module { get; }

    /// <summary>
    /// Predictions per task, <c>[task][row][output]</c>: probabilities (sigmoid) for binary and multi-label tasks, values
    /// for regression tasks. <paramref name="rows"/> are raw (unstandardised) features.
    /// </summary>
    public float[][][] Predict(float[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var tasks = Spec.Tasks;
        var result = tasks.Select(_ => new float[rows.Length][]).ToArray();
        if (rows.Length == 0)
        {
            return result;
        }
        Module.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = tensor(Standardizer.TransformFlat(rows), [rows.Length, Spec.Inputs]);
        var logits = Module.call(x);
        for (var t = 0; t < tasks.Count; t++)
        {
            var output = tasks[t].Kind == TaskKind.Regression ? logits[t] : logits[t].sigmoid();
            var flat = output.contiguous().data<float>().ToArray();
            var width = tasks[t].Outputs;
            for (var i = 0; i < rows.Length; i++)
            {
                result[t][i] = flat.AsSpan(i * width, width).ToArray();
            }
        }
        return result;
    }

    /// <summary>
    /// Copies the learned parameters out. Torch stores a Linear weight as <c>[out, in]</c>; <see cref="DenseWeights.W"/> is
    /// row-major <c>[in, out]</c>, so every weight matrix is transposed here.
    /// </summary>
    public ModelWeights ToWeights()
    {
        var experts = Module.ExpertLayers.Select(layers => (IReadOnlyList<DenseWeights>)layers.Select(Dense).ToArray()).ToArray();
        var gates = Module.GateLayers.Select(Dense).ToArray();
        var towers = Module.TowerLayers.Select(layers => (IReadOnlyList<DenseWeights>)layers.Select(Dense).ToArray()).ToArray();
        return new ModelWeights(Spec, (float[])Standardizer.Mean.Clone(), (float[])Standardizer.Std.Clone(), experts, gates, towers);
    }

    /// <inheritdoc/>
    public void Dispose() => Module.Dispose();

    private static DenseWeights Dense(TorchSharp.Modules.Linear layer)
    {
        using var scope = NewDisposeScope();
        var weight = layer.weight ?? throw new InvalidOperationException("linear layer without weight");
        var outputs = (int)weight.shape[0];
        var inputs = (int)weight.shape[1];
        var w = weight.detach().t().contiguous().data<float>().ToArray(); // [in, out] row-major
        var b = layer.bias is { } bias ? bias.detach().contiguous().data<float>().ToArray() : new float[outputs];
        var dense = new DenseWeights(inputs, outputs, w, b);
        dense.Validate(layer.GetName());
        return dense;
    }
}
