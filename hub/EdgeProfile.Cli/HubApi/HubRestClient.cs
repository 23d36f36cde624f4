using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeProfile.Core.Features;
using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Features;
using EdgeProfile.Hub.Models;

namespace EdgeProfile.Cli.HubApi;

/// <summary>
/// The hub's operator REST API (contracts.md §4) as the CLI uses it. Every failure becomes a <see cref="CliException"/>
/// whose message is one line that says what to do.
/// </summary>
public sealed partial class HubRestClient : IDisposable
{
    /// <summary>JSON options matching the hub (camelCase, case-insensitive).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Output for terminals and scripts, not HTML: keep '+', '<', non-ASCII (e.g. Chinese reasons) as they are.
    private static readonly JsonSerializerOptions Pretty = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly HttpClient _http;
    private HttpStatusCode _lastStatus;

    /// <summary>Creates a client for the hub at <paramref name="baseUrl"/>, sending <paramref name="token"/> as the operator's bearer token.</summary>
    public HubRestClient(Uri baseUrl, string? token, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        BaseUrl = baseUrl;
        _http = new HttpClient { BaseAddress = baseUrl, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        if (!string.IsNullOrEmpty(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        // Who made a change, for the hub's audit log (the operator token alone does not say).
        _http.DefaultRequestHeaders.TryAddWithoutValidation("X-EdgeProfile-Actor", "cli:" + Environment.UserName);
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("edgeprofile-cli", typeof(HubRestClient).Assembly.GetName().Version?.ToString() ?? "0"));
    }

    /// <summary>The hub's base address.</summary>
    public Uri BaseUrl { get; }

    /// <summary>Parses a <c>--hub</c> value: an absolute http(s) URL.</summary>
    public static Uri ParseHubUrl(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)
            || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException($"--hub '{value}' is not an http:// or https:// URL (e.g. http://127.0.0.1:8080)", ExitCodes.Usage);
        }

        // A base address without a trailing slash would drop its last path segment when combined.
        return uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }

    /// <summary>Indents a JSON text for people reading <c>--json</c> output.</summary>
    public static string Indent(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return JsonSerializer.Serialize(doc.RootElement, Pretty);
    }

    /// <summary><c>POST /api/enrollments</c>: a one-time enrollment token. Returns the typed answer and its raw JSON.</summary>
    public async Task<(EnrollmentTokenResponse Enrollment, string Json)> CreateEnrollmentAsync(string storeId, string kind, CancellationToken cancellationToken)
    {
        var body = JsonContent.Create(new { storeId, kind }, options: Json);
        var json = await SendAsync(HttpMethod.Post, "api/enrollments", body, $"create an enrollment token for {storeId}", cancellationToken).ConfigureAwait(false);
        var enrollment = Deserialize<EnrollmentTokenResponse>(json, "POST /api/enrollments");
        if (string.IsNullOrEmpty(enrollment.Token))
        {
            throw new CliException($"the hub at {BaseUrl} answered POST /api/enrollments without a token");
        }

        return (enrollment, json!);
    }

    /// <summary><c>GET /api/stores</c>.</summary>
    public async Task<(IReadOnlyList<StoreSummary> Stores, string Json)> GetStoresAsync(CancellationToken cancellationToken)
    {
        var json = await SendAsync(HttpMethod.Get, "api/stores", null, "list stores", cancellationToken).ConfigureAwait(false);
        return (Deserialize<List<StoreSummary>>(json, "GET /api/stores"), json!);
    }

