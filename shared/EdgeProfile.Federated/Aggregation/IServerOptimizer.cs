namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// Second stage of a server step (Reddi et al., "Adaptive Federated Optimization", ICLR 2021): treats the aggregate
/// delta as a pseudo-gradient and updates the global parameters. Plain FedAvg is SGD with server learning rate 1.
/// Optimisers with moments keep state across rounds: <see cref="SaveState"/> and <see cref="LoadState"/> let the hub
/// checkpoint it with the job.
/// </summary>
public interface IServerOptimizer
{
    /// <summary>Name as jobs and reports spell it.</summary>
    string Name { get; }

    /// <summary>Returns the new global parameters; <paramref name="global"/> is not modified.</summary>
    float[] Apply(ReadOnlySpan<float> global, ReadOnlySpan<float> delta);

    /// <summary>The optimiser's state (empty when it has none).</summary>
    byte[] SaveState();

    /// <summary>Restores what <see cref="SaveState"/> produced.</summary>
    void LoadState(ReadOnlySpan<byte> state);
}
