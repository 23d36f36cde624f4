using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EdgeProfile.Federated.Jobs;

namespace EdgeProfile.Cli.HubApi;

// Federated learning jobs (POST/GET /api/fl/jobs...). The records below are the CLI's reading of the hub's JSON (the
// JSON is the contract; the hub has its own types), kept next to the calls that return them.
public sealed partial class HubRestClient
{
    /// <summary>Reads the hub's federated-learning JSON: camelCase, numbers also as strings and NaN/Infinity literals
    /// (metrics of a diverged round).</summary>
    public static readonly JsonSerializerOptions FlJson = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary><c>POST /api/fl/jobs</c> with <paramref name="spec"/> as its body: the created job (201). The hub's
    /// refusal of the spec (400) is a usage error with its reason.</summary>
    public async Task<(FlJobSummary Job, string Json)> CreateFlJobAsync(FederatedJobSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var body = new StringContent(JsonSerializer.Serialize(spec, FederatedJobSpec.Json), System.Text.Encoding.UTF8, "application/json");
        string? json;
        try
        {
            json = await SendAsync(HttpMethod.Post, "api/fl/jobs", body, $"create federated job {spec.Name}", cancellationToken).ConfigureAwait(false);
        }
        catch (CliException ex) when (_lastStatus == System.Net.HttpStatusCode.BadRequest)
        {
            // The hub found problems with the spec (e.g. a feature it does not have): a usage error, as local ones are.
            throw new CliException(ex.Message, ExitCodes.Usage);
        }

        return (DeserializeFl<FlJobSummary>(json, "POST /api/fl/jobs"), json!);
    }

    /// <summary><c>GET /api/fl/jobs</c>: every federated job.</summary>
    public async Task<(IReadOnlyList<FlJobSummary> Jobs, string Json)> ListFlJobsAsync(CancellationToken cancellationToken)
    {
        var json = await SendAsync(HttpMethod.Get, "api/fl/jobs", null, "list federated jobs", cancellationToken).ConfigureAwait(false);
        return (DeserializeFl<List<FlJobSummary>>(json, "GET /api/fl/jobs"), json!);
    }

    /// <summary><c>GET /api/fl/jobs/{id}</c>: the job with its rounds and participation; null when there is no such job (404).</summary>
    public async Task<(FlJobDetail Job, string Json)?> GetFlJobAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        var json = await SendAsync(HttpMethod.Get, "api/fl/jobs/" + Uri.EscapeDataString(id), null, $"get federated job {id}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        if (json is null)
        {
            return null;
        }

        try
        {
            return (FlJobDetail.Parse(json), json);
        }
        catch (JsonException ex)
        {
            throw new CliException($"the hub at {BaseUrl} answered GET /api/fl/jobs/{{id}} with unexpected JSON: {ex.Message}", ex);
        }
    }

    /// <summary><c>POST /api/fl/jobs/{id}/stop</c>: the job as it stopped; null when there is no such job (404). A job
    /// that already finished is a <see cref="CliException"/> with the hub's reason (409).</summary>
    public async Task<(FlJobSummary Job, string Json)?> StopFlJobAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        var json = await SendAsync(HttpMethod.Post, $"api/fl/jobs/{Uri.EscapeDataString(id)}/stop", null, $"stop federated job {id}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return json is null ? null : (DeserializeFl<FlJobSummary>(json, "POST /api/fl/jobs/{id}/stop"), json);
    }

    private T DeserializeFl<T>(string? json, string call)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json ?? "null", FlJson)
                ?? throw new CliException($"the hub at {BaseUrl} answered {call} with an empty body");
        }
        catch (JsonException ex)
        {
            throw new CliException($"the hub at {BaseUrl} answered {call} with unexpected JSON: {ex.Message}", ex);
        }
    }
}

/// <summary>A federated job as <c>GET /api/fl/jobs</c> lists it. <paramref name="Round"/> is the last completed round
/// of <paramref name="Rounds"/>; <paramref name="Epsilon"/> the privacy spent so far (null without differential
/// privacy); <paramref name="ModelVersion"/> the newest global model the job registered.</summary>
public sealed record FlJobSummary(
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

/// <summary>One round of a job: <paramref name="Updates"/> aggregated of <paramref name="Invited"/>, the clients
/// dropped (no answer), straggling (too late) and rejected by a robust strategy, and the round's metrics. Round 0 is
/// the feature-statistics phase; <paramref name="Attempt"/> counts retries of a round that got too few updates.</summary>
public sealed record FlRoundReport(
    int Round,
    string State,
    int Attempt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int Invited,
    int Updates,
    int Dropped,
    int Stragglers,
    IReadOnlyList<string>? Rejected,
    IReadOnlyDictionary<string, double>? Metrics,
    double? Epsilon,
    string? ModelVersion,
    string? Reason);

/// <summary>What one client did in one round: <paramref name="Status"/> is updated, dropped, failed, straggler or rejected.</summary>
public sealed record FlParticipation(
    int Round,
    string Client,
    string Status,
    long Samples,
    IReadOnlyDictionary<string, double>? Metrics,
    string? Reason);

/// <summary>A federated job as <c>GET /api/fl/jobs/{id}</c> returns it: its summary, spec, rounds and participation.</summary>
public sealed record FlJobDetail(FlJobSummary Summary, FederatedJobSpec? Spec, IReadOnlyList<FlRoundReport> RoundReports, IReadOnlyList<FlParticipation> Participation)
{
    /// <summary>
    /// Reads the hub's JSON. The detail carries the summary's fields, but its <c>rounds</c> is the list of round
    /// reports while the summary's <c>rounds</c> is the number of rounds; both readings are accepted here (a number
    /// with the reports under <c>roundHistory</c> or <c>roundReports</c> works too). A list under <c>rounds</c> leaves
    /// the number of rounds to the spec.
    /// </summary>
    public static FlJobDetail Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (JsonNode.Parse(json) is not JsonObject root)
        {
            throw new JsonException("expected a JSON object");
        }

        var spec = root["spec"] is JsonObject s ? s.Deserialize<FederatedJobSpec>(FederatedJobSpec.Json) : null;
        var reportsNode = root["rounds"] as JsonArray ?? root["roundHistory"] as JsonArray ?? root["roundReports"] as JsonArray;
        var reports = reportsNode?.Deserialize<List<FlRoundReport>>(HubRestClient.FlJson) ?? [];
        if (root["rounds"] is JsonArray)
        {
            root["rounds"] = spec?.Rounds ?? reports.Count;
        }

        var summary = root.Deserialize<FlJobSummary>(HubRestClient.FlJson) ?? throw new JsonException("empty job");
        var participation = (root["participation"] as JsonArray)?.Deserialize<List<FlParticipation>>(HubRestClient.FlJson) ?? [];
        return new FlJobDetail(summary, spec, reports, participation);
    }
}
