using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary><c>edgeprofile features get</c> and <c>features training-set</c> against a real edge process.</summary>
[Collection(IntegrationCollection.Name)]
public sealed class FeatureCliTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Features_get_and_training_set_read_a_running_edge()
    {
        using var dir = new TempDirectory("featcli");
        const string store = "featcli-001";
        var dataDir = dir.Sub("edge");
        var mqttPort = Ports.Free();
        var httpPort = Ports.Free();
        var api = $"http://127.0.0.1:{httpPort}";
        await using var edge = EdgeProcess.Start(
            [$"--Edge:StoreId={store}", $"--Edge:DataDir={dataDir}", $"--Edge:Mqtt:Port={mqttPort}", $"--Edge:Http:Urls={api}"], dir.Path);
        using var client = new EdgeApiClient(new Uri(api));
        await client.WaitHealthyAsync(TimeSpan.FromSeconds(60), failure: () => edge.HasExited ? $"exited with {edge.ExitCode}\n{edge.Tail()}" : null);

        var start = DateTimeOffset.UtcNow.AddDays(-10);
        var events = new List<TestEvent>();
        for (var i = 0; i < 20; i++)
        {
            var e = new JsonObject
            {
                ["eventId"] = $"cli-{i}",
                ["type"] = i % 4 == 0 ? "purchase" : "view",
                ["occurredAt"] = start.AddHours(12 * i).ToString("O", CultureInfo.InvariantCulture),
                ["storeId"] = store,
                ["channel"] = "pos",
                ["customer"] = new JsonObject { ["loyaltyId"] = "L-cli" },
                ["product"] = new JsonObject { ["sku"] = "SKU-" + i, ["category"] = "Baby & Toddler > Formula", ["price"] = 25.0 },
                ["amount"] = 25.0,
            };
            events.Add(new TestEvent($"cli-{i}", 0, Encoding.UTF8.GetBytes(e.ToJsonString())));
        }

        var report = await MqttLoad.RunAsync(new LoadPlan("127.0.0.1", mqttPort, TestEvents.Topic(store), events) { Clients = 1, InflightPerClient = 1, ClientIdPrefix = "featcli" });
        Assert.Equal(events.Count, report.Acked.Count);

        var json = await CliProcess.RunAsync(dir.Path, TimeSpan.FromSeconds(60), "features", "get", "loyalty:L-cli", "--edge", api, "--json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        using (var doc = JsonDocument.Parse(json.Stdout))
        {
            var total = doc.RootElement.GetProperty("features").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "events_total");
            Assert.Equal(20, total.GetProperty("value").GetDouble());
            Assert.Equal("events_total@v1", total.GetProperty("id").GetString());
        }

        var table = await CliProcess.RunAsync(dir.Path, TimeSpan.FromSeconds(60), "features", "get", "loyalty:L-cli", "--edge", api);
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains("lifetime_purchases", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("mother_and_baby", table.Stdout, StringComparison.Ordinal);

        var unknown = await CliProcess.RunAsync(dir.Path, TimeSpan.FromSeconds(60), "features", "get", "loyalty:nobody", "--edge", api);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("no customer loyalty:nobody", unknown.Stderr, StringComparison.Ordinal);

        // A training set from the running edge's log: cutoff after the 10th event (day 5).
        var cutoffs = Path.Combine(dir.Path, "cutoffs.csv");
        await File.WriteAllTextAsync(cutoffs, $"customer,cutoff\nloyalty:L-cli,{start.AddDays(5).ToString("O", CultureInfo.InvariantCulture)}\n");
        var ts = await CliProcess.RunAsync(dir.Path, TimeSpan.FromSeconds(60), "features", "training-set", "--data-dir", dataDir, "--cutoffs", cutoffs, "--out", dir.Sub("ts"));
        output.WriteLine(ts.Stdout);
        Assert.True(ts.ExitCode == 0, ts.Stderr);
        var lines = await File.ReadAllLinesAsync(Path.Combine(dir.Sub("ts"), "training_set.csv"));
        Assert.Equal(2, lines.Length);
        var header = lines[0].Split(',');
        var row = lines[1].Split(',');
        // Events at 0h, 12h, ... 108h are before day 5 (120h): 10 events, purchases at 0h, 48h, 96h.
        Assert.Equal("10", row[Array.IndexOf(header, "events_total@v1")]);
        Assert.Equal("3", row[Array.IndexOf(header, "lifetime_purchases@v1")]);
        Assert.Equal("1", row[Array.IndexOf(header, "purchase_next_30d")]);
        Assert.True(File.Exists(Path.Combine(dir.Sub("ts"), "manifest.json")));

        Assert.Equal(0, await edge.TerminateAsync(TimeSpan.FromSeconds(30)));
    }
}
