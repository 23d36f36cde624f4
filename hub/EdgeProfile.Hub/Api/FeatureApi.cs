using System.Text;
using EdgeProfile.Core.Features;
using EdgeProfile.Hub.Features;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// The feature-definition registry over REST (operator token, like the rest of <c>/api</c>):
/// <c>GET /api/features</c>, <c>GET|PUT|DELETE /api/features/{name}</c>, <c>POST /api/features</c> (bulk).
/// Bodies are FeatureDefinition / FeatureSet JSON; invalid ones are a 400 naming the key, version conflicts a 409.
/// </summary>
internal static class FeatureApi
{
    /// <summary>Maps the endpoints on the <c>/api</c> group.</summary>
    public static void Map(IEndpointRouteBuilder api)
    {
        // The canonical FeatureSet JSON, exactly as edges receive it.
        api.MapGet("/features", (DefinitionRegistry registry) =>
            Results.Text(registry.Current.Json, "application/json", Encoding.UTF8));

        api.MapGet("/features/{name}", async (string name, DefinitionRegistry registry, CancellationToken ct) =>
            await registry.HistoryAsync(name, ct).ConfigureAwait(false) is { } history
                ? Results.Json(history)
                : NotFound(name));

        api.MapPut("/features/{name}", async (string name, HttpRequest request, DefinitionRegistry registry, ILogger<DefinitionRegistry> logger, CancellationToken ct) =>
        {
            var body = await ReadBodyAsync(request, ct).ConfigureAwait(false);
            return await ChangeAsync(logger, () => registry.RegisterAsync([DefinitionRequests.ParseOne(body, name)], ct), created: true).ConfigureAwait(false);
        });

        api.MapPost("/features", async (HttpRequest request, DefinitionRegistry registry, ILogger<DefinitionRegistry> logger, CancellationToken ct) =>
        {
            var body = await ReadBodyAsync(request, ct).ConfigureAwait(false);
            return await ChangeAsync(logger, () => registry.RegisterAsync(DefinitionRequests.ParseMany(body), ct), created: false).ConfigureAwait(false);
        });

        api.MapDelete("/features/{name}", async (string name, DefinitionRegistry registry, ILogger<DefinitionRegistry> logger, CancellationToken ct) =>
        {
            var result = await registry.RetireAsync(name, ct).ConfigureAwait(false);
            if (result is null)
            {
                return NotFound(name);
            }

            LogChanges(logger, result);
            return Results.Json(result);
        });
    }

    private static async Task<IResult> ChangeAsync(ILogger logger, Func<Task<FeatureChangeResult>> change, bool created)
    {
        FeatureChangeResult result;
        try
        {
            result = await change().ConfigureAwait(false);
        }
        catch (FeatureDefinitionException ex)
        {
            FeatureLog.Refused(logger, ex.Message);
            return Error(StatusCodes.Status400BadRequest, ex.Message);
        }
        catch (FeatureConflictException ex)
        {
            FeatureLog.Refused(logger, ex.Message);
            return Error(StatusCodes.Status409Conflict, ex.Message);
        }

        LogChanges(logger, result);
        var status = created && result.Changes is [{ Outcome: FeatureOutcome.Created }] ? StatusCodes.Status201Created : StatusCodes.Status200OK;
        return Results.Json(result, statusCode: status);
    }

    private static void LogChanges(ILogger logger, FeatureChangeResult result)
    {
        var changed = result.Changes.Where(c => c.Outcome is not FeatureOutcome.Unchanged).ToList();
        if (changed.Count > 0)
        {
            FeatureLog.Changed(logger, result.Revision, string.Join(", ", changed.Select(c => $"{c.Id} {c.Outcome}")));
        }
    }

    private static async Task<string> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        // Any content type: scripts often post JSON without saying so (curl -d).
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(ct).ConfigureAwait(false);
    }

    private static IResult NotFound(string name) =>
        Error(StatusCodes.Status404NotFound, $"no feature '{name}' in the registry (see GET /api/features)");

    private static IResult Error(int status, string message) => Results.Json(new ErrorResponse(message), statusCode: status);
}
