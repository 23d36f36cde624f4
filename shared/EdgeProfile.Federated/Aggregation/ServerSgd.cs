namespace EdgeProfile.Federated.Aggregation;

/// <summary>Server SGD: <c>x ← x + η·Δ</c>. With η = 1 (the default) this is FedAvg's and FedProx's server step.</summary>
public sealed class ServerSgd(double learningRate = 1.0) : IServerOptimizer
{
    /// <inheritdoc/>
    public string Name => "sgd";

    /// <summary>Server learning rate η.</summary>
    public double LearningRate { get; } = learningRate > 0 ? learningRate : throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "must be positive");

    /// <inheritdoc/>
    public float[] Apply(ReadOnlySpan<float> global, ReadOnlySpan<float> delta)
    {
        if (global.Length != delta.Length)
        {
            throw new ArgumentException($"delta has {delta.Length} parameters, the model {global.Length}", nameof(delta));
        }
        var result = new float[global.Length];
        var eta = (float)LearningRate;
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = global[i] + (eta * delta[i]);
        }
        return result;
    }

    /// <inheritdoc/>
    public byte[] SaveState() => [];

    /// <inheritdoc/>
    public void LoadState(ReadOnlySpan<byte> state)
    {
    }
}
