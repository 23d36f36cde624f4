using EdgeProfile.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Federated;

/// <summary>
/// Moves parameters between <see cref="ModelWeights"/> and an <see cref="MmoeModule"/>. Torch stores a Linear weight as
/// <c>[out, in]</c>; <see cref="DenseWeights.W"/> is row-major <c>[in, out]</c>, so every matrix is transposed both ways
/// (as <see cref="MmoeModel.ToWeights"/> does on the way out).
/// </summary>
internal static class ModuleWeights
{
    /// <summary>A module of <paramref name="weights"/>' spec holding its parameters.</summary>
    public static MmoeModule Create(ModelWeights weights)
    {
        var module = new MmoeModule(weights.Spec);
        try
        {
            Load(module, weights);
            return module;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>Copies the parameters of <paramref name="weights"/> into <paramref name="module"/> (same architecture).</summary>
    public static void Load(MmoeModule module, ModelWeights weights)
    {
        var experts = module.ExpertLayers;
        var towers = module.TowerLayers;
        var gates = module.GateLayers;
        if (experts.Count != weights.Experts.Count || gates.Count != weights.Gates.Count || towers.Count != weights.Towers.Count)
        {
            throw new ArgumentException("the weights do not match the module's architecture", nameof(weights));
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (var e = 0; e < experts.Count; e++)
        {
            LoadLayers(experts[e], weights.Experts[e], $"expert {e}");
        }
        for (var t = 0; t < gates.Count; t++)
        {
            LoadLayer(gates[t], weights.Gates[t], $"gate {t}");
            LoadLayers(towers[t], weights.Towers[t], $"tower {t}");
        }
    }

    /// <summary>The module's parameters with the given input transform.</summary>
    public static ModelWeights Read(MmoeModule module, float[] mean, float[] std, IReadOnlyList<bool>? log1p)
    {
        var experts = module.ExpertLayers.Select(layers => (IReadOnlyList<DenseWeights>)layers.Select(Dense).ToArray()).ToArray();
        var gates = module.GateLayers.Select(Dense).ToArray();
        var towers = module.TowerLayers.Select(layers => (IReadOnlyList<DenseWeights>)layers.Select(Dense).ToArray()).ToArray();
        return new ModelWeights(module.Spec, (float[])mean.Clone(), (float[])std.Clone(), experts, gates, towers)
        {
            Log1p = log1p?.ToArray(),
        };
    }

    private static void LoadLayers(IReadOnlyList<Linear> layers, IReadOnlyList<DenseWeights> dense, string name)
    {
        if (layers.Count != dense.Count)
        {
            throw new ArgumentException($"{name}: {dense.Count} layers in the weights, {layers.Count} in the module");
        }
        for (var l = 0; l < layers.Count; l++)
        {
            LoadLayer(layers[l], dense[l], $"{name} layer {l}");
        }
    }

    private static void LoadLayer(Linear layer, DenseWeights dense, string name)
    {
        dense.Validate(name);
        var weight = layer.weight ?? throw new InvalidOperationException($"{name}: linear layer without weight");
        var bias = layer.bias ?? throw new InvalidOperationException($"{name}: linear layer without bias");
        if (weight.shape[0] != dense.Out || weight.shape[1] != dense.In)
        {
            throw new ArgumentException($"{name}: weights are [{dense.In}x{dense.Out}], the module's layer [{weight.shape[1]}x{weight.shape[0]}]");
        }
        weight.copy_(tensor(dense.W, [dense.In, dense.Out]).t());
        bias.copy_(tensor(dense.B));
    }

    private static DenseWeights Dense(Linear layer)
    {
        using var scope = NewDisposeScope();
        var weight = layer.weight ?? throw new InvalidOperationException("linear layer without weight");
        var outputs = (int)weight.shape[0];
        var inputs = (int)weight.shape[1];
        var w = weight.detach().t().contiguous().data<float>().ToArray();
        var b = layer.bias is { } bias ? bias.detach().contiguous().data<float>().ToArray() : new float[outputs];
        return new DenseWeights(inputs, outputs, w, b);
    }
}
