using System.Text.Json;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Storage;
using Microsoft.AspNetCore.Http;

namespace EdgeProfile.Hub.Api;

/// <summary>What every REST endpoint does with its input: JSON bodies, customer keys in routes, errors in the API's shape.</summary>
internal static class ApiRequests
{
    /// <summary>The body as <typeparamref name="T"/>, or null when it is empty or not such JSON (any content type: scripts often post JSON without saying so).</summary>
    public static async Task<T?> ReadJsonAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, JsonSerializerOptions.Web, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is JsonException or BadHttpRequestException)
        {
            return null;
        }
    }

    /// <summary>
    /// The canonical customer key of a route value (decoded by the router except "/", kept as %2F; a raw email, phone or
    /// card is pseudonymised with the organisation's key, as the edge does); null with <paramref name="text"/> for the error.
    /// </summary>
    public static string? CustomerKeyOf(string? routeValue, HubSecrets secrets, out string text)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        text = (routeValue ?? "").Replace("%2F", "/", StringComparison.OrdinalIgnoreCase).Trim();
        return CustomerKey.TryParse(text, out var key) ? secrets.Pseudonymizer.Canonical(key).ToString() : null;
    }

    /// <summary>The 400 for a malformed customer key.</summary>
    public static IResult BadKey(string text) =>
        Error(StatusCodes.Status400BadRequest, $"'{text}' is not a customer key: expected kind:value with kind one of {CustomerKey.KindList}");

    /// <summary>An error in the API's shape, <c>{"error": "..."}</c>.</summary>
    public static IResult Error(int status, string message) => Results.Json(new ErrorResponse(message), statusCode: status);
}
