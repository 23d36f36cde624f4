using EdgeProfile.Hub.Operators;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// The web UI's accounts and the audit log over REST (operator token): <c>GET|POST /api/operators</c>,
/// <c>PUT /api/operators/{name}</c> (role, password, disabled) and <c>GET /api/audit?limit=100&amp;before=SEQ</c>.
/// </summary>
internal static class OperatorApi
{
    private const int MaxAuditPage = 1000;

    /// <summary>Maps the endpoints on the <c>/api</c> group.</summary>
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/operators", async (OperatorAccounts accounts, CancellationToken ct) =>
            Results.Json(await accounts.ListAsync(ct).ConfigureAwait(false)));

        api.MapPost("/operators", async (HttpRequest request, OperatorAccounts accounts, CancellationToken ct) =>
        {
            if (await ApiRequests.ReadJsonAsync<AccountRequest>(request, ct).ConfigureAwait(false) is not { } body)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, "body must be JSON like {\"name\":\"alice\",\"role\":\"operator\",\"password\":\"...\"} (partner users add \"partner\":\"brand-1\")");
            }

            try
            {
                var created = await accounts.CreateAsync(body.Name, body.Role, body.Password, body.Partner, ct).ConfigureAwait(false);
                return Results.Json(created, statusCode: StatusCodes.Status201Created);
            }
            catch (OperatorAccountException ex)
            {
                return ApiRequests.Error(ex.Status, ex.Message);
            }
        });

        api.MapPut("/operators/{name}", async (string name, HttpRequest request, OperatorAccounts accounts, CancellationToken ct) =>
        {
            if (await ApiRequests.ReadJsonAsync<AccountRequest>(request, ct).ConfigureAwait(false) is not { } body)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, "body must be JSON with any of \"role\", \"password\", \"disabled\"");
            }

            try
            {
                return Results.Json(await accounts.UpdateAsync(name, body.Role, body.Password, body.Disabled, ct).ConfigureAwait(false));
            }
            catch (OperatorAccountException ex)
            {
                return ApiRequests.Error(ex.Status, ex.Message);
            }
        });

        api.MapGet("/audit", async (int? limit, long? before, AuditLog audit, CancellationToken ct) =>
        {
            if (limit is < 1 or > MaxAuditPage)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, $"limit must be between 1 and {MaxAuditPage}");
            }

            return Results.Json(await audit.ListAsync(limit ?? 100, before, ct).ConfigureAwait(false));
        });
    }

    private sealed record AccountRequest(string? Name, string? Role, string? Password, string? Partner, bool? Disabled);
}
