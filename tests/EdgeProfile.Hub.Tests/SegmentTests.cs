using System.Net;
using System.Net.Http.Json;
using System.Text;
using EdgeProfile.Cli;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Api;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EdgeProfile.Hub.Tests;

/// <summary>Segments at a real hub: uploads over gRPC keep membership up to date; the operator's REST API and CLI client on top.</summary>
public sealed class SegmentTests
{
    private static readonly DateTimeOffset Start = Deltas.Day + TimeSpan.FromHours(1);

    [Fact]
    public async Task Members_enter_and_leave_as_uploads_change_profiles_and_when_the_rule_changes()
    {
        var clock = new FakeTimeProvider(Start);
        await using var hub = await TestHub.StartAsync(configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(
            Spend(1, "loyalty:L-1", 50),
            Spend(2, "loyalty:L-2", 150, "vip"),
            Spend(3, "loyalty:L-3", 300, "vip"),
            Spend(4, "loyalty:L-4", 20, "vip"));

        using (var response = await PutAsync(hub, "big-spenders", "spend_30d >= 100", "spent 100 or more in 30 days"))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var created = (await response.Content.ReadFromJsonAsync<SegmentSummary>())!;
            Assert.Equal(("big-spenders", "spend_30d >= 100", "spent 100 or more in 30 days", 1L, 2L),
                (created.Name, created.Expression, created.Description, created.Version, created.Members));
            Assert.Equal(Start, created.CreatedAt);
        }

        var id1 = await IdAsync(hub, "loyalty:L-1");
        var id2 = await IdAsync(hub, "loyalty:L-2");
        var id3 = await IdAsync(hub, "loyalty:L-3");
        Assert.Equal(new[] { id2, id3 }.Order(StringComparer.Ordinal), (await MembersAsync(hub, "big-spenders")).Keys.Order(StringComparer.Ordinal));

        // L-1 spends more: it crosses the threshold with its upload, and only it changes.
        clock.Advance(TimeSpan.FromHours(1));
        await store.UploadAsync(Spend(5, "loyalty:L-1", 120));
        Assert.Equal(3, (await GetAsync(hub, "big-spenders")).Members);
        // L-2's older purchases age out of the window: it leaves.
        await store.UploadAsync(Spend(6, "loyalty:L-2", 80, "vip"));
        var members = await MembersAsync(hub, "big-spenders");
        Assert.Equal(new[] { id1, id3 }.Order(StringComparer.Ordinal), members.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Start + TimeSpan.FromHours(1), members[id1]["since"]);
        Assert.Equal(Start, members[id3]["since"]);
        Assert.Equal(2, (await GetAsync(hub, "big-spenders")).Members);

        // The operator narrows the rule: L-1 (no vip tag) leaves; L-3 stays, a member since the first version.
        clock.Advance(TimeSpan.FromHours(1));
        using (var response = await PutAsync(hub, "big-spenders", "spend_30d >= 100 and has_tag(\"vip\")", "vip big spenders"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var replaced = (await response.Content.ReadFromJsonAsync<SegmentSummary>())!;
            Assert.Equal((2L, 1L, "vip big spenders"), (replaced.Version, replaced.Members, replaced.Description));
            Assert.Equal((Start, Start + TimeSpan.FromHours(2)), (replaced.CreatedAt, replaced.UpdatedAt));
        }

        members = await MembersAsync(hub, "big-spenders");
        Assert.Equal(Start, Assert.Single(members, m => m.Key == id3).Value["since"]);
        var listed = Assert.Single((await hub.Http.GetFromJsonAsync<List<SegmentSummary>>("/api/segments"))!);
        Assert.Equal(("big-spenders", 2L, 1L), (listed.Name, listed.Version, listed.Members));

        // L-4 (vip) crosses the threshold under the new rule.
        await store.UploadAsync(Spend(7, "loyalty:L-4", 100, "vip"));
        var id4 = await IdAsync(hub, "loyalty:L-4");
        Assert.Equal(new[] { id3, id4 }.Order(StringComparer.Ordinal), (await MembersAsync(hub, "big-spenders")).Keys.Order(StringComparer.Ordinal));
        // As stored: profile ids without "ep:".
        Assert.Equal(new[] { ("big-spenders", id3[3..]), ("big-spenders", id4[3..]) }.Order(), RawMembers(hub).Order());

        // Defined again without a description: the version goes up, the description stays, the members are the same.
        using (var response = await PutJsonAsync(hub, "big-spenders", """{"expression":"spend_30d >= 100 and has_tag(\"vip\")"}"""))
        {
            var again = (await response.Content.ReadFromJsonAsync<SegmentSummary>())!;
            Assert.Equal((3L, 2L, "vip big spenders"), (again.Version, again.Members, again.Description));
        }
    }

    [Fact]
    public async Task A_merge_takes_the_absorbed_profile_out_of_every_segment()
    {
        await using var hub = await TestHub.StartAsync();
        var store1 = await hub.EnrollAsync("store-001");
        var store2 = await hub.EnrollAsync("store-002");
        await store1.UploadAsync(Deltas.Of(1, "loyalty:L-7"));
        var app = Deltas.Of(1, "app:u-7");
        app.LastChannel = "app";
        await store2.UploadAsync(app);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(hub, "customers", "visits_30d >= 1")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(hub, "app-users", "channel(\"app\")")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(hub, "repeat", "visits_30d >= 2")).StatusCode);
        var before = new[] { await IdAsync(hub, "loyalty:L-7"), await IdAsync(hub, "app:u-7") };
        Assert.Equal(3, RawMembers(hub).Count);

