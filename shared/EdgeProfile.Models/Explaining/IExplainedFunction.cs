namespace EdgeProfile.Models.Explaining;

/// <summary>
/// What an attribution explains: a model's outputs as a deterministic function of raw feature rows. Any scorer can
/// be one (<see cref="DelegateFunction"/>); models with known structure add a fast path (<see cref="ICoalitionValues"/>).
/// </summary>
/// <remarks>Implementations must be deterministic (the same row gives the same outputs whatever else is in the
/// batch) and safe to call from one thread at a time; callers serialise.</remarks>
public interface IExplainedFunction
{
    /// <summary>Input width F (raw features, in the model's order).</summary>
    int Inputs { get; }

    /// <summary>Output width O (e.g. one per task; several for a multi-label task).</summary>
    int Outputs { get; }

    /// <summary>Evaluates <c>rows.Length / Inputs</c> rows (row-major) into <paramref name="outputs"/>
    /// (<c>rows × Outputs</c>, row-major).</summary>
    void Evaluate(ReadOnlySpan<double> rows, Span<double> outputs);
}

/// <summary>
/// A fast path for exact Shapley values: the value of every coalition of feature groups at once, for functions whose
/// structure allows better than evaluating <c>2^M · K</c> rows one by one.
/// </summary>
public interface ICoalitionValues
{
    /// <summary>
    /// Fills <paramref name="values"/> (<c>2^M × Outputs</c>, row-major by coalition mask) with
    /// <c>v(S) = Σ_k w_k · f(x_S, b_k,¬S)</c>: the features of the groups in S (bit g of the mask = group g) from
    /// <paramref name="x"/>, the others from background row k, averaged with the background weights.
    /// </summary>
    void CoalitionValues(ReadOnlySpan<double> x, Background background, FeatureGroups groups, Span<double> values);
}

/// <summary>
/// A fast path for sampled coalitions (KernelSHAP, LIME): the values of a given list of coalitions of feature groups,
/// for functions whose structure allows better than building and evaluating every <c>coalition × background row</c>
/// input row.
/// </summary>
public interface ICoalitionSampleValues
{
    /// <summary>
    /// Fills <paramref name="values"/> (<c>coalitions × Outputs</c>, row-major) with <c>v(S) = Σ_k w_k · f(x_S, b_k,¬S)</c>
    /// for each coalition S of <paramref name="members"/> (<c>coalitions × M</c> flags, row-major; true = group g takes
    /// <paramref name="x"/>'s values): the same numbers as evaluating those rows, up to rounding.
    /// </summary>
    void SampledCoalitionValues(ReadOnlySpan<double> x, Background background, FeatureGroups groups, ReadOnlySpan<bool> members, Span<double> values);
}