    /// <summary><c>GET /api/profiles/{key}</c>; null when the hub has no such customer (404).</summary>
    public async Task<(GlobalProfile Profile, string Json)?> GetProfileAsync(string customerKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(customerKey);
        var path = "api/profiles/" + Uri.EscapeDataString(customerKey);
        var json = await SendAsync(HttpMethod.Get, path, null, $"get profile {customerKey}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return json is null ? null : (Deserialize<GlobalProfile>(json, "GET /api/profiles"), json);
    }

    /// <summary><c>GET /api/identity/{key}</c>: how the key's profile came together; null when the hub has no such customer.</summary>
    public async Task<(IdentityHistory History, string Json)?> GetIdentityAsync(string customerKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(customerKey);
        var path = "api/identity/" + Uri.EscapeDataString(customerKey);
        var json = await SendAsync(HttpMethod.Get, path, null, $"get the identity history of {customerKey}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return json is null ? null : (Deserialize<IdentityHistory>(json, "GET /api/identity"), json);
    }

    /// <summary><c>POST /api/identity/merges/{seq}/unmerge</c>; null when there is no such audit record.</summary>
    public async Task<(UnmergeResult Result, string Json)?> UnmergeAsync(long mergeSeq, CancellationToken cancellationToken)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"api/identity/merges/{mergeSeq}/unmerge");
        var json = await SendAsync(HttpMethod.Post, path, null, $"undo merge {mergeSeq}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return json is null ? null : (Deserialize<UnmergeResult>(json, "POST /api/identity/merges/{seq}/unmerge"), json);
    }

    /// <summary><c>POST /api/erasures</c>; null when the hub does not know the customer (404).</summary>
    public async Task<(ErasureStatus Status, string Json)?> EraseAsync(string customerKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(customerKey);
        using var body = JsonContent.Create(new { key = customerKey });
        var json = await SendAsync(HttpMethod.Post, "api/erasures", body, $"erase {customerKey}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return json is null ? null : (Deserialize<ErasureStatus>(json, "POST /api/erasures"), json);
    }

    /// <summary><c>GET /api/erasures/{id}</c>; null when there is no such request.</summary>
    public async Task<(ErasureStatus Status, string Json)?> GetErasureAsync(string requestId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(requestId);
        var json = await SendAsync(HttpMethod.Get, "api/erasures/" + Uri.EscapeDataString(requestId), null, $"get erasure {requestId}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return json is null ? null : (Deserialize<ErasureStatus>(json, "GET /api/erasures/{id}"), json);
    }

    /// <summary><c>GET /api/features</c>: the registry's current feature set (its revision and definitions).</summary>
    public async Task<(FeatureSet Set, string Json)> GetFeaturesAsync(CancellationToken cancellationToken)
    {
        var json = await SendAsync(HttpMethod.Get, "api/features", null, "list feature definitions", cancellationToken).ConfigureAwait(false);
        try
        {
            return (FeatureSet.Parse(json ?? ""), json!);
        }
        catch (FeatureDefinitionException ex)
        {
            throw new CliException($"the hub at {BaseUrl} answered GET /api/features with definitions this CLI cannot read: {ex.Message}", ex);
        }
    }

    /// <summary><c>GET /api/features/{name}</c>: every version of a definition with the changes between them; null when the hub never had it (404).</summary>
    public async Task<(FeatureHistory History, string Json)?> GetFeatureAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var path = "api/features/" + Uri.EscapeDataString(name);
        var json = await SendAsync(HttpMethod.Get, path, null, $"describe feature {name}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return json is null ? null : (Deserialize<FeatureHistory>(json, "GET /api/features/{name}"), json);
    }

    /// <summary>
    /// <c>POST /api/features</c>: registers a FeatureSet JSON (or one definition JSON), all or nothing. Returns the
    /// registry revision afterwards and what happened to each name.
    /// </summary>
    public async Task<(FeatureChangeResult Result, string Json)> RegisterFeaturesAsync(string featureJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(featureJson);
        using var body = new StringContent(featureJson, System.Text.Encoding.UTF8, "application/json");
        var json = await SendAsync(HttpMethod.Post, "api/features", body, "register feature definitions", cancellationToken).ConfigureAwait(false);
        return (Deserialize<FeatureChangeResult>(json, "POST /api/features"), json!);
    }

    /// <summary><c>GET /api/segments</c>: every segment with its member count.</summary>
    public async Task<(IReadOnlyList<SegmentSummary> Segments, string Json)> ListSegmentsAsync(CancellationToken cancellationToken)
    {
        var json = await SendAsync(HttpMethod.Get, "api/segments", null, "list segments", cancellationToken).ConfigureAwait(false);
        return (Deserialize<List<SegmentSummary>>(json, "GET /api/segments"), json!);
    }

    /// <summary><c>GET /api/segments/{name}</c>; null when there is no such segment (404).</summary>
    public async Task<(SegmentSummary Segment, string Json)?> GetSegmentAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var json = await SendAsync(HttpMethod.Get, "api/segments/" + Uri.EscapeDataString(name), null, $"get segment {name}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return json is null ? null : (Deserialize<SegmentSummary>(json, "GET /api/segments/{name}"), json);
    }

    /// <summary><c>PUT /api/segments/{name}</c>: creates or replaces the segment; the hub recomputes its members before answering.</summary>
    public async Task<(SegmentSummary Segment, string Json)> DefineSegmentAsync(string name, string expression, string? description, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(expression);
        using var body = JsonContent.Create(new SegmentRequest(expression, description), options: Json);
        var json = await SendAsync(HttpMethod.Put, "api/segments/" + Uri.EscapeDataString(name), body, $"define segment {name}", cancellationToken).ConfigureAwait(false);
        return (Deserialize<SegmentSummary>(json, "PUT /api/segments/{name}"), json!);
    }

    /// <summary><c>DELETE /api/segments/{name}</c>: the segment as it was; null when there is no such segment.</summary>
    public async Task<(SegmentSummary Segment, string Json)?> DeleteSegmentAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var json = await SendAsync(HttpMethod.Delete, "api/segments/" + Uri.EscapeDataString(name), null, $"delete segment {name}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return json is null ? null : (Deserialize<SegmentSummary>(json, "DELETE /api/segments/{name}"), json);
    }

    /// <summary><c>GET /api/models</c>: every registered model, newest first.</summary>
    public async Task<(IReadOnlyList<ModelSummary> Models, string Json)> ListModelsAsync(CancellationToken cancellationToken)
    {
        var json = await SendAsync(HttpMethod.Get, "api/models", null, "list models", cancellationToken).ConfigureAwait(false);
        return (Deserialize<List<ModelSummary>>(json, "GET /api/models"), json!);
    }

    /// <summary><c>GET /api/models/status</c>: each store's assigned model and its last report.</summary>
    public async Task<(IReadOnlyList<StoreModelStatus> Stores, string Json)> ModelStatusAsync(CancellationToken cancellationToken)
    {
        var json = await SendAsync(HttpMethod.Get, "api/models/status", null, "get the stores' model status", cancellationToken).ConfigureAwait(false);
        return (Deserialize<List<StoreModelStatus>>(json, "GET /api/models/status"), json!);
    }

    /// <summary><c>POST /api/models</c>: registers an ONNX file; the bool says whether it was new.</summary>
    public async Task<(ModelSummary Model, bool Created, string Json)> RegisterModelAsync(byte[] content, string? description, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        var path = "api/models" + (string.IsNullOrEmpty(description) ? "" : "?description=" + Uri.EscapeDataString(description));
        var json = await SendAsync(HttpMethod.Post, path, body, "register the model", cancellationToken).ConfigureAwait(false);
        return (Deserialize<ModelSummary>(json, "POST /api/models"), _lastStatus == HttpStatusCode.Created, json!);
    }

    /// <summary><c>GET /api/models/{version}/onnx</c>: the file's bytes, or null for an unknown version.</summary>
    public async Task<byte[]?> ExportModelAsync(string version, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"api/models/{Uri.EscapeDataString(version)}/onnx", UriKind.Relative));
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"cannot reach the hub at {BaseUrl} to export model {version}: {ex.Message} (is it running? pass --hub URL)", ex);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                var detail = ErrorText(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
                throw new CliException($"the hub at {BaseUrl} could not export model {version}: {(int)response.StatusCode} {response.ReasonPhrase}{Suffix(detail)}");
            }

            return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>POST /api/models/{version}/deploy</c> to <paramref name="stores"/> (empty: every store).</summary>
    public async Task<(ModelDeployment Deployment, string Json)> DeployModelAsync(string version, IReadOnlyList<string> stores, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        using var body = JsonContent.Create(new { stores }, options: Json);
        var json = await SendAsync(HttpMethod.Post, $"api/models/{Uri.EscapeDataString(version)}/deploy", body, $"deploy model {version}", cancellationToken).ConfigureAwait(false);
        return (Deserialize<ModelDeployment>(json, "POST /api/models/{version}/deploy"), json!);
    }

    /// <summary><c>POST /api/models/rollback</c> for <paramref name="stores"/> (empty: every store).</summary>
    public async Task<(RollbackResult Result, string Json)> RollbackModelAsync(IReadOnlyList<string> stores, CancellationToken cancellationToken)
    {
        using var body = JsonContent.Create(new { stores }, options: Json);
        var json = await SendAsync(HttpMethod.Post, "api/models/rollback", body, "roll back models", cancellationToken).ConfigureAwait(false);
        return (Deserialize<RollbackResult>(json, "POST /api/models/rollback"), json!);
    }

    /// <summary>
    /// <c>GET /api/segments/{name}/members.csv</c>, copied to <paramref name="destination"/> as it arrives. Returns the
    /// number of member rows (header excluded), or null when there is no such segment.
    /// </summary>
    public async Task<long?> ExportSegmentAsync(string name, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(destination);
        var what = $"export segment {name}";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"api/segments/{Uri.EscapeDataString(name)}/members.csv", UriKind.Relative));
        HttpResponseMessage response;
        try
        {
            // Headers first: the body is streamed to the destination instead of buffered.
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"cannot reach the hub at {BaseUrl} to {what}: {ex.Message} (is it running? pass --hub URL)", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"the hub at {BaseUrl} did not answer within {_http.Timeout.TotalSeconds:0} s to {what}", ex);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                var detail = ErrorText(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
                throw new CliException(response.StatusCode == HttpStatusCode.Unauthorized
                    ? $"the hub at {BaseUrl} refused the operator token (401{Suffix(detail)}); pass --token, --token-file or set EDGEPROFILE_TOKEN"
                    : $"the hub at {BaseUrl} could not {what}: {(int)response.StatusCode} {response.ReasonPhrase}{Suffix(detail)}");
            }

