using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Models;
using EdgeProfile.Models.Onnx;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>
/// A hub and in-process store edges enrolled with it, for the model lifecycle tests: the operator's CLI against the
/// hub, purchases at a store, waits for what a store serves, and small seeded int8 models over built-in features.
/// </summary>
public sealed class ModelFleet : IAsyncDisposable
{
    /// <summary>How long any wait in these tests may take.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>The features every test model takes (numeric online features of the default set).</summary>
    public static readonly string[] Features = ["purchases_30d", "spend_30d", "events_7d"];

    private readonly string _token;

    private ModelFleet(HubHost hub, string token)
    {
        Hub = hub;
        _token = token;
    }

    /// <summary>The hub.</summary>
    public HubHost Hub { get; }

    /// <summary>The edges by store id (a test may replace one after restarting it).</summary>
    public Dictionary<string, InProcessEdge> Edges { get; } = [];

    /// <summary>Starts a hub in <c>{dir}/hub</c> and one enrolled edge per store in <c>{dir}/{store}</c>.</summary>
    public static Task<ModelFleet> StartAsync(TempDirectory dir, string operatorToken, ITestOutputHelper output, params string[] stores) =>
        StartWithHubArgsAsync(dir, operatorToken, output, [], stores);

    /// <summary>As <see cref="StartAsync"/>, with more host arguments for the hub (e.g. its web UI's URL).</summary>
    public static async Task<ModelFleet> StartWithHubArgsAsync(TempDirectory dir, string operatorToken, ITestOutputHelper? output, string[] hubArgs, params string[] stores)
    {
        ArgumentNullException.ThrowIfNull(dir);
        var fleet = new ModelFleet(await HubHost.StartAsync(dir.Sub("hub"), Ports.Free(), operatorToken, output, hubArgs), operatorToken);
        try
        {
            foreach (var store in stores)
            {
                var token = await fleet.Hub.CreateEnrollmentTokenAsync(store);
                fleet.Edges[store] = await InProcessEdge.StartAsync(store, dir.Sub(store), Ports.Free(), output,
                    $"--Edge:HubUrl={fleet.Hub.Address}", $"--Edge:EnrollmentToken={token}");
            }
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }

        return fleet;
    }

    /// <summary>The CLI's arguments naming this hub and the operator token.</summary>
    public string[] HubArgs => ["--hub", Hub.Address.ToString(), "--token", _token];

    /// <summary>Runs <c>edgeprofile ARGS --hub … --token …</c>, asserts exit code 0, returns stdout.</summary>
    public async Task<string> CliAsync(string workingDirectory, params string[] args)
    {
        var result = await CliProcess.RunAsync(workingDirectory, Wait, [.. args, .. HubArgs]);
        Assert.True(result.ExitCode == 0, $"edgeprofile {string.Join(' ', args)}: {result.Stderr}");
        return result.Stdout;
    }

    /// <summary>Waits until <paramref name="store"/>'s <c>/api/stats</c> shows <paramref name="version"/> serving.</summary>
    public Task<JsonElement> ServingAsync(string store, string version) =>
        Poll.UntilAsync(() => Edges[store].Api.StatsAsync(), s => s.GetProperty("modelVersion").GetString() == version, Wait, $"{store} to serve {version}");

    /// <summary>Publishes one purchase of <paramref name="loyalty"/> at <paramref name="store"/> (acknowledged).</summary>
    public Task PurchaseAsync(string store, string id, string loyalty, double price = 120)
    {
        var edge = Edges[store];
        var ev = ScenarioEvents.Build(id, "purchase", store, "pos", DateTimeOffset.UtcNow.AddMinutes(-5), new JsonObject { ["loyaltyId"] = loyalty },
            product: new JsonObject { ["sku"] = "SKU-1", ["category"] = "Baby > Strollers", ["price"] = price });
        return ScenarioEvents.PublishAsync(edge.MqttPort, store, ev);
    }

    /// <summary>A small seeded int8 MMoE over <see cref="Features"/> (repurchase_30d, ltv_90d), its version in the metadata.</summary>
    public static string WriteModel(string path, string version, int seed)
    {
        var spec = new ModelSpec(Features, 2, [4], [], [new TaskSpec("repurchase_30d", TaskKind.Binary), new TaskSpec("ltv_90d", TaskKind.Regression)]);
        var random = new Random(seed);
        DenseWeights Dense(int inputs, int outputs) => new(inputs, outputs,
            [.. Enumerable.Range(0, inputs * outputs).Select(_ => (float)(random.NextDouble() - 0.5))],
            [.. Enumerable.Range(0, outputs).Select(_ => (float)(random.NextDouble() - 0.5))]);
        var weights = new ModelWeights(spec,
            [.. Features.Select(_ => 0f)], [.. Features.Select(_ => 1f)],
            [.. Enumerable.Range(0, spec.Experts).Select(_ => (IReadOnlyList<DenseWeights>)[Dense(Features.Length, 4)])],
            [.. spec.Tasks.Select(_ => Dense(Features.Length, spec.Experts))],
            [.. spec.Tasks.Select(t => (IReadOnlyList<DenseWeights>)[Dense(spec.ExpertOutputs, t.Outputs)])]);
        File.WriteAllBytes(path, OnnxExporter.Export(weights, new ExportOptions { Int8 = true, Metadata = new Dictionary<string, string> { ["model_version"] = version } }));
        return path;
    }

    /// <summary>Stops every edge, then the hub.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var edge in Edges.Values)
        {
            await edge.DisposeAsync();
        }

        await Hub.DisposeAsync();
    }
}
