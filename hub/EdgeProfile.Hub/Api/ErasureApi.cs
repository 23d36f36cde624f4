using System.Text.Json;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Erasure;
using EdgeProfile.Hub.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// Erasure for operators (operator token): <c>POST /api/erasures</c> with <c>{"key": "loyalty:L-1"}</c> (any key of the
/// customer, raw email/phone/card pseudonymised like everywhere) → 201 and the request's status; 404 when the hub does
/// not know the customer. <c>GET /api/erasures/{id}</c> → which systems confirmed.
/// </summary>
internal static class ErasureApi
{
    /// <summary>Maps the endpoints on the <c>/api</c> group.</summary>
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/erasures", async (HttpRequest request, ErasureService erasures, HubSecrets secrets, CancellationToken ct) =>
        {
            const string shape = "body must be JSON like {\"key\":\"loyalty:L-1002\"}";
            var body = await ApiRequests.ReadJsonAsync<ErasureRequestBody>(request, ct).ConfigureAwait(false);
            if (ApiRequests.CustomerKeyOf(body?.Key, secrets, out var text) is not { } key)
            {
                return Error(StatusCodes.Status400BadRequest, $"key: '{text}' is not a customer key (kind:value with kind one of {CustomerKey.KindList}); {shape}");
            }

            var status = await erasures.EraseAsync(key, ct).ConfigureAwait(false);
            return status is null
                ? Error(StatusCodes.Status404NotFound, $"no customer '{text}' at the hub")
                : Results.Json(status, statusCode: StatusCodes.Status201Created);
        });

        api.MapGet("/erasures/{id}", async (string id, ErasureService erasures, CancellationToken ct) =>
            await erasures.StatusAsync(id, ct).ConfigureAwait(false) is { } status
                ? Results.Json(status)
                : Error(StatusCodes.Status404NotFound, $"no erasure request '{id}'"));
    }

    private static IResult Error(int status, string message) => ApiRequests.Error(status, message);

    private sealed record ErasureRequestBody(string? Key);
}
