using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Hub;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// Federated training end to end with real processes: a hub and five store agents, each holding its own slice of a real
/// retail log (UCI Online Retail, customers split by country group), run a three-round FedAvg job over gRPC. One store
/// is killed in the middle of round 1 and the round completes with the other four; the hub is killed after round 2 and,
/// restarted on its data directory, resumes the job from its checkpoint instead of starting over.
/// </summary>
public sealed class FederatedTrainingTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(180);

    private static readonly string[] Stores = ["fl-uk-1", "fl-uk-2", "fl-uk-3", "fl-eu-1", "fl-eu-2"];

    [Fact]
    public async Task Five_stores_train_three_rounds_one_store_dies_mid_round_and_a_restarted_hub_resumes()
    {
        using var dir = new TempDirectory("federated");
        var slices = RetailSlices(Stores.Length);
        var hubPort = Ports.Free();
        var hub = HubProcess.Start("hub", dir.Sub("hub"), hubPort, dir.Path);
        var edges = new Dictionary<string, EdgeProcess>(StringComparer.Ordinal);
        try
        {
            await hub.WaitHealthyAsync(TimeSpan.FromSeconds(60));
            var token = (await File.ReadAllTextAsync(Path.Combine(hub.DataDir, HubOptions.OperatorTokenFileName))).Trim();
            hub.Authorize(token);

            // Five stores, started together, each fed its own customers' purchases over MQTT.
            var trainingStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var ready = new List<Task>();
            for (var i = 0; i < Stores.Length; i++)
            {
                var store = Stores[i];
                var enrollment = await CreateEnrollmentTokenAsync(hub, store);
                var mqtt = Ports.Free();
                var http = Ports.Free();
                var edge = EdgeProcess.Start(
                [
                    $"--Edge:StoreId={store}", $"--Edge:DataDir={dir.Sub(store)}", $"--Edge:Mqtt:Port={mqtt}",
                    $"--Edge:Http:Urls=http://127.0.0.1:{http}", $"--Edge:HubUrl={hub.Address}", $"--Edge:EnrollmentToken={enrollment}",
                    "--Edge:Uplink:MaxBackoff=00:00:01",
                ], dir.Path);
                edges[store] = edge;
                if (store == "fl-eu-2")
                {
                    edge.Line += line =>
                    {
                        if (line.Contains("round 1 train: started", StringComparison.Ordinal))
                        {
                            trainingStarted.TrySetResult();
                        }
                    };
                }
                var slice = slices[i];
                ready.Add(Task.Run(async () =>
                {
                    using var api = new EdgeApiClient(new Uri($"http://127.0.0.1:{http}"));
                    await api.WaitHealthyAsync(TimeSpan.FromSeconds(120), failure: () => edge.HasExited ? $"{store} exited with {edge.ExitCode}\n{edge.Tail()}" : null);
                    await ScenarioEvents.PublishAsync(mqtt, store, [.. slice.Select(p => p.Event(store))]);
                }));
            }
            await Task.WhenAll(ready);
            await Poll.UntilAsync(() => Task.FromResult(hub.Tail(400)), t => Stores.All(s => t.Contains($"Federation: {s} joined", StringComparison.Ordinal)), Wait, "every store to join the federation");

            // The operator creates the job: repurchase in 30 days from nine online features, FedAvg, 3 rounds.
            var spec = new JsonObject
            {
                ["name"] = "repurchase-fl",
                ["features"] = new JsonArray("purchases_30d", "spend_30d", "active_days_30d", "avg_basket_30d", "distinct_skus_30d", "events_7d",
                    "lifetime_purchases", "lifetime_spend", "days_since_last_purchase"),
                ["tasks"] = new JsonArray(new JsonObject { ["name"] = "repurchase_30d", ["kind"] = "binary", ["label"] = "purchase_next_30d" }),
                ["experts"] = 2,
                ["expertHidden"] = new JsonArray(16),
                ["towerHidden"] = new JsonArray(8),
                ["rounds"] = 3,
                ["minClients"] = 3,
                ["roundTimeoutSeconds"] = 120,
                ["localEpochs"] = 100,
                ["batchSize"] = 32,
                ["learningRate"] = 0.01,
                ["clipNorm"] = 50.0,
                ["cutoffs"] = 4,
                ["cutoffStepDays"] = 14,
            };
            using var created = await hub.Http.PostAsJsonAsync(new Uri("/api/fl/jobs", UriKind.Relative), spec);
            var createdBody = await created.Content.ReadAsStringAsync();
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"POST /api/fl/jobs -> {(int)created.StatusCode}: {createdBody}");
            var jobId = JsonDocument.Parse(createdBody).RootElement.GetProperty("id").GetString()!;

            // Round 1: fl-eu-2 is killed while it trains; the round completes with the other four.
            await trainingStarted.Task.WaitAsync(Wait);
            edges["fl-eu-2"].KillHard();
            var afterRound2 = await Poll.UntilAsync(() => JobAsync(hub, jobId), j => j.GetProperty("round").GetInt32() >= 2 || Ended(j), Wait, "rounds 1 and 2 to complete");
            Assert.False(Ended(afterRound2), afterRound2.ToString());
            var round1 = Round(afterRound2, 1);
            Assert.Equal("completed", round1.GetProperty("state").GetString());
            Assert.Equal(5, round1.GetProperty("invited").GetInt32());
            Assert.Equal(4, round1.GetProperty("updates").GetInt32());
            Assert.Equal(1, round1.GetProperty("dropped").GetInt32());
            var killed = Participation(afterRound2, 1).Single(p => p.GetProperty("client").GetString() == "fl-eu-2");
            Assert.Equal("dropped", killed.GetProperty("status").GetString());
            Assert.All(Participation(afterRound2, 1).Where(p => p.GetProperty("client").GetString() != "fl-eu-2"),
                p => Assert.True(p.GetProperty("status").GetString() == "updated" && p.GetProperty("samples").GetInt64() > 0, p.ToString()));
            Assert.Equal(4, Round(afterRound2, 2).GetProperty("invited").GetInt32()); // the dead store is not invited again
            var round1Started = round1.GetProperty("startedAt").GetDateTimeOffset();
            var round2Version = Round(afterRound2, 2).GetProperty("modelVersion").GetString();

            // The hub dies after round 2 and comes back on its data directory: the job resumes at round 3.
            await hub.DisposeAsync();
            var restartedAt = DateTimeOffset.UtcNow;
            hub = HubProcess.Start("hub (restarted)", dir.Sub("hub"), hubPort, dir.Path);
            await hub.WaitHealthyAsync(TimeSpan.FromSeconds(60));
            hub.Authorize(token);
            var done = await Poll.UntilAsync(() => JobAsync(hub, jobId), Ended, Wait, "the job to end after the hub restart");
            Assert.True(done.GetProperty("state").GetString() == "completed", done.ToString());
            Assert.Equal(3, done.GetProperty("round").GetInt32());
            Assert.Equal(round1Started, Round(done, 1).GetProperty("startedAt").GetDateTimeOffset()); // not re-run
            Assert.Equal(round2Version, Round(done, 2).GetProperty("modelVersion").GetString());
            var round3 = Round(done, 3);
            Assert.Equal("completed", round3.GetProperty("state").GetString());
            Assert.True(round3.GetProperty("startedAt").GetDateTimeOffset() >= restartedAt.AddSeconds(-1), $"round 3 ran before the restart: {round3}");
            Assert.Equal(4, round3.GetProperty("updates").GetInt32());

            // Every round's global model is in the registry, with the stores' validation AUC aggregated into the round.
            foreach (var r in new[] { 1, 2, 3 })
            {
                var version = Round(done, r).GetProperty("modelVersion").GetString();
                Assert.False(string.IsNullOrEmpty(version), $"round {r} registered no model: {Round(done, r)}");
                using var model = await hub.Http.GetAsync(new Uri($"/api/models/{version}", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, model.StatusCode);
                var auc = Round(done, r).GetProperty("metrics").GetProperty("val_auc_repurchase_30d").GetDouble();
                Assert.InRange(auc, 0.55, 1.0);
            }
            output.WriteLine(done.ToString());
        }
        finally
        {
            output.WriteLine(hub.Tail(80));
            foreach (var (store, edge) in edges)
            {
                output.WriteLine($"--- {store} ---\n{edge.Tail(15)}");
                await edge.DisposeAsync();
            }
            await hub.DisposeAsync();
        }
    }

    private static bool Ended(JsonElement job) => job.GetProperty("state").GetString() is "completed" or "failed" or "stopped";

    private static JsonElement Round(JsonElement job, int round) =>
        job.GetProperty("roundHistory").EnumerateArray().Single(r => r.GetProperty("round").GetInt32() == round);

    private static IEnumerable<JsonElement> Participation(JsonElement job, int round) =>
        job.GetProperty("participation").EnumerateArray().Where(p => p.GetProperty("round").GetInt32() == round);

    private static async Task<JsonElement> JobAsync(HubProcess hub, string id) =>
        await hub.Http.GetFromJsonAsync<JsonElement>(new Uri($"/api/fl/jobs/{id}", UriKind.Relative));

    private static async Task<string> CreateEnrollmentTokenAsync(HubProcess hub, string storeId)
    {
        using var response = await hub.Http.PostAsJsonAsync(new Uri("/api/enrollments", UriKind.Relative), new { storeId, kind = "store" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/enrollments -> {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
    }

    /// <summary>One purchase (an invoice of Online Retail: its total, its first line's product).</summary>
    private sealed record Purchase(string Invoice, string Customer, DateTimeOffset At, string Sku, double Total)
    {
        public TestEvent Event(string store) => ScenarioEvents.Build($"{store}-{Invoice}", "purchase", store, "pos", At,
            new JsonObject { ["loyaltyId"] = "OR-" + Customer }, product: new JsonObject { ["sku"] = Sku, ["price"] = Math.Round(Total, 2) });
    }

    /// <summary>
    /// Real customers for each store: Online Retail's invoices with a customer and a positive total, the United Kingdom's
    /// customers spread over the first stores and the other countries' over the rest, 120 customers per store, in time
    /// order.
    /// </summary>
    private static List<Purchase>[] RetailSlices(int stores)
    {
        var path = DataFile("online-retail", "online_retail_clean.csv.gz");
        var invoices = new Dictionary<string, Purchase>(StringComparer.Ordinal);
        var country = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress), Encoding.UTF8))
        {
            var header = reader.ReadLine()!.Split(',');
            int Col(string name) => Array.IndexOf(header, name) is >= 0 and var c ? c : throw new InvalidDataException($"{path}: no column {name}");
            int invoice = Col("InvoiceNo"), sku = Col("StockCode"), quantity = Col("Quantity"), date = Col("InvoiceDate"), price = Col("UnitPrice"),
                customer = Col("CustomerID"), countryCol = Col("Country");
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                // The description column may hold quoted commas: parse from both ends around it.
                var f = line.Split(',');
                if (f.Length < header.Length)
                {
                    continue;
                }
                var tail = f.Length - header.Length;
                string At(int c) => c > Col("Description") ? f[c + tail] : f[c];
                if (At(customer).Length == 0)
                {
                    continue;
                }
                var total = double.Parse(At(quantity), CultureInfo.InvariantCulture) * double.Parse(At(price), CultureInfo.InvariantCulture);
                var id = At(invoice);
                var who = At(customer).Split('.')[0];
                country[who] = At(countryCol);
                invoices[id] = invoices.TryGetValue(id, out var p)
                    ? p with { Total = p.Total + total }
                    : new Purchase(id, who, new DateTimeOffset(DateTime.ParseExact(At(date), "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), TimeSpan.Zero), At(sku), total);
            }
        }

        var byCustomer = invoices.Values.Where(p => p.Total > 0).GroupBy(p => p.Customer).Where(g => g.Count() >= 2)
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var uk = byCustomer.Where(g => country[g.Key] == "United Kingdom").ToList();
        var other = byCustomer.Where(g => country[g.Key] != "United Kingdom").ToList();
        var ukStores = stores - 2;
        var slices = new List<Purchase>[stores];
        for (var s = 0; s < stores; s++)
        {
            var pool = s < ukStores ? uk.Where((_, i) => i % ukStores == s) : other.Where((_, i) => i % 2 == s - ukStores);
            slices[s] = [.. pool.Take(120).SelectMany(g => g).OrderBy(p => p.At).ThenBy(p => p.Invoice, StringComparer.Ordinal)];
        }
        return slices;
    }

    private static string DataFile(string dataset, string file)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared", "data", dataset, file);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"../shared/data/{dataset}/{file} not found above {AppContext.BaseDirectory} (the shared data folder beside the repository)");
    }
}
