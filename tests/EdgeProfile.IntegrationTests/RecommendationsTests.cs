using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Hub;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// Next-item recommendations end to end, all real processes: shoppers browse at two stores; their product sequences
/// reach the hub (product ids and names only); `edgeprofile recommenders build` trains SASRec, item2vec and text vectors
/// on them into a bundle; `recommenders publish` makes it live, and both stores load it without a restart. Each store
/// recommends from its own log, the hub across stores, with reasons in English and Chinese; a product published with
/// only a name reaches shoppers of similar products; a shopper's first event is enough; a second bundle swaps in and a
/// rollback brings the first back.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class RecommendationsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private static readonly Dictionary<string, string[]> Departments = new(StringComparer.Ordinal)
    {
        ["BABY"] = ["Baby Stroller Lightweight", "Baby Car Seat", "Baby Formula Milk", "Baby Bottle Set", "Baby Diapers Size 3", "Baby Wipes Sensitive",
            "Baby Stroller Organizer", "Baby Crib Sheet", "Baby Teether Ring", "Baby Monitor Camera"],
        ["PHONE"] = ["Phone Case Leather", "Phone Charger USB-C", "Phone Screen Protector", "Wireless Earbuds", "Phone Car Mount", "Phone Power Bank",
            "Phone Charging Cable", "Phone Stand Desk", "Phone Camera Lens", "Phone Ring Holder"],
        ["PET"] = ["Dog Food Chicken", "Cat Litter Clumping", "Dog Leash Nylon", "Cat Scratching Post", "Dog Chew Toy", "Pet Bed Plush",
            "Cat Food Salmon", "Dog Shampoo Oatmeal", "Pet Water Fountain", "Cat Toy Mouse"],
    };

    [Fact]
    public async Task A_published_recommender_serves_at_every_store_and_the_hub_with_reasons_cold_products_and_rollback()
    {
        using var dir = new TempDirectory("recommendations");
        var hub = HubProcess.Start("hub", dir.Sub("hub"), Ports.Free(), dir.Path);
        var edges = new List<(string Store, EdgeProcess Process, EdgeApiClient Api, int Mqtt)>();
        try
        {
            await hub.WaitHealthyAsync(Wait);
            var token = (await File.ReadAllTextAsync(Path.Combine(hub.DataDir, HubOptions.OperatorTokenFileName))).Trim();
            hub.Authorize(token);
            foreach (var store in new[] { "recs-a", "recs-b" })
            {
                using var enrollment = await hub.Http.PostAsJsonAsync(new Uri("/api/enrollments", UriKind.Relative), new { storeId = store, kind = "store" });
                var enrollmentToken = JsonDocument.Parse(await enrollment.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
                var (mqtt, http) = (Ports.Free(), Ports.Free());
                var edge = EdgeProcess.Start(
                [
                    $"--Edge:StoreId={store}", $"--Edge:DataDir={dir.Sub(store)}", $"--Edge:Mqtt:Port={mqtt}",
                    $"--Edge:Http:Urls=http://127.0.0.1:{http}", $"--Edge:HubUrl={hub.Address}", $"--Edge:EnrollmentToken={enrollmentToken}",
                ], dir.Path);
                var api = new EdgeApiClient(new Uri($"http://127.0.0.1:{http}"));
                edges.Add((store, edge, api, mqtt));
                await api.WaitHealthyAsync(Wait, failure: () => edge.HasExited ? $"{store} exited with {edge.ExitCode}\n{edge.Tail()}" : null);
            }

            // 180 shoppers at recs-a and 60 at recs-b walk one department's products mostly in order; L-both shops baby
            // products at both stores.
            var rng = new Random(7);
            var now = DateTimeOffset.UtcNow.AddHours(-2);
            var departments = Departments.Keys.ToArray();
            var eventsA = new List<TestEvent>();
            var eventsB = new List<TestEvent>();
            for (var c = 0; c < 240; c++)
            {
                var department = departments[c % departments.Length];
                var at = rng.Next(10);
                var target = c < 180 ? eventsA : eventsB;
                for (var i = 0; i < 6; i++)
                {
                    target.Add(View($"e{c}-{i}", c < 180 ? "recs-a" : "recs-b", $"L-{c}", department, at, now.AddMinutes(c * 0.1 + i)));
                    at = rng.NextDouble() < 0.85 ? (at + 1) % 10 : rng.Next(10);
                }
            }

            eventsA.Add(View("both-1", "recs-a", "L-both", "BABY", 0, now.AddMinutes(60)));
            eventsA.Add(View("both-2", "recs-a", "L-both", "BABY", 1, now.AddMinutes(61)));
            eventsB.Add(View("both-3", "recs-b", "L-both", "BABY", 4, now.AddMinutes(62)));
            await ScenarioEvents.PublishAsync(edges[0].Mqtt, "recs-a", [.. eventsA]);
            await ScenarioEvents.PublishAsync(edges[1].Mqtt, "recs-b", [.. eventsB]);

            // The hub sees the sequences (without customer keys) once the stores have uploaded.
            await Poll.UntilAsync(async () => JsonDocument.Parse(await hub.Http.GetStringAsync(new Uri("/api/recommenders/sequences", UriKind.Relative))).RootElement,
                s => s.GetProperty("sequences").GetArrayLength() >= 241, Wait, "the hub to hold 241 sequences");

            // A catalogue that also names a product nobody has seen yet.
            var catalogue = Path.Combine(dir.Path, "catalogue.csv");
            var lines = new StringBuilder("sku,name\n");
            foreach (var (department, names) in Departments)
            {
                for (var i = 0; i < names.Length; i++)
                {
                    lines.Append(CultureInfo.InvariantCulture, $"{Sku(department, i)},{names[i]}\n");
                }
            }

            lines.Append("BABY-NEW,Baby Stroller Rain Cover\n");
            await File.WriteAllTextAsync(catalogue, lines.ToString());

            var bundle = Path.Combine(dir.Path, "v1.bundle");
            var built = await CliProcess.RunAsync(dir.Path, TimeSpan.FromMinutes(5), "recommenders", "build", "--version", "recs-v1", "--out", bundle,
                "--catalogue", catalogue, "--epochs", "30", "--hub", hub.Address.ToString(), "--token", token);
            output.WriteLine(built.Stdout);
            Assert.True(built.ExitCode == 0, built.Stderr);
            Assert.Contains("SASRec:", built.Stdout, StringComparison.Ordinal);
            Assert.Contains("1 cold", built.Stdout, StringComparison.Ordinal);

            var published = await CliProcess.RunAsync(dir.Path, Wait, "recommenders", "publish", bundle, "--hub", hub.Address.ToString(), "--token", token);
            Assert.True(published.ExitCode == 0, published.Stderr);
            foreach (var (store, _, api, _) in edges)
            {
                await Poll.UntilAsync(() => api.GetJsonAsync("/api/recommenders"), r => r.GetProperty("version").GetString() == "recs-v1", Wait, $"{store} to serve recs-v1");
            }

            // At the store: next products from the shopper's own products there, with the reason in both languages.
            var baby = await RecommendAsync(edges[0].Api, "loyalty:L-0", "en");
            var top = baby.GetProperty("recommendations").EnumerateArray().ToList();
            Assert.Equal(10, top.Count);
            output.WriteLine(string.Join("\n", top.Select(x => $"{x.GetProperty("sku").GetString()} [{x.GetProperty("source").GetString()}] {x.GetProperty("reason").GetString()}")));
            Assert.StartsWith("BABY-", top[0].GetProperty("sku").GetString(), StringComparison.Ordinal);
            Assert.Equal("sasrec", top[0].GetProperty("source").GetString());
            Assert.StartsWith("Because you viewed Baby ", top[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
            var cold = Assert.Single(top, x => x.GetProperty("sku").GetString() == "BABY-NEW");
            Assert.StartsWith("New product, similar to Baby ", cold.GetProperty("reason").GetString(), StringComparison.Ordinal);
            var zh = await RecommendAsync(edges[0].Api, "loyalty:L-0", "zh-CN");
            Assert.StartsWith("因为您浏览了", zh.GetProperty("recommendations")[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
            var phone = await RecommendAsync(edges[0].Api, "loyalty:L-1", "en");
            Assert.DoesNotContain(phone.GetProperty("recommendations").EnumerateArray(), x => x.GetProperty("sku").GetString() == "BABY-NEW");

            // A shopper's first event is enough.
            await ScenarioEvents.PublishAsync(edges[1].Mqtt, "recs-b", View("first-1", "recs-b", "L-first", "PET", 2, DateTimeOffset.UtcNow));
            var first = await Poll.UntilAsync(async () => await TryRecommendAsync(edges[1].Api, "loyalty:L-first"), r => r is not null, Wait, "L-first at recs-b");
            var firstTop = first!.Value.GetProperty("recommendations").EnumerateArray().Take(3).Select(x => x.GetProperty("sku").GetString()!).ToList();
            Assert.True(firstTop.Count(s => s.StartsWith("PET-", StringComparison.Ordinal)) >= 2, string.Join(", ", firstTop));

            // The hub merges the customer's products from both stores.
            using (var response = await hub.Http.GetAsync(new Uri("/api/profiles/loyalty:L-both/recommendations?k=5", UriKind.Relative)))
            {
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, text);
                var global = JsonDocument.Parse(text).RootElement;
                Assert.Equal(["recs-a", "recs-b"], global.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("store").GetString()!).Distinct().Order(StringComparer.Ordinal));
                Assert.Equal(5, global.GetProperty("recommendations").GetArrayLength());
                Assert.DoesNotContain(global.GetProperty("recommendations").EnumerateArray(), x => x.GetProperty("sku").GetString() is "BABY-00" or "BABY-01" or "BABY-04");
            }

            // Similar customers: the hub embeds every profile with the live SASRec into an HNSW index.
            await Poll.UntilAsync(async () => JsonDocument.Parse(await hub.Http.GetStringAsync(new Uri("/api/recommenders", UriKind.Relative))).RootElement,
                r => r.GetProperty("customerVectors").GetProperty("customers").GetInt32() >= 241, Wait, "the hub's customer index");
            using (var response = await hub.Http.GetAsync(new Uri("/api/profiles/loyalty:L-0/similar?k=5", UriKind.Relative)))
            {
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, text);
                var similar = JsonDocument.Parse(text).RootElement.GetProperty("similar").EnumerateArray().ToList();
                Assert.Equal(5, similar.Count);
                var babyShoppers = 0;
                foreach (var other in similar)
                {
                    var otherProfile = await hub.ProfileAsync(other.GetProperty("profileId").GetString()!);
                    var loyalty = otherProfile!.Value.GetProperty("identifiers").EnumerateArray().Select(x => x.GetString()!).First(x => x.StartsWith("loyalty:L-", StringComparison.Ordinal));
                    babyShoppers += loyalty == "loyalty:L-both" || int.Parse(loyalty["loyalty:L-".Length..], CultureInfo.InvariantCulture) % 3 == 0 ? 1 : 0;
                }

                Assert.True(babyShoppers >= 4, $"{babyShoppers} of the 5 customers most like a baby shopper shop baby products");
            }

            // A second bundle (item2vec only) swaps in at the stores; the rollback brings recs-v1 back.
            var bundle2 = Path.Combine(dir.Path, "v2.bundle");
            var built2 = await CliProcess.RunAsync(dir.Path, TimeSpan.FromMinutes(5), "recommenders", "build", "--version", "recs-v2", "--out", bundle2,
                "--no-sasrec", "--hub", hub.Address.ToString(), "--token", token);
            Assert.True(built2.ExitCode == 0, built2.Stderr);
            Assert.True((await CliProcess.RunAsync(dir.Path, Wait, "recommenders", "publish", bundle2, "--hub", hub.Address.ToString(), "--token", token)).ExitCode == 0);
            await Poll.UntilAsync(() => edges[0].Api.GetJsonAsync("/api/recommenders"), r => r.GetProperty("version").GetString() == "recs-v2", Wait, "recs-a to serve recs-v2");
            Assert.Equal("item2vec", (await RecommendAsync(edges[0].Api, "loyalty:L-0", "en")).GetProperty("recommendations")[0].GetProperty("source").GetString());
            var rolledBack = await CliProcess.RunAsync(dir.Path, Wait, "recommenders", "rollback", "--hub", hub.Address.ToString(), "--token", token);
            Assert.True(rolledBack.ExitCode == 0, rolledBack.Stderr);
            await Poll.UntilAsync(() => edges[0].Api.GetJsonAsync("/api/recommenders"), r => r.GetProperty("version").GetString() == "recs-v1", Wait, "recs-a to serve recs-v1 again");

            // A damaged bundle is refused at the hub; the live one stays.
            var damaged = await File.ReadAllBytesAsync(bundle);
            damaged[damaged.Length / 2] ^= 0x5A;
            using (var content = new ByteArrayContent(damaged))
            {
                using var refused = await hub.Http.PostAsync(new Uri("/api/recommenders?publish=true", UriKind.Relative), content);
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            }

            Assert.Equal("recs-v1", JsonDocument.Parse(await hub.Http.GetStringAsync(new Uri("/api/recommenders", UriKind.Relative))).RootElement.GetProperty("live").GetProperty("version").GetString());
        }
        finally
        {
            foreach (var (_, process, api, _) in edges)
            {
                api.Dispose();
                await process.DisposeAsync();
            }

            await hub.DisposeAsync();
        }
    }

    private static string Sku(string department, int i) => $"{department}-{i:D2}";

    private static TestEvent View(string id, string store, string loyalty, string department, int item, DateTimeOffset at)
    {
        var json = new JsonObject
        {
            ["eventId"] = id,
            ["type"] = "view",
            ["occurredAt"] = at.ToString("O", CultureInfo.InvariantCulture),
            ["storeId"] = store,
            ["channel"] = "app",
            ["customer"] = new JsonObject { ["loyaltyId"] = loyalty },
            ["product"] = new JsonObject { ["sku"] = Sku(department, item), ["name"] = Departments[department][item], ["category"] = department, ["price"] = 10.0 },
        };
        return new TestEvent(id, 0, Encoding.UTF8.GetBytes(json.ToJsonString()));
    }

    private static async Task<JsonElement> RecommendAsync(EdgeApiClient api, string key, string lang) =>
        await api.GetJsonAsync($"/api/profiles/{key}/recommendations?k=10&lang={lang}");

    private static async Task<JsonElement?> TryRecommendAsync(EdgeApiClient api, string key)
    {
        try
        {
            return await RecommendAsync(api, key, "en");
        }
        catch (HttpRequestException)
        {
            return null; // 404 until the event is stored
        }
    }
}
