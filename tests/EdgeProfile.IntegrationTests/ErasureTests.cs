using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.IntegrationTests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// <c>edgeprofile erase</c> end to end: a customer known at two stores (one of them offline during the request) is
/// removed from every table of the hub and of both edges, the offline store erases when it reconnects, every system
/// confirms, and an old event of the customer replayed afterwards is not stored.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class ErasureTests(ITestOutputHelper output)
{
    private const string OperatorToken = "it-erasure-token-0123456789";
    private const string Marker = "erase-9";

    [Fact]
    public async Task Erase_reaches_every_store_even_one_offline_and_leaves_no_row_behind()
    {
        using var dir = new TempDirectory("erase");
        await using var hub = await HubHost.StartAsync(dir.Sub("hub"), Ports.Free(), OperatorToken, output);
        var ports = new Dictionary<string, int>();
        var edges = new Dictionary<string, InProcessEdge>();
        foreach (var store in new[] { "er-1", "er-2" })
        {
            var token = await hub.CreateEnrollmentTokenAsync(store);
            ports[store] = Ports.Free();
            edges[store] = await InProcessEdge.StartAsync(store, dir.Sub(store), ports[store], output,
                $"--Edge:HubUrl={hub.Address}", $"--Edge:EnrollmentToken={token}", "--Edge:Uplink:MaxBackoff=00:00:01");
        }

        try
        {
            var at = DateTimeOffset.UtcNow.AddHours(-1);
            var old = ScenarioEvents.Build("er-1-a", "search", "er-1", "pos", at, new JsonObject { ["loyaltyId"] = "L-" + Marker }, text: "anniversary gift");
            await ScenarioEvents.PublishAsync(ports["er-1"], "er-1", old);
            await ScenarioEvents.PublishAsync(ports["er-1"], "er-1", ScenarioEvents.Build("er-1-b", "purchase", "er-1", "pos", at.AddMinutes(1), new JsonObject { ["loyaltyId"] = "L-keep-1" }, product: Gift()));
            await ScenarioEvents.PublishAsync(ports["er-2"], "er-2", ScenarioEvents.Build("er-2-a", "purchase", "er-2", "pos", at.AddMinutes(2), new JsonObject { ["loyaltyId"] = "L-" + Marker, ["appUserId"] = "u-" + Marker }, product: Gift()));
            await Poll.UntilAsync(() => hub.ProfileAsync("app:u-" + Marker), p => p is { } profile && profile.GetProperty("stores").GetArrayLength() == 2,
                TimeSpan.FromSeconds(30), "both stores' views of the customer at the hub");
            // Both stores have received the global view (so the erasure must reach that copy too).
            foreach (var store in edges.Keys)
            {
                await Poll.UntilAsync(() => edges[store].Api.ProfileAsync("loyalty:L-" + Marker),
                    p => p is { } profile && profile.TryGetProperty("global", out var g) && g.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(30), $"{store}: the pushed global view");
            }

            // er-2 goes offline; the erasure is requested meanwhile.
            await edges["er-2"].StopAsync();
            var erase = await CliProcess.RunAsync(dir.Path, TimeSpan.FromSeconds(60), "erase", "loyalty:L-" + Marker, "--json", "--hub", hub.Address.ToString(), "--token", OperatorToken);
            Assert.True(erase.ExitCode == 0, erase.Stderr);
            using var requested = JsonDocument.Parse(erase.Stdout);
            var requestId = requested.RootElement.GetProperty("requestId").GetString()!;
            Assert.Equal(2, requested.RootElement.GetProperty("identifiers").GetInt32());
            Assert.Equal(2, requested.RootElement.GetProperty("stores").GetInt32());
            Assert.Null(await hub.ProfileAsync("loyalty:L-" + Marker));

            using var http = new HttpClient { BaseAddress = hub.Address };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", OperatorToken);
            await Poll.UntilAsync(() => http.GetFromJsonAsync<JsonElement>("/api/erasures/" + requestId),
                s => s.GetProperty("confirmations").EnumerateArray().Any(c => c.GetProperty("system").GetString() == "er-1"), TimeSpan.FromSeconds(30), "er-1 to confirm");
            var pending = await http.GetFromJsonAsync<JsonElement>("/api/erasures/" + requestId);
            Assert.Equal(JsonValueKind.Null, pending.GetProperty("completedAt").ValueKind);

            // er-2 comes back (same data dir, already enrolled) and catches up.
            edges["er-2"] = await InProcessEdge.StartAsync("er-2", dir.Sub("er-2"), ports["er-2"], output, $"--Edge:HubUrl={hub.Address}", "--Edge:Uplink:MaxBackoff=00:00:01");
            var done = await Poll.UntilAsync(() => http.GetFromJsonAsync<JsonElement>("/api/erasures/" + requestId),
                s => s.GetProperty("completedAt").ValueKind != JsonValueKind.Null, TimeSpan.FromSeconds(30), "every store to confirm");
            Assert.Equal(["er-1", "er-2", "hub"], done.GetProperty("confirmations").EnumerateArray().Select(c => c.GetProperty("system").GetString()).Order(StringComparer.Ordinal));

            // A replayed old event of the customer is acknowledged but not kept.
            await ScenarioEvents.PublishAsync(ports["er-1"], "er-1", old);
            await Poll.UntilAsync(() => edges["er-1"].Api.StatsAsync(), s => s.GetProperty("eventsSuppressed").GetInt64() == 1, TimeSpan.FromSeconds(10), "the replay to be suppressed");

            // Not one row of the customer anywhere; the neighbour is untouched.
            foreach (var db in new[] { Path.Combine(dir.Sub("hub"), "hub.db"), Path.Combine(dir.Sub("er-1"), "edge.db"), Path.Combine(dir.Sub("er-2"), "edge.db") })
            {
                var leftovers = Scan(db, Marker);
                Assert.True(leftovers.Count == 0, $"{db}: {string.Join("; ", leftovers)}");
            }

            Assert.NotNull(await edges["er-1"].Api.ProfileAsync("loyalty:L-keep-1"));
            Assert.NotNull(await hub.ProfileAsync("loyalty:L-keep-1"));
            Assert.Null(await edges["er-1"].Api.ProfileAsync("loyalty:L-" + Marker));
        }
        finally
        {
            foreach (var edge in edges.Values)
            {
                await edge.DisposeAsync();
            }
        }
    }

    /// <summary>Every row of every table whose text (blobs read as UTF-8) contains <paramref name="needle"/>.</summary>
    private static List<string> Scan(string path, string needle)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=false");
        connection.Open();
        var tables = new List<string>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%';";
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var hits = new List<string>();
        foreach (var table in tables)
        {
            using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table}\";";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var text = reader.IsDBNull(i) ? "" : reader.GetValue(i) is byte[] bytes ? Encoding.UTF8.GetString(bytes) : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture);
                    if (text!.Contains(needle, StringComparison.Ordinal))
                    {
                        hits.Add($"{table}.{reader.GetName(i)}");
                    }
                }
            }
        }

        return hits;
    }

    private static JsonObject Gift() => new() { ["sku"] = "SKU-1", ["category"] = "Gifts", ["price"] = 20.0 };
}
