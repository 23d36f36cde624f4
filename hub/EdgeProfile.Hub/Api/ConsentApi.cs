using System.Text.Json;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Consent;
using EdgeProfile.Hub.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// Consent per purpose (operator token): <c>GET /api/consent/{key}</c> → the effective <see cref="ConsentState"/>;
/// <c>PUT /api/consent/{key}</c> with e.g. <c>{"personalisation": false, "source": "crm"}</c> → the new effective state.
/// A key the hub has not seen yet may be given (a CRM withdrawal ahead of the first visit).
/// </summary>
internal static class ConsentApi
{
    /// <summary>Maps the endpoints on the <c>/api</c> group.</summary>
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/consent/{**customerKey}", async (string? customerKey, ConsentStore consents, HubSecrets secrets, CancellationToken ct) =>
            ApiRequests.CustomerKeyOf(customerKey, secrets, out var text) is { } key
                ? Results.Json(await consents.GetAsync(key, ct).ConfigureAwait(false))
                : ApiRequests.BadKey(text));

        api.MapPut("/consent/{**customerKey}", async (string? customerKey, HttpRequest request, ConsentStore consents, HubSecrets secrets, CancellationToken ct) =>
        {
            if (ApiRequests.CustomerKeyOf(customerKey, secrets, out var text) is not { } key)
            {
                return ApiRequests.BadKey(text);
            }

            var change = await ApiRequests.ReadJsonAsync<ConsentChange>(request, ct).ConfigureAwait(false);
            if (change is null || (change.Analytics is null && change.Personalisation is null && change.Training is null))
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest,
                    "body must be JSON naming at least one purpose, like {\"personalisation\": false, \"source\": \"crm\"} (analytics, personalisation, training: true grants, false withdraws)");
            }

            return Results.Json(await consents.SetAsync(key, change, ct).ConfigureAwait(false));
        });
    }
}
