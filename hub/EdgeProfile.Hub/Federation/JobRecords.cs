using EdgeProfile.Federated.Jobs;

namespace EdgeProfile.Hub.Federation;

/// <summary>Job states.</summary>
internal static class JobStates
{
    public const string Pending = "pending", Running = "running", Completed = "completed", Failed = "failed", Stopped = "stopped";

    public static bool IsFinished(string state) => state is Completed or Failed or Stopped;
}

/// <summary>What a client did in a round.</summary>
internal static class ParticipationStatus
{
    public const string Updated = "updated", Dropped = "dropped", Failed = "failed", Straggler = "straggler", Rejected = "rejected";
}

/// <summary>A federated job as <c>GET /api/fl/jobs</c> lists it.</summary>
public sealed record JobSummary(
    string Id,
    string Name,
    string State,
    string? Reason,
    int Round,
    int Rounds,
    string Strategy,
    bool SecureAggregation,
    double? Epsilon,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    string? ModelVersion);

/// <summary>One round of a job (round 0: the feature statistics).</summary>
public sealed record RoundSummary(
    int Round,
    string State,
    int Attempt,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    int Invited,
    int Updates,
    int Dropped,
    int Stragglers,
    IReadOnlyList<string> Rejected,
    IReadOnlyDictionary<string, double> Metrics,
    double? Epsilon,
    string? ModelVersion,
    string? Reason);

/// <summary>One client's part in one round.</summary>
public sealed record ParticipationEntry(int Round, string Client, string Status, long Samples, IReadOnlyDictionary<string, double> Metrics, string? Reason);

/// <summary>A job with its spec, rounds and participation (<c>GET /api/fl/jobs/{id}</c>).</summary>
public sealed record JobDetail(
    string Id,
    string Name,
    string State,
    string? Reason,
    int Round,
    int Rounds,
    string Strategy,
    bool SecureAggregation,
    double? Epsilon,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    string? ModelVersion,
    FederatedJobSpec Spec,
    IReadOnlyList<RoundSummary> RoundHistory,
    IReadOnlyList<ParticipationEntry> Participation);

/// <summary>A job's checkpoint: where a (re)started runner continues from.</summary>
internal sealed record JobCheckpoint(string Id, FederatedJobSpec Spec, string State, int Round, string? Template, float[]? Global, byte[]? Optimizer, double? Epsilon, string? ModelVersion);
