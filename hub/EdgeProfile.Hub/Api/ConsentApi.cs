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
            Parse(customerKey, secrets) is { } key
                ? Results.Json(await consents.GetAsync(key, ct).ConfigureAwait(false))
                : BadKey(customerKey));

        api.MapPut("/consent/{**customerKey}", async (string? customerKey, HttpRequest request, ConsentStore consents, HubSecrets secrets, CancellationToken ct) =>
        {
            if (Parse(customerKey, secrets) is not { } key)
            {
                return BadKey(customerKey);
            }

            ConsentChange? change;
            try
            {
                change = await JsonSerializer.DeserializeAsync<ConsentChange>(request.Body, JsonSerializerOptions.Web, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is JsonException or BadHttpRequestException)
            {
                return Results.Json(new ErrorResponse("body must be JSON like {\"personalisation\": false, \"source\": \"crm\"} (analytics, personalisation, training: true grants, false withdraws)"),
                    statusCode: StatusCodes.Status400BadRequest);
            }

            if (change is null || (change.Analytics is null && change.Personalisation is null && change.Training is null))
            {
                return Results.Json(new ErrorResponse("name at least one purpose: analytics, personalisation or training (true grants, false withdraws)"),
                    statusCode: StatusCodes.Status400BadRequest);
            }

            return Results.Json(await consents.SetAsync(key, change, ct).ConfigureAwait(false));
        });
    }

    private static string? Parse(string? customerKey, HubSecrets secrets)
    {
        var text = (customerKey ?? "").Replace("%2F", "/", StringComparison.OrdinalIgnoreCase).Trim();
        return CustomerKey.TryParse(text, out var key) ? secrets.Pseudonymizer.Canonical(key).ToString() : null;
    }

    private static IResult BadKey(string? customerKey) =>
        Results.Json(new ErrorResponse($"'{customerKey}' is not a customer key: expected kind:value with kind one of {CustomerKey.KindList}"),
            statusCode: StatusCodes.Status400BadRequest);
}
