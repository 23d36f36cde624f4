using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeProfile.Hosting;
using EdgeProfile.Hub;
using EdgeProfile.Hub.Ui;
using Microsoft.AspNetCore.Builder;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>A hub hosted in the test process through <see cref="HubApp.Build"/>, with an operator client for its REST API.</summary>
public sealed class HubHost : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private readonly WebApplication _app;
    private readonly HttpClient _operator;
    private bool _stopped;

    private HubHost(WebApplication app, string operatorToken)
    {
        _app = app;
        Address = app.BoundAddress();
        _operator = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
        _operator.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", operatorToken);
    }

    /// <summary>An HTTP client carrying the operator token, for REST calls the helpers below do not cover.</summary>
    public HttpClient Operator => _operator;

    /// <summary>Where edges reach it (REST and gRPC share the address).</summary>
    public Uri Address { get; }

    /// <summary>The operator web UI's address (null when the hub runs without it).</summary>
    public Uri? Ui => _app.UiAddress();

    /// <param name="port">0 for any free port, or a fixed port so a restarted hub has the same address.</param>
    /// <param name="extraArgs">More host arguments, e.g. <c>--Hub:Ui:Url=http://127.0.0.1:0</c>.</param>
    public static async Task<HubHost> StartAsync(string dataDir, int port, string operatorToken, ITestOutputHelper? output, params string[] extraArgs)
    {
        string[] args = ["--urls", $"http://127.0.0.1:{port}", $"--Hub:DataDir={dataDir}", $"--Hub:OperatorToken={operatorToken}", .. extraArgs];
        var app = HubApp.Build(args, b => TestLogging.To(b.Logging, output, "hub"));
        try
        {
            await StartupValidation.RunValidatedAsync(() => app.StartAsync());
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new HubHost(app, operatorToken);
    }

    /// <summary><c>POST /api/enrollments</c>: a one-time token for <paramref name="storeId"/>.</summary>
    public async Task<string> CreateEnrollmentTokenAsync(string storeId, string kind = "store")
    {
        using var response = await _operator.PostAsJsonAsync(new Uri("/api/enrollments", UriKind.Relative), new { storeId, kind });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/enrollments -> {(int)response.StatusCode}: {body}");
        var token = JsonDocument.Parse(body).RootElement.GetProperty("token").GetString();
        Assert.False(string.IsNullOrWhiteSpace(token), body);
        return token!;
    }

    /// <summary><c>GET /api/stores</c>.</summary>
    public async Task<IReadOnlyList<HubStore>> StoresAsync()
    {
        var stores = await _operator.GetFromJsonAsync<List<HubStore>>(new Uri("/api/stores", UriKind.Relative), Web);
        return stores ?? [];
    }

    /// <summary><c>GET /api/profiles/{key}</c>, or null on 404.</summary>
    public async Task<JsonElement?> ProfileAsync(string customerKey)
    {
        using var response = await _operator.GetAsync(new Uri("/api/profiles/" + Uri.EscapeDataString(customerKey), UriKind.Relative));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /api/profiles/{customerKey} -> {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>StopAsync, then dispose (releases the port and the data dir). Idempotent.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await Hosts.StopAndDisposeAsync(_app, _operator);
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>One entry of the hub's <c>GET /api/stores</c>.</summary>
public sealed record HubStore(string StoreId, string Kind, bool Revoked, DateTimeOffset? LastSeen, long Backlog, long OldestBacklogAgeMs, long AckedThrough);
