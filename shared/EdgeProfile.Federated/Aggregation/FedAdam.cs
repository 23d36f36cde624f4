namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// FedAdam (Reddi et al., ICLR 2021, Algorithm 2): <c>v ← β2·v + (1−β2)·Δ²</c>. Defaults are Flower's
/// (<c>flwr.server.strategy.FedAdam</c>): η = 0.1, β1 = 0.9, β2 = 0.99, τ = 1e-9; the paper tunes η and τ per task.
/// Unlike Flower's recent versions no bias correction is applied (the paper has none).
/// </summary>
public sealed class FedAdam(
    double learningRate = FedAdam.DefaultLearningRate,
    double beta1 = FedAdam.DefaultBeta1,
    double beta2 = FedAdam.DefaultBeta2,
    double tau = FedAdam.DefaultTau) : AdaptiveServerOptimizer(learningRate, beta1, beta2, tau)
{
    /// <summary>Default η (Flower's).</summary>
    public const double DefaultLearningRate = 0.1;

    /// <summary>Default β1.</summary>
    public const double DefaultBeta1 = 0.9;

    /// <summary>Default β2.</summary>
    public const double DefaultBeta2 = 0.99;

    /// <summary>Default τ (Flower's).</summary>
    public const double DefaultTau = 1e-9;

    /// <inheritdoc/>
    public override string Name => "fedadam";

    private protected override byte Kind => 1;

    private protected override double NextSecondMoment(double v, double squaredDelta) =>
        (Beta2 * v) + ((1 - Beta2) * squaredDelta);
}
