using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Api;

namespace EdgeProfile.Hub.Tests;

/// <summary>Erasure at the hub: what goes, what is kept, and uploads after it.</summary>
public sealed class ErasureHubTests
{
    [Fact]
    public async Task Erased_identifiers_do_not_come_back_with_later_uploads_and_tombstones_only_advance_the_cursor()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "loyalty:L-9", "loyalty:L-9", "app:u-9"), Deltas.Of(2, "loyalty:L-10"));

        using var response = await hub.Http.PostAsJsonAsync("/api/erasures", new { key = "app:u-9" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var status = (await response.Content.ReadFromJsonAsync<ErasureStatus>())!;
        Assert.Equal((2, 1), (status.Identifiers, status.Stores));
        Assert.Equal("hub", Assert.Single(status.Confirmations).System);
        Assert.Null(status.CompletedAt);
        using (var gone = await hub.Http.GetAsync("/api/profiles/loyalty:L-9"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        // The store's outbox still held a delta of the customer (now a tombstone), then it sends the customer again.
        var ack = await store.UploadAsync(new ProfileDelta { Sequence = 3, Tombstone = true }, Deltas.Of(4, "loyalty:L-9", "loyalty:L-9", "app:u-9"), Deltas.Of(5, "loyalty:L-11"));
        Assert.Equal(5, ack.AckedThrough);
        using (var still = await hub.Http.GetAsync("/api/profiles/app:u-9"))
        {
            Assert.Equal(HttpStatusCode.NotFound, still.StatusCode);
        }

        Assert.NotNull(await hub.ProfileAsync("loyalty:L-10"));
        Assert.NotNull(await hub.ProfileAsync("loyalty:L-11"));

        using var again = await hub.Http.PostAsJsonAsync("/api/erasures", new { key = "loyalty:L-9" });
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        using var bad = await hub.Http.PostAsJsonAsync("/api/erasures", new { key = "nonsense" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("key:", (await bad.Content.ReadFromJsonAsync<ErrorResponse>())!.Error, StringComparison.Ordinal);
        var kept = await hub.Http.GetFromJsonAsync<ErasureStatus>("/api/erasures/" + status.RequestId);
        Assert.Equal(status.RequestId, kept!.RequestId);
    }

    [Fact]
    public async Task After_an_erasure_no_row_of_the_customer_remains_in_any_hub_table()
    {
        const string Marker = "QZX7";
        await using var hub = await TestHub.StartAsync();
        var a = await hub.EnrollAsync("store-001");
        var b = await hub.EnrollAsync("store-002");
        using (var define = await hub.Http.PutAsJsonAsync("/api/segments/seen", new { expression = "visits_30d >= 1" }))
        {
            Assert.True(define.IsSuccessStatusCode, await define.Content.ReadAsStringAsync());
        }

        // The customer at two stores (merged through the loyalty id), with a search, a consent withdrawal, a link the
        // loyalty limit rejects (the other loyalty id is someone else's, and stays), and a neighbour who must stay.
        var atA = Deltas.Of(1, $"loyalty:L-{Marker}", $"loyalty:L-{Marker}", $"app:u-{Marker}");
        atA.Searches.Add(new SearchNote { Text = $"backpack {Marker}", AtUnixMs = Deltas.Day.ToUnixTimeMilliseconds(), Channel = "app" });
        await a.UploadAsync(atA, Deltas.Of(2, "loyalty:L-keep"));
        await b.UploadAsync(Deltas.Of(1, $"loyalty:L-{Marker}", $"loyalty:L-{Marker}", $"device:d-{Marker}"));
        await b.UploadAsync(Deltas.Of(2, $"device:d-{Marker}", $"device:d-{Marker}", "loyalty:L-other"));
        using (var consent = await hub.Http.PutAsJsonAsync($"/api/consent/app:u-{Marker}", new { training = false }))
        {
            Assert.True(consent.IsSuccessStatusCode);
        }

        var before = await ScanAsync(hub.DataDir, Marker);
        Assert.Contains(before, hit => hit.StartsWith("identity_links.", StringComparison.Ordinal));
        Assert.Contains(before, hit => hit.StartsWith("store_profiles.", StringComparison.Ordinal));
        Assert.Contains(before, hit => hit.StartsWith("consents.", StringComparison.Ordinal));

        ErasureStatus status;
        using (var erase = await hub.Http.PostAsJsonAsync("/api/erasures", new { key = $"app:u-{Marker}" }))
        {
            Assert.Equal(HttpStatusCode.Created, erase.StatusCode);
            status = (await erase.Content.ReadFromJsonAsync<ErasureStatus>())!;
        }

        // Until each store confirms, its erase order (which names the identifiers) waits in its downlink queue.
        Assert.Equal(["downlink.payload", "downlink.payload"], await ScanAsync(hub.DataDir, Marker));
        var downlink = new Contracts.V1.Downlink.DownlinkClient(hub.Channel);
        foreach (var store in new[] { a, b })
        {
            await downlink.ConfirmErasureAsync(new ErasureConfirmation { RequestId = status.RequestId }, store.Headers);
        }

        var after = await ScanAsync(hub.DataDir, Marker);
        Assert.True(after.Count == 0, "left behind: " + string.Join("; ", after));
        Assert.NotNull((await hub.Http.GetFromJsonAsync<ErasureStatus>("/api/erasures/" + status.RequestId))!.CompletedAt);
        Assert.NotNull(await hub.ProfileAsync("loyalty:L-keep"));
        Assert.NotNull(await hub.ProfileAsync("loyalty:L-other"));
    }

    /// <summary>Every table.column of the hub's database (either backend) whose text, or blob read as UTF-8, contains <paramref name="needle"/>.</summary>
    private static async Task<List<string>> ScanAsync(string dataDir, string needle)
    {
        await using var connection = TestHub.OpenDatabase(dataDir);
        var tables = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = TestHub.OnPostgres
                ? "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE';"
                : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%';";
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.Contains("identity_keys", tables);
        var hits = new List<string>();
        foreach (var table in tables)
        {
            await using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table}\";";
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.IsDBNull(i) ? "" : reader.GetValue(i);
                    var text = value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
                    if (text.Contains(needle, StringComparison.Ordinal))
                    {
                        hits.Add($"{table}.{reader.GetName(i)}");
                    }
                }
            }
        }

        return hits;
    }
}
