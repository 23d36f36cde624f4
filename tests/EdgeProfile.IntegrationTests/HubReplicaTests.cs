using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Hub;
using EdgeProfile.IntegrationTests.Infrastructure;
using Npgsql;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// Two hub processes on one PostgreSQL schema serve consistent profiles: store A's edge uploads to hub 1, store B's
/// edge to hub 2 (enrolled with a token hub 1 issued); the customer both stores saw is one global profile that both
/// hubs answer alike, with one operator token, and that each store is sent by its own hub; and each hub's profile
/// cache follows writes made through the other (an upload, a merge, a consent change, an unmerge), told by LISTEN/NOTIFY.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class HubReplicaTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Upload = TimeSpan.FromSeconds(15);

    // A write through one replica must show at the other within this (the cache is told, not expired).
    private static readonly TimeSpan Follow = TimeSpan.FromSeconds(10);

    /// <summary>The test database (a superuser's, so that a schema can be created and dropped).</summary>
    private static string BaseConnectionString { get; } =
        Environment.GetEnvironmentVariable("EDGEPROFILE_TEST_POSTGRES") is { Length: > 0 } cs
            ? cs
            : "Host=127.0.0.1;Port=5432;Database=edgeprofile;Username=edgeprofile;Password=edgeprofile";

    [Fact]
    public async Task Two_hub_processes_on_one_postgres_serve_one_consistent_profile_and_follow_each_others_writes()
    {
        using var dir = new TempDirectory("replicas");
        await using var schema = await ReplicaSchema.CreateAsync(BaseConnectionString);
        string[] storage = ["--Hub:Storage=postgres", $"--Hub:ConnectionString={schema.ConnectionString}"];

        // Both replicas start together on the fresh schema: one migrates it and creates the shared secrets, the other
        // waits for the migration lock and takes them.
        await using var hub1 = HubProcess.Start("hub 1", dir.Sub("hub1"), Ports.Free(), dir.Path, storage);
        await using var hub2 = HubProcess.Start("hub 2", dir.Sub("hub2"), Ports.Free(), dir.Path, storage);
        try
        {
            await Task.WhenAll(hub1.WaitHealthyAsync(TimeSpan.FromSeconds(30)), hub2.WaitHealthyAsync(TimeSpan.FromSeconds(30)));
            await RunScenarioAsync(dir, hub1, hub2);
        }
        finally
        {
            output.WriteLine(hub1.Tail());
            output.WriteLine(hub2.Tail());
        }
    }

    private async Task RunScenarioAsync(TempDirectory dir, HubProcess hub1, HubProcess hub2)
    {
        // One operator token for both: hub 1's generated token, read from its data directory, opens hub 2.
        var token = (await File.ReadAllTextAsync(Path.Combine(hub1.DataDir, HubOptions.OperatorTokenFileName))).Trim();
        Assert.Equal(token, (await File.ReadAllTextAsync(Path.Combine(hub2.DataDir, HubOptions.OperatorTokenFileName))).Trim());
        hub2.Authorize("not-the-operator-token-0123456789");
        using (var refused = await hub2.Http.GetAsync(new Uri("/api/stores", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        hub1.Authorize(token);
        hub2.Authorize(token);
        using (var accepted = await hub2.Http.GetAsync(new Uri("/api/stores", UriKind.Relative)))
        {
            Assert.True(accepted.IsSuccessStatusCode, $"hub 2 refused hub 1's operator token: {(int)accepted.StatusCode}");
        }

        // Both enrollment tokens come from hub 1; store B trades its token at hub 2.
        var tokenA = await CreateEnrollmentTokenAsync(hub1, "rep-a");
        var tokenB = await CreateEnrollmentTokenAsync(hub1, "rep-b");
        var portA = Ports.Free();
        var portB = Ports.Free();
        await using var edgeA = await InProcessEdge.StartAsync("rep-a", dir.Sub("rep-a"), portA, output,
            $"--Edge:HubUrl={hub1.Address}", $"--Edge:EnrollmentToken={tokenA}", "--Edge:Uplink:MaxBackoff=00:00:01");
        await using var edgeB = await InProcessEdge.StartAsync("rep-b", dir.Sub("rep-b"), portB, output,
            $"--Edge:HubUrl={hub2.Address}", $"--Edge:EnrollmentToken={tokenB}", "--Edge:Uplink:MaxBackoff=00:00:01");
        await Poll.UntilAsync(async () => string.Join(",", (await StoreIdsAsync(hub1)).Order(StringComparer.Ordinal)), s => s == "rep-a,rep-b",
            Upload, "hub 1 to list both stores, rep-b enrolled through hub 2");

        // Store A sees member L-r1 buy; hub 2 answers for her from what hub 1 wrote.
        var at = DateTimeOffset.UtcNow.AddMinutes(-30);
        await ScenarioEvents.PublishAsync(portA, "rep-a", Purchase("rep-a-1", "rep-a", at, 100.0, new JsonObject { ["loyaltyId"] = "L-r1" }));
        var first = await Poll.UntilAsync(() => hub2.ProfileAsync("loyalty:L-r1"), p => p is not null, Upload, "store A's customer to be served by hub 2");
        var loyaltyProfile = first!.Value.GetProperty("profileId").GetString();
        await CacheAsync(hub1, "loyalty:L-r1");

        // Store B sees her app account alone first: a second profile, read (and cached) through hub 1.
        await ScenarioEvents.PublishAsync(portB, "rep-b", ScenarioEvents.Build("rep-b-1", "search", "rep-b", "app", at.AddMinutes(1),
            new JsonObject { ["appUserId"] = "u-r1" }, text: "travel cot"));
        var app = await Poll.UntilAsync(() => hub1.ProfileAsync("app:u-r1"), p => p is not null, Upload, "store B's app user to be served by hub 1");
        Assert.NotEqual(loyaltyProfile, app!.Value.GetProperty("profileId").GetString());
        await CacheAsync(hub1, "app:u-r1");

        // Then she buys at store B with both her member card and her app: hub 2 merges the two profiles, and hub 1,
        // which has both cached, must serve the merged one.
        await ScenarioEvents.PublishAsync(portB, "rep-b", Purchase("rep-b-2", "rep-b", at.AddMinutes(2), 250.0, new JsonObject { ["loyaltyId"] = "L-r1", ["appUserId"] = "u-r1" }));
        var (merged, viaApp) = await Poll.UntilAsync(
            async () => ((await hub1.ProfileAsync("loyalty:L-r1"))!.Value, (await hub1.ProfileAsync("app:u-r1"))!.Value),
            p => Identifiers(p.Item1).Length == 2 && Identifiers(p.Item2).Length == 2,
            Upload, "hub 1 to serve, for both keys, the profile hub 2 merged");
        var profileId = merged.GetProperty("profileId").GetString();
        Assert.Equal(profileId, viaApp.GetProperty("profileId").GetString());
        Assert.Equal(["app:u-r1", "loyalty:L-r1"], Identifiers(merged));
        Assert.Equal(2, merged.GetProperty("stores").GetArrayLength());
        Assert.Equal(350.0, merged.GetProperty("global").GetProperty("spend30d").GetDouble());
        Assert.Equal(2, merged.GetProperty("global").GetProperty("storesSeen").GetInt32());
        await AssertConsistentAsync(hub1, hub2, merged);

        // Each store is sent the merged view by its own hub: store A by hub 1, though hub 2 wrote it.
        foreach (var edge in new[] { edgeA, edgeB })
        {
            var local = await Poll.UntilAsync(() => edge.Api.ProfileAsync("loyalty:L-r1"),
                p => p is { } q && q.TryGetProperty("global", out var g) && g.ValueKind == JsonValueKind.Object && g.GetProperty("stores").GetArrayLength() == 2,
                Follow, $"{edge.StoreId} to be sent the merged global view by its hub");
            Assert.Equal(profileId, local!.Value.GetProperty("global").GetProperty("profileId").GetString());
        }

        // Another purchase at store B (an upload through hub 2 that merges nothing) shows at hub 1.
        await CacheAsync(hub1, "loyalty:L-r1");
        await ScenarioEvents.PublishAsync(portB, "rep-b", Purchase("rep-b-3", "rep-b", at.AddMinutes(3), 50.0, new JsonObject { ["loyaltyId"] = "L-r1" }));
        await Poll.UntilAsync(() => hub1.ProfileAsync("loyalty:L-r1"), p => p is { } q && q.GetProperty("global").GetProperty("spend30d").GetDouble() == 400.0,
            Follow + Upload, "hub 1 to serve store B's newer upload, made through hub 2");

        // A consent withdrawal through hub 2 shows at hub 1.
        await CacheAsync(hub1, "loyalty:L-r1");
        using (var put = await hub2.Http.PutAsJsonAsync(new Uri("/api/consent/app:u-r1", UriKind.Relative), new { personalisation = false, source = "crm" }))
        {
            Assert.True(put.IsSuccessStatusCode, $"PUT /api/consent on hub 2 -> {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
        }

        await Poll.UntilAsync(() => hub1.ProfileAsync("loyalty:L-r1"), p => p is { } q && !q.GetProperty("consent").GetProperty("personalisation").GetBoolean(),
            Follow, "hub 1 to serve the consent withdrawn through hub 2");
        await AssertConsistentAsync(hub1, hub2, (await hub1.ProfileAsync("loyalty:L-r1"))!.Value);

        // The merge, looked up through hub 1 and undone through hub 2: hub 1 serves two profiles again.
        var seq = await MergeSeqAsync(hub1, "loyalty:L-r1");
        await CacheAsync(hub1, "loyalty:L-r1");
        await CacheAsync(hub1, "app:u-r1");
        using (var unmerge = await hub2.Http.PostAsync(new Uri($"/api/identity/merges/{seq}/unmerge", UriKind.Relative), null))
        {
            Assert.True(unmerge.IsSuccessStatusCode, $"unmerge {seq} on hub 2 -> {(int)unmerge.StatusCode}: {await unmerge.Content.ReadAsStringAsync()}");
        }

        // Both keys are checked: one stale answer beside a fresh one would also show two profile ids.
        var (loyalty, appOnly) = await Poll.UntilAsync(
            async () => ((await hub1.ProfileAsync("loyalty:L-r1"))!.Value, (await hub1.ProfileAsync("app:u-r1"))!.Value),
            p => Identifiers(p.Item1).Length == 1 && Identifiers(p.Item2).Length == 1,
            Follow, "hub 1 to serve, for both keys, the two profiles the unmerge through hub 2 restored");
        Assert.Equal(["loyalty:L-r1"], Identifiers(loyalty));
        Assert.Equal(["app:u-r1"], Identifiers(appOnly));
        Assert.NotEqual(loyalty.GetProperty("profileId").GetString(), appOnly.GetProperty("profileId").GetString());
        await AssertConsistentAsync(hub1, hub2, loyalty);
        await AssertConsistentAsync(hub1, hub2, appOnly);
    }

    private static TestEvent Purchase(string id, string store, DateTimeOffset at, double price, JsonObject customer) =>
        ScenarioEvents.Build(id, "purchase", store, "pos", at, customer,
            product: new JsonObject { ["sku"] = "COT-1", ["category"] = "Baby & Toddler > Travel cots", ["price"] = price });

    /// <summary>Reads <paramref name="key"/> twice through <paramref name="hub"/>: the answer is in its cache now.</summary>
    private static async Task CacheAsync(HubProcess hub, string key)
    {
        Assert.NotNull(await hub.ProfileAsync(key));
        Assert.NotNull(await hub.ProfileAsync(key));
    }

    /// <summary>
    /// For each of <paramref name="expected"/>'s keys, hub 1 and hub 2 both answer with its profile id, identifiers,
    /// store views, global totals and consent. Polled: a replica may learn of the latest write a moment later.
    /// </summary>
    private static Task AssertConsistentAsync(HubProcess hub1, HubProcess hub2, JsonElement expected)
    {
        var want = Essentials(expected);
        var keys = Identifiers(expected);
        Assert.NotEmpty(keys);
        return Poll.UntilAsync(
            async () =>
            {
                var differences = new List<string>();
                foreach (var key in keys)
                {
                    foreach (var hub in new[] { hub1, hub2 })
                    {
                        var got = await hub.ProfileAsync(key) is { } p ? Essentials(p) : "404";
                        if (got != want)
                        {
                            differences.Add($"{hub.Name} for {key}: {got}");
                        }
                    }
                }

                return differences;
            },
            d => d.Count == 0, Follow, $"both hubs to answer {want} for each of its keys");
    }

    /// <summary>What two replicas must agree on, as one comparable (and readable) line.</summary>
    private static string Essentials(JsonElement p)
    {
        var stores = p.GetProperty("stores").EnumerateArray()
            .Select(s => string.Create(CultureInfo.InvariantCulture,
                $"{s.GetProperty("storeId").GetString()}/{s.GetProperty("customerKey").GetString()}: events {s.GetProperty("eventsTotal").GetInt64()}, seq {s.GetProperty("updatedSequence").GetInt64()}, spend30d {s.GetProperty("spend30d").GetDouble()}"))
            .Order(StringComparer.Ordinal);
        return $"{p.GetProperty("profileId").GetString()} [{string.Join(", ", Identifiers(p))}] stores [{string.Join("; ", stores)}] "
            + $"global {p.GetProperty("global").GetRawText()} consent {p.GetProperty("consent").GetRawText()}";
    }

    private static string[] Identifiers(JsonElement profile) =>
        [.. profile.GetProperty("identifiers").EnumerateArray().Select(i => i.GetString()!).Order(StringComparer.Ordinal)];

    private static async Task<string> CreateEnrollmentTokenAsync(HubProcess hub, string storeId)
    {
        using var response = await hub.Http.PostAsJsonAsync(new Uri("/api/enrollments", UriKind.Relative), new { storeId, kind = "store" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{hub.Name}: POST /api/enrollments -> {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
    }

    private static async Task<List<string>> StoreIdsAsync(HubProcess hub)
    {
        var stores = await hub.Http.GetFromJsonAsync<List<HubStore>>(new Uri("/api/stores", UriKind.Relative), JsonSerializerOptions.Web);
        return [.. stores!.Where(s => !s.Revoked).Select(s => s.StoreId)];
    }

    /// <summary>The audit number of the merge that made <paramref name="key"/>'s profile (<c>GET /api/identity/{key}</c>).</summary>
    private static async Task<long> MergeSeqAsync(HubProcess hub, string key)
    {
        var history = await hub.Http.GetFromJsonAsync<JsonElement>(new Uri("/api/identity/" + Uri.EscapeDataString(key), UriKind.Relative));
        var merge = history.GetProperty("audit").EnumerateArray().Single(e => e.GetProperty("action").GetString() == "merge");
        Assert.Equal("rep-b", merge.GetProperty("actor").GetString());
        return merge.GetProperty("seq").GetInt64();
    }

    /// <summary>A fresh schema for the replicas, dropped on dispose; fails (never skips) when PostgreSQL cannot be reached.</summary>
    private sealed class ReplicaSchema : IAsyncDisposable
    {
        private readonly string _admin;
        private readonly string _name;

        private ReplicaSchema(string admin, string name, string connectionString)
        {
            _admin = admin;
            _name = name;
            ConnectionString = connectionString;
        }

        /// <summary>The hubs' connection string: the test database with <c>Search Path</c> on this schema.</summary>
        public string ConnectionString { get; }

        public static async Task<ReplicaSchema> CreateAsync(string baseConnectionString)
        {
            var admin = new NpgsqlConnectionStringBuilder(baseConnectionString) { Pooling = false, Timeout = 5 };
            var name = "it_replicas_" + Guid.NewGuid().ToString("N");
            try
            {
                await using var connection = new NpgsqlConnection(admin.ConnectionString);
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE SCHEMA {name};", connection);
                await create.ExecuteNonQueryAsync();
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                throw new Xunit.Sdk.XunitException(
                    $"PostgreSQL is required for this test and could not be used at Host={admin.Host};Port={admin.Port};Database={admin.Database};Username={admin.Username} "
                    + $"({ex.GetType().Name}: {ex.Message}). Start it, or set EDGEPROFILE_TEST_POSTGRES to a superuser's Npgsql connection string.");
            }

            return new ReplicaSchema(admin.ConnectionString, name,
                new NpgsqlConnectionStringBuilder(baseConnectionString) { SearchPath = name }.ConnectionString);
        }

        public async ValueTask DisposeAsync()
        {
            await using var connection = new NpgsqlConnection(_admin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {_name} CASCADE;", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
