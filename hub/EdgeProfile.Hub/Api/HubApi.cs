using System.Reflection;
using System.Text.Json;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Enrollment;
using EdgeProfile.Hub.Profiles;
using EdgeProfile.Hub.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Api;

/// <summary>The operator's REST API (contracts.md §4). Everything but <c>GET /api/health</c> needs the operator token.</summary>
internal static class HubApi
{
    public const string HealthPath = "/api/health";

    private static readonly string Version = ReadVersion();

    /// <summary>401 for /api/* (except health) without <c>Authorization: Bearer &lt;operator token&gt;</c>.</summary>
    public static Task RequireOperatorAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/api") || path.Equals(HealthPath, StringComparison.OrdinalIgnoreCase))
        {
            return next(context);
        }

        var secrets = context.RequestServices.GetRequiredService<HubSecrets>();
        var header = context.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        var token = header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) ? header[bearer.Length..].Trim() : null;
        if (secrets.IsOperatorToken(token))
        {
            return next(context);
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Error(StatusCodes.Status401Unauthorized,
            token is null ? "operator token required: send 'Authorization: Bearer <token>'" : "invalid operator token")
            .ExecuteAsync(context);
    }

    /// <summary>Turns an unhandled error under /api into a JSON 500 (and logs it) instead of an empty response.</summary>
    public static async Task CatchErrorsAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (context.Request.Path.StartsWithSegments("/api") && !context.Response.HasStarted &&
                                   !context.RequestAborted.IsCancellationRequested)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeProfile.Hub.Api");
            HubLog.ApiError(logger, ex, context.Request.Method, context.Request.Path);
            context.Response.Clear();
            await Error(StatusCodes.Status500InternalServerError, "internal error; see the hub's log").ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet(HealthPath, () => Results.Json(new HealthResponse("ok", Version)));

        var api = app.MapGroup("/api");
        api.MapGet("/stores", async (StoreRegistry registry, CancellationToken ct) =>
            Results.Json(await registry.ListAsync(ct).ConfigureAwait(false)));

        api.MapPost("/stores/{storeId}/revoke", async (string storeId, StoreRegistry registry, ILogger<StoreRegistry> logger, CancellationToken ct) =>
        {
            var revoked = StoreIds.IsValid(storeId) ? await registry.RevokeAsync(storeId, ct).ConfigureAwait(false) : null;
            if (revoked is null)
            {
                return Error(StatusCodes.Status404NotFound, $"store '{storeId}' is not enrolled");
            }

            HubLog.StoreRevoked(logger, storeId);
            return Results.Json(revoked);
        });

        api.MapPost("/enrollments", CreateEnrollmentAsync);

        // Catch-all so that a key containing "/" still reaches the handler (and gets a 400 or 404 in the API's shape).
        api.MapGet("/profiles/{**customerKey}", GetProfileAsync);

        FeatureApi.Map(api);
        IdentityApi.Map(api);
        SegmentApi.Map(api);
        ErasureApi.Map(api);
        ConsentApi.Map(api);
        ModelApi.Map(api);
        ExplanationApi.Map(api);
        RuleApi.Map(api);
        GraphApi.Map(api);
        FederationApi.Map(api);
        RecommenderApi.Map(api);
        OperatorApi.Map(api);

        // Unknown /api paths answer in the API's error shape too.
        api.MapFallback(() => Error(StatusCodes.Status404NotFound, "no such API; see GET /api/health, /api/stores, /api/profiles/{key}, /api/identity/{key}, /api/consent/{key}, /api/segments, /api/features, /api/models, /api/fl/jobs, /api/recommenders, /api/operators, /api/audit, POST /api/enrollments, /api/erasures"));
    }

    private static async Task<IResult> CreateEnrollmentAsync(HttpRequest request, StoreRegistry registry, ILogger<StoreRegistry> logger, CancellationToken ct)
    {
        if (await ApiRequests.ReadJsonAsync<EnrollmentRequest>(request, ct).ConfigureAwait(false) is not { } body)
        {
            return Error(StatusCodes.Status400BadRequest, "body must be JSON like {\"storeId\":\"store-001\",\"kind\":\"store\"}");
        }

        if (!StoreIds.IsValid(body.StoreId))
        {
            return Error(StatusCodes.Status400BadRequest, $"storeId is required: {StoreIds.Rule}");
        }

        if (StoreIds.NormalizeKind(body.Kind) is not { } kind)
        {
            return Error(StatusCodes.Status400BadRequest, $"kind must be one of {string.Join(", ", StoreIds.Kinds)}");
        }

        var created = await registry.CreateTokenAsync(body.StoreId!, kind, ct).ConfigureAwait(false);
        HubLog.EnrollmentTokenCreated(logger, kind, created.StoreId, created.ExpiresAt);
        return Results.Json(created, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetProfileAsync(string? customerKey, ProfileReader profiles, ProfileCache cache, HubSecrets secrets, CancellationToken ct)
    {
        if (ApiRequests.CustomerKeyOf(customerKey, secrets, out var text) is not { } canonical)
        {
            return ApiRequests.BadKey(text);
        }

        if (cache.Find(canonical) is { } cached)
        {
            return Results.Bytes(cached, "application/json; charset=utf-8");
        }

        var stamp = cache.Begin();
        var profile = await profiles.FindAsync(canonical, ct).ConfigureAwait(false);
        return profile is null
            ? Error(StatusCodes.Status404NotFound, $"no profile for '{text}'")
            : Results.Bytes(cache.Store(canonical, profile, stamp), "application/json; charset=utf-8");
    }

    private static IResult Error(int status, string message) => ApiRequests.Error(status, message);

    private static string ReadVersion()
    {
        var version = typeof(HubApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }
}
