using EdgeProfile.Core.Features;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Training;

namespace EdgeProfile.Federated.Participant;

/// <summary>
/// Where a participant's training rows come from: a store's own event log (the edge agent), or a partner's
/// transactions file (<c>edgeprofile partner join</c>). Rows never leave the participant.
/// </summary>
public interface IFederatedDataSource
{
    /// <summary>
    /// The job's rows: one column per <see cref="FederatedJobSpec.Features"/> (in order) and one label per task, computed
    /// with <paramref name="definitions"/> (the hub's definitions of those features). Throws
    /// <see cref="FederatedDataException"/> with the reason when this participant cannot take part.
    /// </summary>
    Task<FederatedData> LoadAsync(FederatedJobSpec job, FeatureSet definitions, CancellationToken cancellationToken);
}

/// <summary>A participant's rows for a job: training rows and (when it has them) local validation rows, and a line
/// saying where they came from.</summary>
public sealed record FederatedData(TrainingData Train, TrainingData? Validation, string Description);

/// <summary>The participant cannot produce rows for a job (no data, an unknown feature or label): the message says why.</summary>
public sealed class FederatedDataException : Exception
{
    public FederatedDataException(string message) : base(message)
    {
    }

    public FederatedDataException(string message, Exception inner) : base(message, inner)
    {
    }

    public FederatedDataException()
    {
    }
}
