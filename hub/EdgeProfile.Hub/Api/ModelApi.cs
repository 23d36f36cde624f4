using EdgeProfile.Hub.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// The model registry over REST (operator token): <c>GET /api/models</c>, <c>POST /api/models</c> (the ONNX file as
/// the body), <c>GET /api/models/{version}</c>, <c>GET /api/models/{version}/onnx</c>,
/// <c>POST /api/models/{version}/deploy</c>, <c>POST /api/models/rollback</c>, <c>GET /api/models/deployments</c>,
/// <c>GET /api/models/status</c>. Refusals are 400 (unusable file, unknown store), 404 (unknown version) and 409
/// (a version registered with other content, nothing to roll back to), each naming what to fix.
/// </summary>
internal static partial class ModelApi
{
    /// <summary>Largest model file accepted (a production-sized fp32 MMoE is about 3 MB).</summary>
    public const long MaxModelBytes = 256L * 1024 * 1024;

    private const string Operator = "operator";

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/models", async (ModelRegistry registry, CancellationToken ct) =>
            Results.Json(await registry.ListAsync(ct).ConfigureAwait(false)));

        api.MapGet("/models/deployments", (ModelRegistry registry) => Results.Json(registry.History.Rows.Reverse()));

        api.MapGet("/models/status", async (ModelRegistry registry, CancellationToken ct) =>
            Results.Json(await registry.StatusAsync(ct).ConfigureAwait(false)));

        api.MapPost("/models", RegisterAsync);

        api.MapPost("/models/rollback", async (HttpRequest request, ModelRegistry registry, ILogger<ModelRegistry> logger, CancellationToken ct) =>
        {
            var body = request.ContentLength is 0 ? new StoresBody(null) : await ApiRequests.ReadJsonAsync<StoresBody>(request, ct).ConfigureAwait(false);
            if (body is null)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, "body must be empty (every store) or JSON like {\"stores\":[\"store-001\"]}");
            }

            return await Run(async () =>
            {
                var result = await registry.RollbackAsync(body.Stores ?? [], Operator, ct).ConfigureAwait(false);
                foreach (var move in result.Moves)
                {
                    LogRolledBack(logger, move.StoreId, move.From, move.To);
                }

                return Results.Json(result);
            }).ConfigureAwait(false);
        });

        api.MapGet("/models/{version}", async (string version, ModelRegistry registry, CancellationToken ct) =>
            await registry.GetAsync(version, ct).ConfigureAwait(false) is { } model
                ? Results.Json(model)
                : NotFound(version));

        api.MapGet("/models/{version}/onnx", async (string version, ModelRegistry registry, CancellationToken ct) =>
            await registry.ContentAsync(version, ct).ConfigureAwait(false) is { } found
                ? Results.File(found.Content, "application/octet-stream", FileName(version))
                : NotFound(version));

        api.MapPost("/models/{version}/deploy", async (string version, HttpRequest request, ModelRegistry registry, Explanations.ModelImportance importance, ILogger<ModelRegistry> logger, CancellationToken ct) =>
        {
            var body = request.ContentLength is 0 ? new StoresBody(null) : await ApiRequests.ReadJsonAsync<StoresBody>(request, ct).ConfigureAwait(false);
            if (body is null)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, "body must be empty (every store) or JSON like {\"stores\":[\"store-001\"]}");
            }

            return await Run(async () =>
            {
                var deployment = await registry.DeployAsync(version, body.Stores ?? [], Operator, ct).ConfigureAwait(false);
                LogDeployed(logger, version, deployment.Stores.Count == 0 ? "every store" : string.Join(", ", deployment.Stores), deployment.Revision);

                // The deployed version's global importance, recomputed in the background (GET …/importance computes it
                // on the spot when asked first).
                importance.Recompute(version);
                return Results.Json(deployment);
            }).ConfigureAwait(false);
        });
    }

    private static async Task<IResult> RegisterAsync(HttpRequest request, string? description, ModelRegistry registry, ILogger<ModelRegistry> logger, CancellationToken ct)
    {
        if (request.ContentLength is > MaxModelBytes)
        {
            return ApiRequests.Error(StatusCodes.Status413PayloadTooLarge, $"a model file may be at most {MaxModelBytes / (1024 * 1024)} MiB");
        }

        // Kestrel's default body limit (30 MB) is below ours: without this, a larger file loses its connection.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxModelBytes;
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, ct).ConfigureAwait(false);
        if (buffer.Length == 0)
        {
            return ApiRequests.Error(StatusCodes.Status400BadRequest, "the body must be the model's ONNX file (Content-Type: application/octet-stream)");
        }

        return await Run(async () =>
        {
            var (model, created) = await registry.RegisterAsync(buffer.ToArray(), description, Operator, ct).ConfigureAwait(false);
            if (created)
            {
                LogRegistered(logger, model.Version, model.Size, model.Features.Count);
            }

            return Results.Json(model, statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }).ConfigureAwait(false);
    }

    private static async Task<IResult> Run(Func<Task<IResult>> work)
    {
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (ModelRegistryException ex)
        {
            var status = ex.Error switch
            {
                ModelRegistryError.NotFound => StatusCodes.Status404NotFound,
                ModelRegistryError.Conflict => StatusCodes.Status409Conflict,
                _ => StatusCodes.Status400BadRequest,
            };
            return ApiRequests.Error(status, ex.Message);
        }
    }

    private static IResult NotFound(string version) =>
        ApiRequests.Error(StatusCodes.Status404NotFound, $"model {version} is not registered (see GET /api/models)");

    private static string FileName(string version) =>
        string.Concat(version.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')) + ".onnx";

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Version} registered ({Bytes} bytes, {Features} features)")]
    private static partial void LogRegistered(ILogger logger, string version, long bytes, int features);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Version} deployed to {Stores} (revision {Revision})")]
    private static partial void LogDeployed(ILogger logger, string version, string stores, long revision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store {StoreId} rolled back from model {From} to {To}")]
    private static partial void LogRolledBack(ILogger logger, string storeId, string from, string to);

    private sealed record StoresBody(string[]? Stores);
}
