using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// How a federated job ends when it cannot go on: too few participants (retried, then failed with the reason, never
/// averaged over fewer than the minimum), a privacy budget that the next round would exceed (stopped before it), and an
/// operator's stop. A hub and three in-process partners over real gRPC.
/// </summary>
public sealed class FederatedJobRulesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Short_rounds_fail_with_the_reason_a_privacy_budget_stops_the_job_in_time_and_an_operator_stop_is_final()
    {
        using var dir = new TempDirectory("fl-rules");
        await using var hub = await HubHost.StartAsync(dir.Sub("hub"), 0, "operator-token-0123456789abcdef", output);
        var partners = new List<FederatedPartner>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                partners.Add(await FederatedPartner.StartAsync(hub, $"brand-{i + 1}", FederatedPartner.SampleHistories(seed: 200 + i), output));
            }
            await Poll.UntilAsync(() => Task.FromResult(partners.All(p => p.Runner.Connected)), Wait, "every partner to join");

            // minClients 4 with three connected: each attempt waits, then the job fails naming the shortfall.
            var short_ = await RunAsync(hub, Spec("short", minClients: 4));
            Assert.Equal("failed", short_.GetProperty("state").GetString());
            Assert.Contains("fewer than minClients = 4", short_.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Equal(0, short_.GetProperty("round").GetInt32());
            Assert.Null(short_.GetProperty("modelVersion").GetString());

            // A budget of ε = 2 at σ = 4 with every client in every round (q = 1): the accountant allows a few rounds,
            // then the job stops before the round that would exceed it, and reports what was spent.
            var dp = Spec("dp", minClients: 3);
            dp["rounds"] = 50;
            dp["clipNorm"] = 1.0;
            dp["noiseMultiplier"] = 4.0;
            dp["epsilon"] = 2.0;
            dp["delta"] = 1e-5;
            var budget = await RunAsync(hub, dp);
            Assert.True(budget.GetProperty("state").GetString() == "completed", budget.ToString());
            var rounds = budget.GetProperty("round").GetInt32();
            Assert.InRange(rounds, 1, 49);
            Assert.Contains("privacy budget reached", budget.GetProperty("reason").GetString(), StringComparison.Ordinal);
            var spent = budget.GetProperty("epsilon").GetDouble();
            Assert.True(spent <= 2.0, $"spent ε = {spent}");
            var accountant = new EdgeProfile.Federated.Privacy.RdpAccountant();
            accountant.Compose(1.0, 4.0, rounds);
            Assert.Equal(accountant.GetPrivacySpent(1e-5).Epsilon, spent, 9);
            Assert.True(accountant.PreviewPrivacySpent(1e-5, 1.0, 4.0).Epsilon > 2.0, "the job stopped although one more round fitted the budget");
            output.WriteLine($"DP job: {rounds} rounds, ε = {spent:0.###}: {budget.GetProperty("reason").GetString()}");

            // An operator stops a long job: it ends as stopped, and a second stop is a conflict.
            var long_ = Spec("long", minClients: 3);
            long_["rounds"] = 10_000;
            using var created = await hub.Operator.PostAsJsonAsync(new Uri("/api/fl/jobs", UriKind.Relative), long_);
            var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            await Poll.UntilAsync(() => JobAsync(hub, id), j => j.GetProperty("round").GetInt32() >= 1, Wait, "the long job's first round");
            using (var stop = await hub.Operator.PostAsync(new Uri($"/api/fl/jobs/{id}/stop", UriKind.Relative), null))
            {
                Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
            }
            var stopped = await JobAsync(hub, id);
            Assert.Equal("stopped", stopped.GetProperty("state").GetString());
            var at = stopped.GetProperty("round").GetInt32();
            using (var again = await hub.Operator.PostAsync(new Uri($"/api/fl/jobs/{id}/stop", UriKind.Relative), null))
            {
                Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            }
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.InRange((await JobAsync(hub, id)).GetProperty("round").GetInt32(), at, at + 1); // at most the round in flight lands
            Assert.Equal("stopped", (await JobAsync(hub, id)).GetProperty("state").GetString());
        }
        finally
        {
            foreach (var p in partners)
            {
                await p.DisposeAsync();
            }
        }
    }

    private static JsonObject Spec(string name, int minClients) => new()
    {
        ["name"] = name,
        ["features"] = new JsonArray("purchases_30d", "spend_30d", "lifetime_purchases", "days_since_last_purchase"),
        ["tasks"] = new JsonArray(new JsonObject { ["name"] = "repurchase_30d", ["kind"] = "binary", ["label"] = "purchase_next_30d" }),
        ["experts"] = 1,
        ["expertHidden"] = new JsonArray(4),
        ["towerHidden"] = new JsonArray(),
        ["rounds"] = 2,
        ["minClients"] = minClients,
        ["roundTimeoutSeconds"] = 2,
        ["roundRetries"] = 1,
        ["localEpochs"] = 1,
        ["cutoffs"] = 3,
    };

    private static async Task<JsonElement> RunAsync(HubHost hub, JsonObject spec)
    {
        using var created = await hub.Operator.PostAsJsonAsync(new Uri("/api/fl/jobs", UriKind.Relative), spec);
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"POST /api/fl/jobs -> {(int)created.StatusCode}: {body}");
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        return await Poll.UntilAsync(() => JobAsync(hub, id), j => j.GetProperty("state").GetString() is "completed" or "failed" or "stopped", Wait, $"job {spec["name"]} to end");
    }

    private static async Task<JsonElement> JobAsync(HubHost hub, string id) =>
        await hub.Operator.GetFromJsonAsync<JsonElement>(new Uri($"/api/fl/jobs/{id}", UriKind.Relative));
}
