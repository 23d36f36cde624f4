using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using EdgeProfile.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeProfile.Edge.Tests;

/// <summary>
/// A real edge agent started in-process (<see cref="EdgeApp.Build"/>): embedded MQTTnet broker on a free port, the
/// local API on port 0, its SQLite file in the given data dir.
/// </summary>
public sealed class EdgeHost : IAsyncDisposable
{
    public const string StoreId = "store-t";

    private bool _stopped;

    private EdgeHost(WebApplication app, string dataDir, int mqttPort, Uri api)
    {
        App = app;
        DataDir = dataDir;
        MqttPort = mqttPort;
        Http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public string DataDir { get; }

    public int MqttPort { get; }

    public HttpClient Http { get; }

    public string DbPath => Path.Combine(DataDir, "edge.db");

    /// <summary>The arguments of a test edge: store-t, the data dir, a free MQTT port and the API on port 0.</summary>
    public static List<string> Args(string dataDir, int mqttPort) =>
    [
        $"--Edge:StoreId={StoreId}",
        $"--Edge:DataDir={dataDir}",
        $"--Edge:Mqtt:Port={mqttPort}",
        "--Edge:Http:Urls=http://127.0.0.1:0",
        "--Logging:LogLevel:Default=Warning",
    ];

    /// <summary>Starts an edge; <paramref name="extra"/> arguments come last and so win.</summary>
    public static Task<EdgeHost> StartAsync(string dataDir, params string[] extra) => StartAsync(dataDir, beforeStart: null, extra);

    /// <summary>Starts an edge, running <paramref name="beforeStart"/> on the built but not yet started app.</summary>
    public static Task<EdgeHost> StartAsync(string dataDir, Func<WebApplication, Task>? beforeStart, params string[] extra) =>
        StartAsync(dataDir, beforeStart, configure: null, extra);

    /// <summary>Starts an edge whose services <paramref name="configure"/> may change (e.g. its clock) before it is built.</summary>
    public static async Task<EdgeHost> StartAsync(string dataDir, Func<WebApplication, Task>? beforeStart, Action<WebApplicationBuilder>? configure, params string[] extra)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var args = Args(dataDir, port);
            args.AddRange(extra);
            var app = EdgeApp.Build([.. args], configure);
            try
            {
                if (beforeStart is not null)
                {
                    await beforeStart(app);
                }

                await app.StartAsync();
            }
            catch (ConfigurationException ex) when (attempt < 5 && ex.Message.Contains("cannot be used", StringComparison.Ordinal))
            {
                // Another process took the free port between probe and bind: try another.
                await app.DisposeAsync();
                continue;
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }

            return new EdgeHost(app, dataDir, port, app.ApiAddress());
        }
    }

    /// <summary>
    /// Arguments for a store that enrolled with a hub earlier and has lost its WAN: a stored credential and a hub
    /// address nothing listens on. Its uplink is on, so deltas collect in the outbox.
    /// </summary>
    public static string[] WanDown(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        var hub = $"http://127.0.0.1:{FreePort()}";
        var credential = Path.Combine(dataDir, "credential.json");
        if (!File.Exists(credential))
        {
            File.WriteAllText(credential, JsonSerializer.Serialize(new
            {
                StoreId,
                Credential = "wan-down-test",
                PseudonymKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32),
                HubUrl = hub,
            }));
        }

        return [$"--Edge:HubUrl={hub}"];
    }

    /// <summary>A TCP port that was free a moment ago (bound to port 0 and released).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async Task<IMqttClient> ConnectAsync(string clientId, MqttProtocolVersion version = MqttProtocolVersion.V311)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", MqttPort)
            .WithClientId(clientId)
            .WithProtocolVersion(version)
            .WithCleanSession()
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await client.ConnectAsync(options, cts.Token);
        return client;
    }

    public static async Task<MqttClientPublishResult> PublishAsync(IMqttClient client, string topic, byte[] payload,
        MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce)
    {
        ArgumentNullException.ThrowIfNull(client);
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(qos)
            .Build();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await client.PublishAsync(message, cts.Token);
    }

    /// <summary>
    /// Publishes every payload at QoS 1 from one client with up to <paramref name="inFlight"/> publishes awaiting their
    /// PUBACK at once; returns the results in order.
    /// </summary>
    public static async Task<MqttClientPublishResult[]> PublishManyAsync(IMqttClient client, string topic, IEnumerable<byte[]> payloads, int inFlight)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        using var gate = new SemaphoreSlim(inFlight);
        var publishes = new List<Task<MqttClientPublishResult>>();
        foreach (var payload in payloads)
        {
            await gate.WaitAsync();
            publishes.Add(PublishAndReleaseAsync(payload));
        }

        return await Task.WhenAll(publishes);

        async Task<MqttClientPublishResult> PublishAndReleaseAsync(byte[] payload)
        {
            try
            {
                return await PublishAsync(client, topic, payload);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>Publishes at QoS 1 and asserts the PUBACK reports success.</summary>
    public static async Task AckedAsync(IMqttClient client, string topic, byte[] payload)
    {
        var result = await PublishAsync(client, topic, payload);
        Assert.True(result.IsSuccess, $"publish on {topic} was not acknowledged: {result.ReasonCode}");
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public Task<JsonElement> StatsAsync() => GetJsonAsync("/api/stats");

    public async Task<JsonElement> WaitForStatsAsync(Func<JsonElement, bool> done, string what) =>
        await Poll.UntilAsync(StatsAsync, done, what);

    public Task<JsonElement> ProfileAsync(string customerKey) => GetJsonAsync("/api/profiles/" + customerKey);

    public async Task<HttpResponseMessage> GetAsync(string path) => await Http.GetAsync(new Uri(path, UriKind.Relative));

    public Task<JsonElement[]> DeadLettersAsync(int limit) =>
        Http.GetFromJsonAsync<JsonElement[]>(new Uri($"/api/deadletters?limit={limit}", UriKind.Relative))!;

    /// <summary>A connection to the edge's database file, for checks the API does not offer.</summary>
    public SqliteConnection OpenDb() => OpenDb(DbPath);

    public static SqliteConnection OpenDb(string path)
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        c.Open();
        return c;
    }

    public long Count(string sql)
    {
        using var c = OpenDb();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static double Feature(JsonElement profile, string name)
    {
        foreach (var f in profile.GetProperty("features").EnumerateArray())
        {
            if (f.GetProperty("name").GetString() == name)
            {
                return f.GetProperty("value").GetDouble();
            }
        }

        throw new KeyNotFoundException($"feature {name} not in {profile}");
    }

    /// <summary>Stops the edge (graceful: ingest, then the log writer drains) and frees it; the data dir stays.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        Http.Dispose();
        try
        {
            await App.StopAsync();
        }
        finally
        {
            await App.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
