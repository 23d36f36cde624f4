using System.Net;
using System.Text;
using System.Text.Json;

namespace EdgeProfile.Hub.Tests;

/// <summary>The knowledge graph at a real hub: the Google taxonomy imported over REST, queried in the Cypher subset.</summary>
public sealed class GraphApiTests
{
    [Fact]
    public async Task The_taxonomy_imported_over_rest_answers_subclass_path_queries_and_bad_queries_name_the_position()
    {
        await using var hub = await TestHub.StartAsync();
        var file = TaxonomyFile();
        using (var content = new StringContent(await File.ReadAllTextAsync(file), Encoding.UTF8, "text/plain"))
        using (var imported = await hub.Http.PostAsync("/api/graph/import/taxonomy", content))
        {
            var body = await imported.Content.ReadAsStringAsync();
            Assert.True(imported.StatusCode == HttpStatusCode.OK, body);
            using var doc = JsonDocument.Parse(body);
            Assert.Equal((5595, 7), (doc.RootElement.GetProperty("categories").GetInt32(), doc.RootElement.GetProperty("maxDepth").GetInt32()));
        }

        // Every category under "Baby & Toddler", by the file itself and by a variable-length path query.
        var expected = File.ReadLines(file).Skip(1)
            .Select(l => l[(l.IndexOf(" - ", StringComparison.Ordinal) + 3)..])
            .Where(path => path.StartsWith("Baby & Toddler > ", StringComparison.Ordinal))
            .Select(path => path[(path.LastIndexOf(" > ", StringComparison.Ordinal) + 3)..])
            .Order(StringComparer.Ordinal).ToList();
        var rows = await QueryAsync(hub, "MATCH (c:Category)-[:SUBCLASS_OF*1..7]->(:Category {name:'Baby & Toddler'}) RETURN c.name AS name LIMIT 5000");
        Assert.Equal(expected, rows.Select(r => r.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToList());

        // A bounded path: only children.
        var children = await QueryAsync(hub, "MATCH (c:Category)-[:SUBCLASS_OF*1]->(:Category {name:'Baby & Toddler'}) RETURN c.name AS name");
        Assert.Equal(expected.Count(n => File.ReadLines(file).Any(l => l.EndsWith("- Baby & Toddler > " + n, StringComparison.Ordinal))), children.Count);

        // Domain knowledge joins the taxonomy.
        using (var content = new StringContent("\"Baby Strollers\" needs CarSeatSafetyInfo\n", Encoding.UTF8, "text/plain"))
        using (var imported = await hub.Http.PostAsync("/api/graph/import/knowledge", content))
        {
            Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        }

        var needs = await QueryAsync(hub, "MATCH (c)-[:NEEDS]->(x) RETURN c.name AS name");
        Assert.Contains(needs, r => r.GetProperty("name").GetString() == "Baby Strollers");

        using var bad = await hub.Http.PostAsync("/api/graph/query", new StringContent("{\"query\":\"MATCH (c:Category RETURN c\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var error = JsonDocument.Parse(await bad.Content.ReadAsStringAsync());
        Assert.True(error.RootElement.GetProperty("position").GetInt32() > 0);
    }

    [Fact]
    public async Task Uploaded_deltas_become_interest_edges_under_pseudonymous_profile_ids_and_an_erasure_removes_them()
    {
        await using var hub = await TestHub.StartAsync();
        using (var content = new StringContent(await File.ReadAllTextAsync(TaxonomyFile()), Encoding.UTF8, "text/plain"))
        using (var imported = await hub.Http.PostAsync("/api/graph/import/taxonomy", content))
        {
            Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        }

        var store = await hub.EnrollAsync("store-graph");
        var stroller = Deltas.Of(1, "loyalty:L-g1");
        stroller.LastCategory = "Baby & Toddler > Baby Transport > Baby Strollers";
        var again = Deltas.Of(2, "loyalty:L-g1");
        again.LastCategory = stroller.LastCategory; // the same event's view re-sent: counted once
        var phone = Deltas.Of(3, "loyalty:L-g2");
        phone.LastCategory = "Electronics > Communications > Telephony > Mobile Phones";
        var unknown = Deltas.Of(4, "loyalty:L-g3");
        unknown.LastCategory = "Bricolage > Marteaux";
        await store.UploadAsync(stroller, again, phone, unknown);

        var profileId = (await hub.ProfileAsync("loyalty:L-g1")).ProfileId;
        List<JsonElement> rows = [];
        for (var i = 0; i < 100 && rows.Count == 0; i++)
        {
            rows = await QueryAsync(hub, "MATCH (c:Customer)-[:INTERESTED_IN]->(k)-[:SUBCLASS_OF*1..7]->(:Category {name:'Baby & Toddler'}) RETURN c, k.name AS category");
            if (rows.Count == 0)
            {
                await Task.Delay(100); // the feed writes in batches, within half a second
            }
        }

        var row = Assert.Single(rows);
        Assert.Equal("customer:" + profileId, row.GetProperty("c").GetString());
        Assert.Equal("Baby Strollers", row.GetProperty("category").GetString());
        var phones = await QueryAsync(hub, "MATCH (c:Customer)-[:INTERESTED_IN]->(:Category {name:'Mobile Phones'}) RETURN c");
        Assert.Equal("customer:" + (await hub.ProfileAsync("loyalty:L-g2")).ProfileId, Assert.Single(phones).GetProperty("c").GetString());

        // No store key in the graph: only hub profile ids.
        var customers = await QueryAsync(hub, "MATCH (c:Customer) RETURN c");
        Assert.All(customers, c => Assert.StartsWith("customer:ep:", c.GetProperty("c").GetString(), StringComparison.Ordinal));
        Assert.DoesNotContain(customers, c => c.GetProperty("c").GetString()!.Contains("L-g", StringComparison.Ordinal));

        using (var stats = JsonDocument.Parse(await hub.Http.GetStringAsync("/api/graph/stats")))
        {
            var interests = stats.RootElement.GetProperty("interests");
            Assert.Equal((2, 1, 1), (interests.GetProperty("recorded").GetInt64(), interests.GetProperty("repeated").GetInt64(), interests.GetProperty("unmatched").GetInt64()));
        }

        using (var erased = await hub.Http.PostAsync("/api/erasures", new StringContent("{\"key\":\"loyalty:L-g1\"}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, erased.StatusCode);
        }

        Assert.Empty(await QueryAsync(hub, "MATCH (c:Customer)-[:INTERESTED_IN]->(:Category {name:'Baby Strollers'}) RETURN c"));
        Assert.Single(await QueryAsync(hub, "MATCH (c:Customer)-[:INTERESTED_IN]->(:Category {name:'Mobile Phones'}) RETURN c"));
    }

    private static async Task<List<JsonElement>> QueryAsync(TestHub hub, string query)
    {
        using var response = await hub.Http.PostAsync("/api/graph/query", new StringContent(JsonSerializer.Serialize(new { query }), Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        return [.. doc.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.Clone())];
    }

    /// <summary>../shared/data/google-taxonomy beside the repository (the first folder above the binaries that has it).</summary>
    private static string TaxonomyFile()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "google-taxonomy", "taxonomy-with-ids.en-US.txt");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("the Google product taxonomy was not found: this test reads ../shared/data/google-taxonomy beside the repository");
    }
}
