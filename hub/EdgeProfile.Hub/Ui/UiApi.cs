using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using EdgeProfile.Hub.Operators;
using EdgeProfile.Hub.Storage;

namespace EdgeProfile.Hub.Ui;

/// <summary>One answer of the hub's REST API as the UI got it.</summary>
/// <param name="Status">The HTTP status (0 when the call failed before an answer).</param>
/// <param name="Body">The JSON body (null when it was not JSON).</param>
/// <param name="Text">The raw body.</param>
/// <param name="Call">The call, e.g. <c>GET /api/stores</c> (shown beside what it fed, for tracing).</param>
public sealed record ApiAnswer(int Status, JsonElement? Body, string Text, string Call)
{
    /// <summary>2xx.</summary>
    public bool Ok => Status is >= 200 and < 300;

    /// <summary>The API's <c>error</c> text, or the status.</summary>
    public string Error => Body is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String
        ? e.GetString()!
        : Status == 0 ? Text : $"HTTP {Status}";

    /// <summary>The body (throws when it is missing).</summary>
    public JsonElement Json => Body ?? throw new InvalidOperationException($"{Call}: no JSON body ({Error})");
}

/// <summary>
/// The UI's client of the hub's own REST API: every figure a page shows comes from an API answer (the same one the CLI
/// and scripts get), and every change goes through the API, so it is validated and audited once. Calls carry the
/// operator token and, in <see cref="AuditMiddleware.ActorHeader"/>, the signed-in user.
/// </summary>
internal sealed class UiApi(UiEndpoint endpoint, HubSecrets secrets) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(60) };

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    /// <summary>GET <paramref name="path"/> (starting with /api/).</summary>
    public Task<ApiAnswer> GetAsync(string path, ClaimsPrincipal user, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, path, null, user, cancellationToken);

    /// <summary>POST a JSON body (null: empty).</summary>
    public Task<ApiAnswer> PostJsonAsync(string path, object? body, ClaimsPrincipal user, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, path, body is null ? null : Json(body), user, cancellationToken);

    /// <summary>PUT a JSON body.</summary>
    public Task<ApiAnswer> PutJsonAsync(string path, object body, ClaimsPrincipal user, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, path, Json(body), user, cancellationToken);

    /// <summary>DELETE.</summary>
    public Task<ApiAnswer> DeleteAsync(string path, ClaimsPrincipal user, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, path, null, user, cancellationToken);

    /// <summary>POST plain text (rule files).</summary>
    public Task<ApiAnswer> PostTextAsync(string path, string text, ClaimsPrincipal user, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, path, new StringContent(text, Encoding.UTF8, "text/plain"), user, cancellationToken);

    /// <summary>GET as a stream (CSV export); the caller disposes the response.</summary>
    public async Task<HttpResponseMessage> GetStreamAsync(string path, ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Get, path, null, user);
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The path with each segment of a customer key escaped (keys may hold ':' and '@').</summary>
    public static string Escape(string value) => Uri.EscapeDataString(value);

    private async Task<ApiAnswer> SendAsync(HttpMethod method, string path, HttpContent? content, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var call = $"{method.Method} {path}";
        try
        {
            using var request = Request(method, path, content, user);
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JsonElement? body = null;
            if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
            {
                try
                {
                    using var doc = JsonDocument.Parse(text);
                    body = doc.RootElement.Clone();
                }
                catch (JsonException)
                {
                    body = null;
                }
            }

            return new ApiAnswer((int)response.StatusCode, body, text, call);
        }
        catch (HttpRequestException ex)
        {
            return new ApiAnswer(0, null, "the hub's API did not answer: " + ex.Message, call);
        }
        finally
        {
            content?.Dispose();
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content, ClaimsPrincipal user)
    {
        Debug.Assert(path.StartsWith("/api/", StringComparison.Ordinal), path);
        var request = new HttpRequestMessage(method, new Uri(endpoint.Api, path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secrets.OperatorToken);
        var name = user.Identity?.Name;
        if (!string.IsNullOrEmpty(name))
        {
            request.Headers.TryAddWithoutValidation(AuditMiddleware.ActorHeader, $"ui:{name} ({UiUser.Role(user)})");
        }

        return request;
    }

    private static StringContent Json(object body) =>
        new(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), Encoding.UTF8, "application/json");
}
