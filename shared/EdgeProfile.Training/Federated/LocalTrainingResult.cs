using EdgeProfile.Models;

namespace EdgeProfile.Training.Federated;

/// <summary>
/// What a client sends back after a round: the locally trained parameters (<see cref="Weights"/>, same input transform as
/// the global model), their change <c>Flatten(local) − Flatten(global)</c> (<see cref="Delta"/>, in
/// <see cref="ModelWeightsVector"/> order), the number of local rows (<see cref="Samples"/>, the FedAvg weight), the mean
/// batch loss of the last epoch (<see cref="TrainLoss"/>; NaN when no epoch ran) and metrics of the trained model on the
/// local rows (<see cref="Metrics"/>: <c>loss</c>, <c>loss_&lt;task&gt;</c>, <c>auc_&lt;task&gt;</c> for binary,
/// <c>rmse_&lt;task&gt;</c> for regression, <c>auc_&lt;task&gt;</c> as the mean over labels for multi-label).
/// </summary>
public sealed record LocalTrainingResult(ModelWeights Weights, float[] Delta, long Samples, double TrainLoss, IReadOnlyDictionary<string, double> Metrics);
