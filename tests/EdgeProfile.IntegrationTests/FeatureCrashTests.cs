using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.IntegrationTests.Infrastructure;
using MQTTnet.Formatter;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// Exactly-once feature state: the edge as a child process, SIGKILLed at random points while events stream in and
/// clients redeliver, ends with exactly the feature values of an uninterrupted run over the same events.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class FeatureCrashTests(ITestOutputHelper output)
{
    private const int Total = 6_000;
    private const int Customers = 150;

    [Fact]
    public async Task Feature_values_after_sigkills_equal_an_uninterrupted_run()
    {
        using var dir = new TempDirectory("featcrash");
        const string store = "featcrash-001";
        var start = DateTimeOffset.UtcNow.AddDays(-3);
        var events = Generate(store, start);
        var asOf = start.AddSeconds(Total + 3600).ToString("O", CultureInfo.InvariantCulture);

        // Reference: one uninterrupted run.
        var reference = await RunAsync(dir.Sub("reference"), store, events, kills: [], asOf);

        // Crashing run: killed three times at random points, every restart republishes everything from the start.
        var random = new Random(20261129);
        int[] kills = [random.Next(500, 2500), random.Next(200, 3000), random.Next(1000, 5000)];
        var crashed = await RunAsync(dir.Sub("crashed"), store, events, kills, asOf);

        Assert.Equal(reference.Count, crashed.Count);
        var differences = new List<string>();
        foreach (var (customer, features) in reference)
        {
            foreach (var (name, value) in features)
            {
                var other = crashed[customer].GetValueOrDefault(name);
                if (!string.Equals(value, other, StringComparison.Ordinal))
                {
                    differences.Add($"{customer} {name}: uninterrupted {value}, after crashes {other}");
                }
            }
        }

        Assert.True(differences.Count == 0, $"{differences.Count} feature values differ, e.g.\n{string.Join('\n', differences.Take(10))}");
        output.WriteLine($"{reference.Count} customers x {reference.First().Value.Count} features equal after SIGKILLs at acks {string.Join(", ", kills)}");
    }

    private async Task<Dictionary<string, Dictionary<string, string>>> RunAsync(string dataDir, string store, List<TestEvent> events, int[] kills, string asOf)
    {
        var mqttPort = Ports.Free();
        var httpPort = Ports.Free();
        string[] args =
        [
            $"--Edge:StoreId={store}",
            $"--Edge:DataDir={dataDir}",
            $"--Edge:Mqtt:Port={mqttPort}",
            $"--Edge:Http:Urls=http://127.0.0.1:{httpPort}",
            "--Edge:Log:Durability=process",
            // Short checkpoint interval: at every kill many customers are checkpointed, each at a different log position.
            "--Edge:Features:CheckpointInterval=00:00:00.3",
        ];
        using var api = new EdgeApiClient(new Uri($"http://127.0.0.1:{httpPort}"));
        foreach (var killAt in kills)
        {
            await using var edge = EdgeProcess.Start(args, Path.GetDirectoryName(dataDir)!);
            await api.WaitHealthyAsync(TimeSpan.FromSeconds(60), failure: () => edge.HasExited ? $"exited with {edge.ExitCode}\n{edge.Tail()}" : null);
            var acks = 0;
            var killNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var load = MqttLoad.RunAsync(Plan(mqttPort, store, events, "kill") with
            {
                OnAck = _ =>
                {
                    if (Interlocked.Increment(ref acks) == killAt)
                    {
                        killNow.TrySetResult();
                    }
                },
            });
            await Task.WhenAny(killNow.Task, load).WaitAsync(TimeSpan.FromSeconds(120));
            edge.KillHard();
            Assert.Equal(137, await edge.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            var report = await load.WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"{Path.GetFileName(dataDir)}: SIGKILL after {killAt} acks ({report})");
        }

        await using (var edge = EdgeProcess.Start(args, Path.GetDirectoryName(dataDir)!))
        {
            await api.WaitHealthyAsync(TimeSpan.FromSeconds(60), failure: () => edge.HasExited ? $"exited with {edge.ExitCode}\n{edge.Tail()}" : null);
            var report = await MqttLoad.RunAsync(Plan(mqttPort, store, events, "final")).WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(report.Acked.Count == Total, $"every event must be acknowledged in the final pass: {report}\n{edge.Tail()}");
            var stats = await api.StatsAsync();
            Assert.Equal(Total, stats.GetProperty("eventsStored").GetInt64());
            // Precondition of the comparison: every event was on time in both runs, so arrival order cannot matter.
            Assert.Equal(0, stats.GetProperty("lateEvents").GetInt64());

            var values = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
            for (var c = 0; c < Customers; c++)
            {
                var key = $"loyalty:FC-{c}";
                var profile = await api.GetJsonAsync($"/api/profiles/{Uri.EscapeDataString(key)}?asOf={Uri.EscapeDataString(asOf)}");
                values[key] = profile.GetProperty("features").EnumerateArray().ToDictionary(
                    f => f.GetProperty("id").GetString()!,
                    f => f.GetProperty("value").GetRawText() + " " + f.GetProperty("status").GetString() + " " + f.GetProperty("lineage").GetProperty("events").GetInt64(),
                    StringComparer.Ordinal);
            }

            Assert.Equal(0, await edge.TerminateAsync(TimeSpan.FromSeconds(30)));
            return values;
        }
    }

    private static LoadPlan Plan(int port, string store, List<TestEvent> events, string prefix) =>
        new("127.0.0.1", port, TestEvents.Topic(store), events)
        {
            Clients = 4,
            InflightPerClient = 16,
            ClientIdPrefix = "featcrash-" + prefix,
            Protocol = MqttProtocolVersion.V500,
        };

    /// <summary>Mixed events over <see cref="Customers"/> customers, one second apart in event time.</summary>
    private static List<TestEvent> Generate(string store, DateTimeOffset start)
    {
        var random = new Random(7);
        string[] types = ["view", "view", "view", "add_to_cart", "purchase", "like", "video_watch", "return", "search"];
        string[] categories = ["Baby & Toddler > Strollers", "Women > Dresses", "Electronics > Phones", "Home > Kitchen", "Food > Snacks"];
        string[] channels = ["pos", "app", "web"];
        var list = new List<TestEvent>(Total);
        for (var i = 0; i < Total; i++)
        {
            var customer = random.Next(Customers);
            var type = types[random.Next(types.Length)];
            var price = Math.Round(5 + random.NextDouble() * 200, 2);
            var e = new JsonObject
            {
                ["eventId"] = $"fc-{i}",
                ["type"] = type,
                ["occurredAt"] = start.AddSeconds(i).ToString("O", CultureInfo.InvariantCulture),
                ["storeId"] = store,
                ["channel"] = channels[random.Next(channels.Length)],
                ["customer"] = new JsonObject { ["loyaltyId"] = $"FC-{customer}" },
                ["product"] = new JsonObject { ["sku"] = $"SKU-{random.Next(40)}", ["category"] = categories[random.Next(categories.Length)], ["price"] = price },
                ["quantity"] = 1,
                ["amount"] = price,
            };
            list.Add(new TestEvent($"fc-{i}", customer, Encoding.UTF8.GetBytes(e.ToJsonString())));
        }

        return list;
    }
}