        // The app customer signs in with the loyalty card: the two profiles merge.
        var linked = Deltas.Of(2, "app:u-7", "app:u-7", "loyalty:L-7");
        linked.LastChannel = "app";
        await store2.UploadAsync(linked);
        var survivor = await IdAsync(hub, "app:u-7");
        Assert.Equal(survivor, await IdAsync(hub, "loyalty:L-7"));
        var absorbed = Assert.Single(before, id => id != survivor);

        var raw = RawMembers(hub);
        Assert.DoesNotContain(raw, m => m.ProfileId == absorbed[3..]);
        Assert.Equal(["app-users", "customers", "repeat"], raw.Where(m => m.ProfileId == survivor[3..]).Select(m => m.Segment).Order(StringComparer.Ordinal));
        var row = Assert.Single(await MembersAsync(hub, "customers")).Value;
        Assert.Equal((survivor, "app:u-7;loyalty:L-7", "2", "app;pos"), ((string)row["profile_id"], (string)row["identifiers"], (string)row["visits_30d"], (string)row["channels"]));
        Assert.Equal(1, (await GetAsync(hub, "app-users")).Members);
    }

    [Fact]
    public async Task Members_export_as_csv_that_parses_back_row_for_row()
    {
        var clock = new FakeTimeProvider(Start);
        await using var hub = await TestHub.StartAsync(configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        var store = await hub.EnrollAsync("store-001");
        var odd = Spend(1, "loyalty:L-1", 150.5, "vip", "say \"hi\", ok");
        odd.Identifiers.Add("app:u-1");
        odd.Visits30D = 3;
        odd.LastChannel = "app";
        var many = Deltas.Range(2, 1201);
        foreach (var d in many)
        {
            d.Spend30D = 200;
        }

        await store.UploadAsync([odd, .. many, Spend(1202, "loyalty:L-small", 5)]);
        using (var defined = await PutJsonAsync(hub, "csv", """{"expression":"spend_30d >= 100"}"""))
        {
            Assert.Equal(1201, (await defined.Content.ReadFromJsonAsync<SegmentSummary>())!.Members);
        }

        using var response = await hub.Http.GetAsync("/api/segments/csv/members.csv");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("csv.csv", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName);
        var records = ParseCsv(await response.Content.ReadAsStringAsync());
        Assert.Equal(["profile_id", "identifiers", "visits_30d", "spend_30d", "channels", "tags", "since"], records[0]);
        var rows = records.Skip(1).ToList();
        Assert.Equal(1201, rows.Count);
        Assert.Equal(rows.Select(r => r[0]).Order(StringComparer.Ordinal), rows.Select(r => r[0]));
        Assert.Equal(1201, rows.Select(r => r[0]).Distinct().Count());
        Assert.All(rows, r => Assert.Equal(7, r.Length));

        var id1 = await IdAsync(hub, "loyalty:L-1");
        var l1 = Assert.Single(rows, r => r[0] == id1);
        Assert.Equal(["app:u-1;loyalty:L-1", "3", "150.5", "app", "say \"hi\", ok;vip", "2026-11-29T11:00:00Z"], l1[1..]);
        var l500 = Assert.Single(rows, r => r[1] == "loyalty:L-500");
        Assert.Equal(["1", "200", "pos", "", "2026-11-29T11:00:00Z"], l500[2..]);
        Assert.DoesNotContain(rows, r => r[1] == "loyalty:L-small");
    }

    [Fact]
    public async Task Bad_definitions_are_400s_that_name_the_key_and_position_and_unknown_segments_404s()
    {
        await using var hub = await TestHub.StartAsync();
        using (var response = await PutAsync(hub, "big", "spend_30d >= "))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("expression: at 14: expected a value after '>='", await ErrorAsync(response));
        }

        using (var response = await PutAsync(hub, "big", "spend_30d >= 100 and hastag(\"vip\")"))
        {
            Assert.StartsWith("expression: at 22: unknown field or function 'hastag'", await ErrorAsync(response), StringComparison.Ordinal);
        }

        using (var response = await PutAsync(hub, "Big!", "spend_30d >= 100"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.StartsWith("name: 'Big!' is not a segment name", await ErrorAsync(response), StringComparison.Ordinal);
        }

        using (var response = await PutAsync(hub, new string('a', 65), "spend_30d >= 100"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        using (var response = await PutJsonAsync(hub, "big", """{"description":"no rule"}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.StartsWith("expression: required", await ErrorAsync(response), StringComparison.Ordinal);
        }

        using (var response = await PutJsonAsync(hub, "big", "spend_30d >= 100"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.StartsWith("body must be JSON", await ErrorAsync(response), StringComparison.Ordinal);
        }

        Assert.Empty((await hub.Http.GetFromJsonAsync<List<SegmentSummary>>("/api/segments"))!);
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/api/segments/big"), (HttpMethod.Delete, "/api/segments/big"), (HttpMethod.Get, "/api/segments/big/members.csv") })
        {
            using var response = await hub.Http.SendAsync(new HttpRequestMessage(method, path));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("no segment 'big' (see GET /api/segments)", await ErrorAsync(response));
        }

        using var anonymous = new HttpClient { BaseAddress = hub.Address };
        using (var response = await anonymous.GetAsync("/api/segments"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Delete_removes_the_segment_and_its_members()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Range(1, 5));
        await PutAsync(hub, "all", "visits_30d >= 1");
        await PutAsync(hub, "none", "visits_30d >= 100");
        using (var response = await hub.Http.DeleteAsync("/api/segments/all"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(("all", 5L), (await response.Content.ReadFromJsonAsync<SegmentSummary>()) is { } s ? (s.Name, s.Members) : default);
        }

        Assert.Equal("none", Assert.Single((await hub.Http.GetFromJsonAsync<List<SegmentSummary>>("/api/segments"))!).Name);
        Assert.Empty(RawMembers(hub));
        // Uploads after the delete keep working (the index dropped the deleted rule).
        await store.UploadAsync(Deltas.Range(6, 7));
        Assert.Empty(RawMembers(hub));
    }

    [Fact]
    public async Task The_cli_client_defines_lists_shows_exports_and_deletes()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Range(1, 3));
        using var client = new HubRestClient(HubRestClient.ParseHubUrl(hub.Address.AbsoluteUri), hub.App.OperatorToken());

        var (defined, _) = await client.DefineSegmentAsync("baby", "category_prefix(\"Baby\")", "stroller shoppers", CancellationToken.None);
        Assert.Equal((1L, 3L), (defined.Version, defined.Members));
        Assert.Equal("baby", Assert.Single((await client.ListSegmentsAsync(CancellationToken.None)).Segments).Name);
        Assert.Equal("stroller shoppers", (await client.GetSegmentAsync("baby", CancellationToken.None))!.Value.Segment.Description);

        using var csv = new MemoryStream();
        Assert.Equal(3, await client.ExportSegmentAsync("baby", csv, CancellationToken.None));
        Assert.Equal(4, ParseCsv(Encoding.UTF8.GetString(csv.ToArray())).Count);
        Assert.Null(await client.ExportSegmentAsync("nope", Stream.Null, CancellationToken.None));

        var error = await Assert.ThrowsAsync<CliException>(() => client.DefineSegmentAsync("baby", "category_prefix(Baby)", null, CancellationToken.None));
        Assert.Contains("400 Bad Request: expression: at 17: category_prefix takes one text in double quotes", error.Message, StringComparison.Ordinal);

        Assert.Equal(3, (await client.DeleteSegmentAsync("baby", CancellationToken.None))!.Value.Segment.Members);
        Assert.Null(await client.GetSegmentAsync("baby", CancellationToken.None));
        Assert.Null(await client.DeleteSegmentAsync("baby", CancellationToken.None));
    }

    private static ProfileDelta Spend(long sequence, string key, double spend30d, params string[] tags)
    {
        var delta = Deltas.Of(sequence, key);
        delta.Spend30D = spend30d;
        delta.Tags.Add(tags);
        return delta;
    }

    private static Task<HttpResponseMessage> PutAsync(TestHub hub, string name, string expression, string? description = null) =>
        hub.Http.PutAsJsonAsync("/api/segments/" + name, new { expression, description });

    private static Task<HttpResponseMessage> PutJsonAsync(TestHub hub, string name, string body) =>
        hub.Http.PutAsync("/api/segments/" + name, new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task<SegmentSummary> GetAsync(TestHub hub, string name) =>
        (await hub.Http.GetFromJsonAsync<SegmentSummary>("/api/segments/" + name))!;

    private static async Task<string> IdAsync(TestHub hub, string key) => (await hub.ProfileAsync(key)).ProfileId;

    private static async Task<string> ErrorAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;

    /// <summary>The exported members by profile id, each row by column name (<c>since</c> parsed).</summary>
    private static async Task<Dictionary<string, Dictionary<string, object>>> MembersAsync(TestHub hub, string name)
    {
        var records = ParseCsv(await hub.Http.GetStringAsync($"/api/segments/{name}/members.csv"));
        var header = records[0];
        return records.Skip(1).ToDictionary(
            r => r[0],
            r => header.Zip(r).ToDictionary(
                c => c.First,
                c => c.First == "since" ? (object)DateTimeOffset.Parse(c.Second, System.Globalization.CultureInfo.InvariantCulture) : c.Second),
            StringComparer.Ordinal);
    }

    /// <summary>segment_members as stored, read beside the running hub.</summary>
    private static List<(string Segment, string ProfileId)> RawMembers(TestHub hub)
    {
        using var connection = TestHub.OpenDatabase(hub.DataDir);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT segment, profile_id FROM segment_members ORDER BY segment, profile_id;";
        using var reader = command.ExecuteReader();
        var rows = new List<(string, string)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), reader.GetString(1)));
        }

        return rows;
    }

    /// <summary>An RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks; records end with CRLF.</summary>
    private static List<string[]> ParseCsv(string text)
    {
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (ch == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(ch);
                }
            }
            else if (ch == '"')
            {
                Assert.Equal(0, field.Length);
                quoted = true;
            }
            else if (ch == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (ch == '\r')
            {
                Assert.Equal('\n', text[i + 1]);
                i++;
                fields.Add(field.ToString());
                field.Clear();
                records.Add([.. fields]);
                fields.Clear();
            }
            else
            {
                Assert.NotEqual('\n', ch);
                field.Append(ch);
            }
        }

        Assert.False(quoted);
        Assert.True(fields.Count == 0 && field.Length == 0, "the last record ends with CRLF");
        return records;
    }
}
