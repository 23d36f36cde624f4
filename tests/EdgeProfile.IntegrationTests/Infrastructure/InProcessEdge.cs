using EdgeProfile.Edge;
using Microsoft.AspNetCore.Builder;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>An edge agent hosted in the test process through <see cref="EdgeApp.Build"/>, its API on a loopback port 0.</summary>
public sealed class InProcessEdge : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private InProcessEdge(WebApplication app, string storeId, string dataDir, int mqttPort)
    {
        _app = app;
        StoreId = storeId;
        DataDir = dataDir;
        MqttPort = mqttPort;
        Api = new EdgeApiClient(app.ApiAddress());
    }

    public string StoreId { get; }

    public string DataDir { get; }

    /// <summary>The MQTT port it was started with.</summary>
    public int MqttPort { get; }

    public EdgeApiClient Api { get; }

    /// <summary>Builds and starts an edge; extra host arguments override the defaults given here.</summary>
    public static async Task<InProcessEdge> StartAsync(string storeId, string dataDir, int mqttPort, ITestOutputHelper? output, params string[] extraArgs)
    {
        string[] args =
        [
            $"--Edge:StoreId={storeId}",
            $"--Edge:DataDir={dataDir}",
            $"--Edge:Mqtt:Port={mqttPort}",
            "--Edge:Http:Urls=http://127.0.0.1:0",
            .. extraArgs,
        ];
        var app = EdgeApp.Build(args, b => TestLogging.To(b.Logging, output, "edge " + storeId));
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new InProcessEdge(app, storeId, dataDir, mqttPort);
    }

    /// <summary>A graceful stop (ingest first, then the log drains), then dispose. Idempotent.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await Hosts.StopAndDisposeAsync(_app, Api);
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
