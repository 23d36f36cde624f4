using System.Net.Http.Headers;
using System.Net.Http.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub;
using EdgeProfile.Hub.Api;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Tests;

/// <summary>A real hub on 127.0.0.1:0 with its own temp data directory, plus REST and gRPC clients.</summary>
public sealed class TestHub : IAsyncDisposable
{
    private readonly bool _ownsDir;

    private TestHub(WebApplication app, string dataDir, bool ownsDir)
    {
        App = app;
        DataDir = dataDir;
        _ownsDir = ownsDir;
        Address = app.BoundAddress();
        Http = new HttpClient { BaseAddress = Address };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", app.OperatorToken());
        Channel = GrpcChannel.ForAddress(Address);
        Enrollment = new Contracts.V1.Enrollment.EnrollmentClient(Channel);
        Uplink = new Contracts.V1.Uplink.UplinkClient(Channel);
    }

    public WebApplication App { get; }

    public string DataDir { get; }

    public Uri Address { get; }

    /// <summary>REST client carrying the operator token.</summary>
    public HttpClient Http { get; }

    public GrpcChannel Channel { get; }

    public Contracts.V1.Enrollment.EnrollmentClient Enrollment { get; }

    public Contracts.V1.Uplink.UplinkClient Uplink { get; }

    public static string NewDataDir() => Path.Combine(Path.GetTempPath(), "ep-hub-tests", Guid.NewGuid().ToString("N"));

    public static WebApplication Build(string dataDir, IEnumerable<string>? args = null, Action<WebApplicationBuilder>? configure = null) =>
        HubApp.Build(
            ["--urls", "http://127.0.0.1:0", $"--Hub:DataDir={dataDir}", "--hostBuilder:reloadConfigOnChange=false", .. args ?? []],
            b =>
            {
                b.Logging.ClearProviders();
                configure?.Invoke(b);
            });

    public static async Task<TestHub> StartAsync(string? dataDir = null, IEnumerable<string>? args = null, Action<WebApplicationBuilder>? configure = null)
    {
        var ownsDir = dataDir is null;
        dataDir ??= NewDataDir();
        var app = Build(dataDir, args, configure);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new TestHub(app, dataDir, ownsDir);
    }

    public async Task<EnrollmentTokenResponse> CreateTokenAsync(string storeId, string? kind = null)
    {
        using var response = await Http.PostAsJsonAsync("/api/enrollments", new { storeId, kind });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EnrollmentTokenResponse>())!;
    }

    /// <summary>Creates a token over REST and trades it over gRPC; returns a client acting as the store.</summary>
    public async Task<StoreClient> EnrollAsync(string storeId)
    {
        var token = await CreateTokenAsync(storeId);
        var enrolled = await Enrollment.EnrollAsync(new EnrollRequest { Token = token.Token, StoreId = storeId, AgentVersion = "test" });
        return new StoreClient(storeId, enrolled.Credential, enrolled.PseudonymKey.ToByteArray(), Uplink);
    }

    public async Task<List<StoreSummary>> StoresAsync() =>
        (await Http.GetFromJsonAsync<List<StoreSummary>>("/api/stores"))!;

    public async Task<GlobalProfile> ProfileAsync(string key) =>
        (await Http.GetFromJsonAsync<GlobalProfile>("/api/profiles/" + Uri.EscapeDataString(key)))!;

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (_ownsDir)
        {
            try
            {
                Directory.Delete(DataDir, recursive: true);
            }
            catch (IOException)
            {
                // Best effort; the temp dir is unique per test.
            }
        }
    }
}

/// <summary>gRPC calls authenticated as one store.</summary>
public sealed record StoreClient(string StoreId, string Credential, byte[] PseudonymKey, Contracts.V1.Uplink.UplinkClient Uplink)
{
    public Metadata Headers => As(StoreId, Credential);

    public static Metadata As(string storeId, string credential) => new()
    {
        { "x-ep-store", storeId },
        { "authorization", "Bearer " + credential },
    };

    public async Task<UploadAck> UploadAsync(params ProfileDelta[] deltas)
    {
        var batch = new DeltaBatch();
        batch.Deltas.AddRange(deltas);
        return await Uplink.UploadAsync(batch, Headers);
    }

    public async Task<long> CursorAsync() => (await Uplink.GetCursorAsync(new CursorRequest(), Headers)).AckedThrough;
}
