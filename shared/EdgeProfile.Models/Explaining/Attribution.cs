namespace EdgeProfile.Models.Explaining;

/// <summary>How an attribution was computed.</summary>
public enum AttributionMethod
{
    /// <summary>Exact Shapley values: every coalition of groups enumerated.</summary>
    ExactShapley,

    /// <summary>KernelSHAP: Shapley-kernel weighted regression on sampled coalitions (an estimate with an error).</summary>
    KernelShap,

    /// <summary>LIME: a local ridge surrogate on perturbed coalitions (not Shapley values; a second opinion).</summary>
    Lime,
}

/// <summary>
/// One output's attribution: a value per group such that <c>BaseValue + Σ Values ≈ Output</c> (exactly, up to
/// rounding, for Shapley methods; <see cref="AdditivityError"/> says by how much it misses).
/// </summary>
/// <param name="Method">How it was computed.</param>
/// <param name="Groups">Group names, the order of <paramref name="Values"/>.</param>
/// <param name="Values">Attribution per group (φ).</param>
/// <param name="BaseValue">The expected output over the background (<c>v(∅)</c>; LIME: the surrogate's intercept).</param>
/// <param name="Output">The explained function's output at the row (<c>v(all)</c>).</param>
/// <param name="AdditivityError"><c>|BaseValue + Σ Values − Output|</c>.</param>
/// <param name="StandardErrors">Estimated standard error per group (KernelSHAP), else null.</param>
/// <param name="Evaluations">Rows the function was evaluated on (coalitions × background rows).</param>
/// <param name="Background">Where the background came from and how many rows it has.</param>
public sealed record Attribution(
    AttributionMethod Method,
    IReadOnlyList<string> Groups,
    double[] Values,
    double BaseValue,
    double Output,
    double AdditivityError,
    double[]? StandardErrors,
    long Evaluations,
    string Background)
{
    /// <summary>LIME only: the surrogate's weighted R² on its samples (how well the local linear model fits).</summary>
    public double? SurrogateFit { get; init; }
}
