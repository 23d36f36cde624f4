using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// Consent per purpose end to end: a withdrawal recorded at the hub reaches the one store that knows the customer, which
/// then shows no tags or interests for her and leaves her out of its training sets; her neighbour is unaffected.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class ConsentTests(ITestOutputHelper output)
{
    private const string OperatorToken = "it-consent-token-0123456789";

    [Fact]
    public async Task Withdrawn_personalisation_and_training_are_honoured_by_the_store()
    {
        using var dir = new TempDirectory("consent");
        await using var hub = await HubHost.StartAsync(dir.Sub("hub"), Ports.Free(), OperatorToken, output);
        var token = await hub.CreateEnrollmentTokenAsync("cs-1");
        var port = Ports.Free();
        await using var edge = await InProcessEdge.StartAsync("cs-1", dir.Sub("cs-1"), port, output,
            $"--Edge:HubUrl={hub.Address}", $"--Edge:EnrollmentToken={token}", "--Edge:Uplink:MaxBackoff=00:00:01");

        var start = DateTimeOffset.UtcNow.AddDays(-2);
        var events = new List<TestEvent>();
        foreach (var customer in new[] { "L-cs-1", "L-cs-2" })
        {
            for (var i = 0; i < 4; i++)
            {
                events.Add(ScenarioEvents.Build($"{customer}-{i}", "purchase", "cs-1", "pos", start.AddHours(i), new JsonObject { ["loyaltyId"] = customer },
                    product: new JsonObject { ["sku"] = "SKU-B", ["category"] = "Baby & Toddler > Strollers", ["price"] = 400.0 }));
            }
        }

        await MqttLoad.RunAsync(new LoadPlan("127.0.0.1", port, TestEvents.Topic("cs-1"), events) { Clients = 1, InflightPerClient = 1, ClientIdPrefix = "cs-pub" });
        await Poll.UntilAsync(() => hub.ProfileAsync("loyalty:L-cs-1"), p => p is not null, TimeSpan.FromSeconds(30), "the customer to reach the hub");
        var before = (await edge.Api.ProfileAsync("loyalty:L-cs-1"))!.Value;
        Assert.NotEmpty(before.GetProperty("tags").EnumerateArray());
        Assert.NotEmpty(before.GetProperty("categoryAffinities").EnumerateArray());

        using var http = new HttpClient { BaseAddress = hub.Address };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", OperatorToken);
        using var put = await http.PutAsJsonAsync("/api/consent/loyalty:L-cs-1", new { personalisation = false, training = false, source = "crm" });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var state = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((true, false, false), (state.GetProperty("analytics").GetBoolean(), state.GetProperty("personalisation").GetBoolean(), state.GetProperty("training").GetBoolean()));

        var after = await Poll.UntilAsync(() => edge.Api.ProfileAsync("loyalty:L-cs-1"),
            p => p is { } profile && !profile.GetProperty("consent").GetProperty("personalisation").GetBoolean(), TimeSpan.FromSeconds(30), "the withdrawal to reach the store");
        var profile = after!.Value;
        Assert.Empty(profile.GetProperty("tags").EnumerateArray());
        Assert.Empty(profile.GetProperty("categoryAffinities").EnumerateArray());
        Assert.NotEmpty(profile.GetProperty("features").EnumerateArray());
        Assert.Contains(profile.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.Contains("personalisation consent withdrawn", StringComparison.Ordinal));
        var neighbour = (await edge.Api.ProfileAsync("loyalty:L-cs-2"))!.Value;
        Assert.NotEmpty(neighbour.GetProperty("tags").EnumerateArray());

        var cutoffs = Path.Combine(dir.Path, "cutoffs.csv");
        var cutoff = start.AddHours(2).ToString("O", CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(cutoffs, $"customer,cutoff\nloyalty:L-cs-1,{cutoff}\nloyalty:L-cs-2,{cutoff}\n");
        var ts = await CliProcess.RunAsync(dir.Path, TimeSpan.FromSeconds(60), "features", "training-set", "--data-dir", dir.Sub("cs-1"), "--cutoffs", cutoffs, "--out", dir.Sub("ts"));
        Assert.True(ts.ExitCode == 0, ts.Stderr);
        Assert.Contains("1 rows withheld (training consent withdrawn)", ts.Stdout, StringComparison.Ordinal);
        var lines = await File.ReadAllLinesAsync(Path.Combine(dir.Sub("ts"), "training_set.csv"));
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("loyalty:L-cs-2,", lines[1], StringComparison.Ordinal);
    }
}
