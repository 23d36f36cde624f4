namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// FedYogi (Reddi et al., ICLR 2021, Algorithm 2): <c>v ← v − (1−β2)·Δ²·sign(v − Δ²)</c>, which grows v no faster than
/// additively and so adapts more gently than Adam. Defaults are Flower's (<c>flwr.server.strategy.FedYogi</c>):
/// η = 0.01, β1 = 0.9, β2 = 0.99, τ = 1e-3.
/// </summary>
public sealed class FedYogi(
    double learningRate = FedYogi.DefaultLearningRate,
    double beta1 = FedYogi.DefaultBeta1,
    double beta2 = FedYogi.DefaultBeta2,
    double tau = FedYogi.DefaultTau) : AdaptiveServerOptimizer(learningRate, beta1, beta2, tau)
{
    /// <summary>Default η (Flower's).</summary>
    public const double DefaultLearningRate = 0.01;

    /// <summary>Default β1.</summary>
    public const double DefaultBeta1 = 0.9;

    /// <summary>Default β2.</summary>
    public const double DefaultBeta2 = 0.99;

    /// <summary>Default τ (Flower's).</summary>
    public const double DefaultTau = 1e-3;

    /// <inheritdoc/>
    public override string Name => "fedyogi";

    private protected override byte Kind => 2;

    private protected override double NextSecondMoment(double v, double squaredDelta) =>
        v - ((1 - Beta2) * squaredDelta * Math.Sign(v - squaredDelta));
}
