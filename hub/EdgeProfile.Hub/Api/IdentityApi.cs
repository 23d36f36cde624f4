using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Profiles;
using EdgeProfile.Hub.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// Identity resolution for operators (operator token, like the rest of <c>/api</c>):
/// <c>GET /api/identity/{key}</c> — how the key's profile came together (links with store and time, audited merges,
/// rejections, unmerges); <c>POST /api/identity/merges/{seq}/unmerge</c> — undo a merge (404 unknown, 409 not undoable).
/// </summary>
internal static class IdentityApi
{
    /// <summary>Maps the endpoints on the <c>/api</c> group.</summary>
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/identity/merges/{seq:long}/unmerge", async (long seq, IdentityAdmin admin, CancellationToken ct) =>
        {
            try
            {
                return await admin.UnmergeAsync(seq, ct).ConfigureAwait(false) is { } result
                    ? Results.Json(result)
                    : Results.Json(new ErrorResponse($"no identity audit record {seq}"), statusCode: StatusCodes.Status404NotFound);
            }
            catch (IdentityConflictException ex)
            {
                return Results.Json(new ErrorResponse(ex.Message), statusCode: StatusCodes.Status409Conflict);
            }
        });

        api.MapGet("/identity/{**customerKey}", async (string? customerKey, IdentityAdmin admin, HubSecrets secrets, CancellationToken ct) =>
        {
            if (ApiRequests.CustomerKeyOf(customerKey, secrets, out var text) is not { } key)
            {
                return ApiRequests.BadKey(text);
            }

            var history = await admin.HistoryAsync(key, ct).ConfigureAwait(false);
            return history is null
                ? Results.Json(new ErrorResponse($"no profile for '{text}'"), statusCode: StatusCodes.Status404NotFound)
                : Results.Json(history);
        });
    }
}
