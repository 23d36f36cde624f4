namespace EdgeProfile.Training.Federated;

/// <summary>The optimiser a client runs for its local epochs (its state starts afresh every round).</summary>
public enum LocalOptimizer
{
    /// <summary>SGD with momentum (<see cref="LocalTrainingOptions.Momentum"/>).</summary>
    Sgd,

    /// <summary>Adam.</summary>
    Adam,
}
