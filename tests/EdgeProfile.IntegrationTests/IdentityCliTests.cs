using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// Identity rules end to end: events over MQTT into an enrolled edge, deltas over gRPC to the hub, and the operator's
/// <c>edgeprofile identity show/unmerge</c> as a child process against the hub's REST API.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class IdentityCliTests(ITestOutputHelper output)
{
    private const string OperatorToken = "it-identity-token-0123456789";

    [Fact]
    public async Task Shared_tablet_stays_unlinked_and_a_wrong_merge_is_undone_with_the_cli()
    {
        using var dir = new TempDirectory("identity");
        await using var hub = await HubHost.StartAsync(dir.Sub("hub"), Ports.Free(), OperatorToken, output);
        var token = await hub.CreateEnrollmentTokenAsync("id-store");
        var mqttPort = Ports.Free();
        await using var edge = await InProcessEdge.StartAsync("id-store", dir.Sub("edge"), mqttPort, output,
            $"--Edge:HubUrl={hub.Address}", $"--Edge:EnrollmentToken={token}", "--Edge:Uplink:MaxBackoff=00:00:01");

        // Three members sign in on the store's tablet (device id 000000, blocked by default); then a clerk scans
        // member L-c's code into app user u-x's basket: a wrong merge.
        var events = new List<TestEvent>();
        foreach (var (n, customer) in new[] { ("1", new JsonObject { ["loyaltyId"] = "L-a", ["deviceId"] = "000000" }), ("2", new JsonObject { ["loyaltyId"] = "L-b", ["deviceId"] = "000000" }),
                     ("3", new JsonObject { ["loyaltyId"] = "L-c" }), ("4", new JsonObject { ["appUserId"] = "u-x" }), ("5", new JsonObject { ["appUserId"] = "u-x", ["loyaltyId"] = "L-c" }) })
        {
            events.Add(ScenarioEvents.Build("id-" + n, "purchase", "id-store", "pos", DateTimeOffset.UtcNow.AddMinutes(-10).AddSeconds(int.Parse(n, CultureInfo.InvariantCulture)),
                customer, product: new JsonObject { ["sku"] = "SKU-1", ["category"] = "Bags > Backpacks", ["price"] = 10.0 }));
        }

        // One client, one message in flight: the edge sees them in this order.
        await ScenarioEvents.PublishAsync(mqttPort, "id-store", [.. events]);
        await Poll.UntilAsync(() => hub.ProfileAsync("app:u-x"), p => p is { } profile && profile.GetProperty("identifiers").GetArrayLength() == 2,
            TimeSpan.FromSeconds(30), "the merge of app:u-x and loyalty:L-c to reach the hub");
        var a = (await hub.ProfileAsync("loyalty:L-a"))!.Value;
        var b = (await hub.ProfileAsync("loyalty:L-b"))!.Value;
        Assert.NotEqual(a.GetProperty("profileId").GetString(), b.GetProperty("profileId").GetString());
        Assert.Null(await hub.ProfileAsync("device:000000"));

        string[] connect = ["--hub", hub.Address.ToString(), "--token", OperatorToken];
        var show = await CliProcess.RunAsync(dir.Path, TimeSpan.FromSeconds(60), ["identity", "show", "loyalty:L-c", "--json", .. connect]);
        Assert.True(show.ExitCode == 0, show.Stderr);
        using var history = JsonDocument.Parse(show.Stdout);
        var merge = history.RootElement.GetProperty("audit").EnumerateArray().Single(e => e.GetProperty("action").GetString() == "merge");
        Assert.Equal("id-store", merge.GetProperty("actor").GetString());
        var seq = merge.GetProperty("seq").GetInt64().ToString(CultureInfo.InvariantCulture);

        var table = await CliProcess.RunAsync(dir.Path, TimeSpan.FromSeconds(60), ["identity", "show", "loyalty:L-a", .. connect]);
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains("device:000000", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("blocked", table.Stdout, StringComparison.Ordinal);

        var unmerge = await CliProcess.RunAsync(dir.Path, TimeSpan.FromSeconds(60), ["identity", "unmerge", seq, .. connect]);
        Assert.True(unmerge.ExitCode == 0, unmerge.Stderr);
        Assert.Contains($"Merge {seq} undone", unmerge.Stdout, StringComparison.Ordinal);
        var app = (await hub.ProfileAsync("app:u-x"))!.Value;
        var loyalty = (await hub.ProfileAsync("loyalty:L-c"))!.Value;
        Assert.NotEqual(app.GetProperty("profileId").GetString(), loyalty.GetProperty("profileId").GetString());

        var again = await CliProcess.RunAsync(dir.Path, TimeSpan.FromSeconds(60), ["identity", "unmerge", seq, .. connect]);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("already undone", again.Stderr + again.Stdout, StringComparison.Ordinal);
    }
}