            try
            {
                var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (source.ConfigureAwait(false))
                {
                    return await CopyCountingRowsAsync(source, destination, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                throw new CliException($"the export of segment {name} from {BaseUrl} broke off: {ex.Message}", ex);
            }
        }
    }

    // Counts CSV records as they pass: line ends outside quoted fields, less the header.
    private static async Task<long> CopyCountingRowsAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        long lines = 0;
        var quoted = false;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            foreach (var b in buffer.AsSpan(0, read))
            {
                if (b == (byte)'"')
                {
                    quoted = !quoted;
                }
                else if (b == (byte)'\n' && !quoted)
                {
                    lines++;
                }
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }

        return Math.Max(0, lines - 1);
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private async Task<string?> SendAsync(HttpMethod method, string path, HttpContent? content, string what, CancellationToken cancellationToken, bool allowNotFound = false)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"cannot reach the hub at {BaseUrl} to {what}: {ex.Message} (is it running? pass --hub URL)", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"the hub at {BaseUrl} did not answer within {_http.Timeout.TotalSeconds:0} s to {what}", ex);
        }

        using (response)
        {
            _lastStatus = response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return text;
            }

            if (allowNotFound && response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            var detail = ErrorText(text);
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => new CliException(
                    $"the hub at {BaseUrl} refused the operator token ({(int)response.StatusCode}{Suffix(detail)}); pass --token, --token-file or set EDGEPROFILE_TOKEN (the hub keeps a generated one in {{Hub:DataDir}}/operator.token)"),
                HttpStatusCode.Forbidden => new CliException($"the hub at {BaseUrl} does not allow this operator to {what} (403{Suffix(detail)})"),
                _ => new CliException($"the hub at {BaseUrl} could not {what}: {(int)response.StatusCode} {response.ReasonPhrase}{Suffix(detail)}"),
            };
        }
    }

    private static string Suffix(string? detail) => string.IsNullOrEmpty(detail) ? "" : ": " + detail;

    private static string? ErrorText(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var name in new[] { "error", "detail", "title" })
                {
                    if (doc.RootElement.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String)
                    {
                        return OneLine(e.GetString());
                    }
                }
            }
        }
        catch (JsonException)
        {
        }

        return OneLine(body.Length > 200 ? body[..200] + "…" : body);
    }

    private static string? OneLine(string? s) => s?.ReplaceLineEndings(" ").Trim();

    private T Deserialize<T>(string? json, string call)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json ?? "null", Json)
                ?? throw new CliException($"the hub at {BaseUrl} answered {call} with an empty body");
        }
        catch (JsonException ex)
        {
            throw new CliException($"the hub at {BaseUrl} answered {call} with unexpected JSON: {ex.Message}", ex);
        }
    }
}
