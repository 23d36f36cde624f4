namespace EdgeProfile.Models;

/// <summary>What a task's head predicts.</summary>
public enum TaskKind
{
    /// <summary>One probability (sigmoid), e.g. repurchase in 30 days, churn in 90 days.</summary>
    Binary,

    /// <summary>One value (no activation), e.g. LTV over 90 days on the log1p scale.</summary>
    Regression,

    /// <summary>One probability per label (sigmoid each), e.g. propensity over the top categories.</summary>
    MultiLabel,
}

/// <summary>One task (head) of a model: its name, kind, and outputs (1, or one per label for multi-label).</summary>
public sealed record TaskSpec(string Name, TaskKind Kind, IReadOnlyList<string>? Labels = null)
{
    /// <summary>Width of the head's output.</summary>
    public int Outputs => Kind == TaskKind.MultiLabel ? Labels?.Count ?? throw new InvalidOperationException($"task {Name}: multi-label needs labels") : 1;
}

/// <summary>
/// The architecture every model here shares, Multi-gate Mixture-of-Experts (Ma et al., KDD 2018): the standardised
/// input feeds <see cref="Experts"/> expert networks (dense + ReLU layers of <see cref="ExpertHidden"/> widths; none =
/// the input itself); each task mixes the experts' outputs with its own softmax gate (a dense layer from the
/// standardised input to one weight per expert) and passes the mixture through its tower (dense + ReLU layers of
/// <see cref="TowerHidden"/> widths, then a dense layer to the task's outputs and the task's activation).
/// The baselines are special cases: shared-bottom = one expert (the gate is then always 1); single-task MLP = one
/// expert and one task; logistic regression = one expert without layers and a tower without hidden layers.
/// </summary>
public sealed record ModelSpec(
    IReadOnlyList<string> Features,
    int Experts,
    IReadOnlyList<int> ExpertHidden,
    IReadOnlyList<int> TowerHidden,
    IReadOnlyList<TaskSpec> Tasks)
{
    /// <summary>Input width.</summary>
    public int Inputs => Features.Count;

    /// <summary>Width of an expert's output (the input width when experts have no layers).</summary>
    public int ExpertOutputs => ExpertHidden.Count == 0 ? Inputs : ExpertHidden[^1];
}

/// <summary>A dense layer <c>y = x·W + b</c>; <see cref="W"/> is row-major <c>[In, Out]</c>.</summary>
public sealed record DenseWeights(int In, int Out, float[] W, float[] B)
{
    /// <summary>Throws when the arrays do not match the shape.</summary>
    public void Validate(string name)
    {
        if (W.Length != In * Out || B.Length != Out)
        {
            throw new InvalidDataException($"{name}: expected W[{In}x{Out}] and B[{Out}], got {W.Length} and {B.Length} values");
        }
    }
}

/// <summary>
/// A trained model's parameters, independent of the framework that trained it: an optional per-feature
/// <c>log1p(max(x, 0))</c> for heavy-tailed counts and amounts (<see cref="Log1p"/>), input standardisation (fitted on
/// the training split only, after that transform: <c>(x − Mean) / Std</c>), expert layers <c>[expert][layer]</c>, one
/// gate per task, and tower layers <c>[task][layer]</c> (the last one maps to the task's outputs).
/// </summary>
public sealed record ModelWeights(
    ModelSpec Spec,
    float[] Mean,
    float[] Std,
    IReadOnlyList<IReadOnlyList<DenseWeights>> Experts,
    IReadOnlyList<DenseWeights> Gates,
    IReadOnlyList<IReadOnlyList<DenseWeights>> Towers)
{
    /// <summary>Per feature, whether the raw value goes through <c>log1p(max(x, 0))</c> before standardisation (null:
    /// none does). The exported graph applies it, so callers always feed raw feature values.</summary>
    public IReadOnlyList<bool>? Log1p { get; init; }

    /// <summary>The input transform for one raw value of feature <paramref name="index"/> (before standardisation).</summary>
    public double Transform(int index, double value) =>
        Log1p is { } flags && flags[index] ? Math.Log(1 + Math.Max(value, 0)) : value;
}
