using EdgeProfile.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeProfile.Training;

/// <summary>
/// The <see cref="ModelSpec"/> architecture as a torch module: experts (Linear + ReLU stacks, or the input itself when
/// they have no layers), one softmax gate per task over the experts, one tower per task (Linear + ReLU stack, then a
/// Linear to the task's outputs). Input is the standardised feature block <c>[batch, inputs]</c>; output is one logit
/// block <c>[batch, outputs]</c> per task (no activation: the losses take logits; see <see cref="MmoeModel"/>).
/// </summary>
public sealed class MmoeModule : nn.Module<Tensor, Tensor[]>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> experts;
    private readonly ModuleList<Linear> gates;
    private readonly ModuleList<Sequential> towers;

    /// <summary>Builds the layers of <paramref name="spec"/> with torch's default initialisation (seeded by the caller).</summary>
    // Before the base class's first torch call loads libtorch (a derived type's static constructor runs first).
    static MmoeModule() => TorchEnvironment.Prepare();

    public MmoeModule(ModelSpec spec, double dropout = 0) : base(nameof(MmoeModule))
    {
        if (dropout is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1)");
        }

        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Experts < 1 || spec.Tasks.Count == 0 || spec.Inputs == 0)
        {
            throw new ArgumentException("a model needs at least one expert, one task and one input", nameof(spec));
        }
        Spec = spec;
        experts = new ModuleList<nn.Module<Tensor, Tensor>>();
        for (var e = 0; e < spec.Experts; e++)
        {
            experts.Add(spec.ExpertHidden.Count == 0 ? nn.Identity() : Stack(spec.Inputs, spec.ExpertHidden, null, dropout));
        }
        gates = new ModuleList<Linear>();
        towers = new ModuleList<Sequential>();
        foreach (var task in spec.Tasks)
        {
            gates.Add(nn.Linear(spec.Inputs, spec.Experts));
            towers.Add(Stack(spec.ExpertOutputs, spec.TowerHidden, task.Outputs, dropout));
        }
        RegisterComponents();
    }

    /// <summary>The architecture this module was built from.</summary>
    public ModelSpec Spec { get; }

    /// <summary>Expert layers (Linear only, in order) per expert.</summary>
    internal IReadOnlyList<IReadOnlyList<Linear>> ExpertLayers => experts.Select(LinearsOf).ToArray();

    /// <summary>Gate layer per task.</summary>
    internal IReadOnlyList<Linear> GateLayers => gates.ToArray();

    /// <summary>Tower layers (Linear only, in order; the last maps to the outputs) per task.</summary>
    internal IReadOnlyList<IReadOnlyList<Linear>> TowerLayers => towers.Select(LinearsOf).ToArray();

    /// <inheritdoc/>
    public override Tensor[] forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        // [batch, experts, expertOutputs]
        using var stacked = stack(experts.Select(e => e.call(input)).ToArray(), 1);
        var logits = new Tensor[towers.Count];
        for (var t = 0; t < towers.Count; t++)
        {
            using var gate = nn.functional.softmax(gates[t].call(input), 1).unsqueeze(2);
            using var mixed = (gate * stacked).sum(1);
            logits[t] = towers[t].call(mixed);
        }
        return logits;
    }

    // Dropout after each hidden ReLU, active in train() mode only; it has no weights, so export is unchanged.
    private static Sequential Stack(int inputs, IReadOnlyList<int> hidden, int? outputs, double dropout)
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        var width = inputs;
        foreach (var h in hidden)
        {
            layers.Add(nn.Linear(width, h));
            layers.Add(nn.ReLU());
            if (dropout > 0)
            {
                layers.Add(nn.Dropout(dropout));
            }

            width = h;
        }
        if (outputs is { } o)
        {
            layers.Add(nn.Linear(width, o));
        }
        return nn.Sequential(layers);
    }

    private static IReadOnlyList<Linear> LinearsOf(nn.Module module) => module.modules().OfType<Linear>().ToArray();
}
