using System.Text.Json;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Hub.Federation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// Federated training jobs over REST (operator token): <c>POST /api/fl/jobs</c> (a FederatedJobSpec as JSON; 400 lists
/// every problem, each naming its field), <c>GET /api/fl/jobs</c>, <c>GET /api/fl/jobs/{id}</c> (spec, per-round
/// metrics, participation per client), <c>GET /api/fl/participants</c> (clients connected to this hub now), <c>POST /api/fl/jobs/{id}/stop</c> (409 when the job has already ended).
/// </summary>
internal static partial class FederationApi
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/fl/jobs", async (FederationStore jobs, CancellationToken ct) => Results.Json(await jobs.ListAsync(ct).ConfigureAwait(false)));

        // The clients (stores and partners) connected to this hub for federated tasks right now.
        api.MapGet("/fl/participants", (ParticipantDirectory participants) => Results.Json(new { connected = participants.Connected }));

        api.MapPost("/fl/jobs", async (HttpRequest request, FederationStore jobs, FederatedRunner runner, Features.DefinitionRegistry definitions, ILogger<FederationStore> logger, CancellationToken ct) =>
        {
            FederatedJobSpec? spec;
            try
            {
                spec = await JsonSerializer.DeserializeAsync<FederatedJobSpec>(request.Body, FederatedJobSpec.Json, ct).ConfigureAwait(false);
            }
            catch (JsonException ex)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, $"body: not a job spec: {ex.Message}");
            }
            if (spec is null)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, "body: a job spec as JSON is required");
            }
            var problems = spec.Problems().ToList();
            var current = definitions.Current.Set;
            foreach (var name in spec.Features)
            {
                if (current.Find(name) is not { } definition)
                {
                    problems.Add($"features: {name} is not in the feature registry (see GET /api/features)");
                }
                else if (!definition.IsNumeric())
                {
                    problems.Add($"features: {name} is not numeric; a model cannot take it");
                }
            }
            if (problems.Count > 0)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, string.Join("; ", problems));
            }
            var job = await jobs.CreateAsync(spec, "operator", ct).ConfigureAwait(false);
            LogCreated(logger, job.Id, spec.Name, spec.Strategy, spec.Rounds);
            runner.Wake();
            return Results.Json(job, statusCode: StatusCodes.Status201Created);
        });

        api.MapGet("/fl/jobs/{id}", async (string id, FederationStore jobs, CancellationToken ct) =>
            await jobs.DetailAsync(id, ct).ConfigureAwait(false) is { } job ? Results.Json(job) : NotFound(id));

        api.MapPost("/fl/jobs/{id}/stop", async (string id, FederationStore jobs, FederatedRunner runner, ILogger<FederationStore> logger, CancellationToken ct) =>
        {
            if (await jobs.GetAsync(id, ct).ConfigureAwait(false) is null)
            {
                return NotFound(id);
            }
            if (!await runner.StopAsync(id, ct).ConfigureAwait(false))
            {
                var state = await jobs.GetAsync(id, ct).ConfigureAwait(false);
                return ApiRequests.Error(StatusCodes.Status409Conflict, $"job {id} has already ended ({state?.State})");
            }
            LogStopped(logger, id);
            return Results.Json(await jobs.GetAsync(id, ct).ConfigureAwait(false));
        });
    }

    private static IResult NotFound(string id) => ApiRequests.Error(StatusCodes.Status404NotFound, $"no federated job {id} (see GET /api/fl/jobs)");

    [LoggerMessage(Level = LogLevel.Information, Message = "Federated job {JobId} created: {Name}, {Strategy}, {Rounds} rounds")]
    private static partial void LogCreated(ILogger logger, string jobId, string name, string strategy, int rounds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Federated job {JobId} stopped by an operator")]
    private static partial void LogStopped(ILogger logger, string jobId);
}
