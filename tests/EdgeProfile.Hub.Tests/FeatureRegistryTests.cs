using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EdgeProfile.Cli;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Features;
using Grpc.Core;
using Spectre.Console;

namespace EdgeProfile.Hub.Tests;

/// <summary>The feature-definition registry: REST for operators, the gRPC push for stores, and the CLI on top.</summary>
public sealed class FeatureRegistryTests
{
    private static readonly FeatureDefinition BabySpend = new()
    {
        Name = "baby_spend_14d",
        Window = WindowSpec.Tumbling(TimeSpan.FromDays(14)),
        Aggregation = new AggregationSpec { Kind = AggregationKind.Sum, Field = FeatureField.Amount },
        EventTypes = [EventType.Purchase],
        CategoryPrefix = "Baby",
        Ttl = TimeSpan.FromDays(14),
        Description = "Money spent on baby products in fixed 14-day windows",
        Owner = "growth-team",
    };

    [Fact]
    public async Task Registry_is_seeded_with_the_default_set_as_revision_1()
    {
        await using var hub = await TestHub.StartAsync();
        var set = await CurrentAsync(hub);
        Assert.Equal(1, set.Revision);
        Assert.Equal(DefaultFeatures.Set.Definitions.Select(d => d.Name), set.Definitions.Select(d => d.Name));
        Assert.All(set.Definitions, d => Assert.Equal(1, d.Version));
        Assert.Equal(Json(DefaultFeatures.Set with { Revision = 1 }), Json(set));
    }

    [Fact]
    public async Task Put_of_a_new_name_stores_version_1_and_bumps_the_revision()
    {
        await using var hub = await TestHub.StartAsync();
        using var response = await PutAsync(hub, BabySpend);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<FeatureChangeResult>())!;
        Assert.Equal(2, result.Revision);
        Assert.Equal(new FeatureChange("baby_spend_14d", 1, "baby_spend_14d@v1", FeatureOutcome.Created), Assert.Single(result.Changes));

        var set = await CurrentAsync(hub);
        Assert.Equal(2, set.Revision);
        Assert.Equal(Json(BabySpend), Json(set.Find("baby_spend_14d")));
        Assert.Equal(DefaultFeatures.Set.Definitions.Count + 1, set.Definitions.Count);
    }

    [Fact]
    public async Task Put_of_changed_content_stores_the_next_version_with_its_lineage()
    {
        await using var hub = await TestHub.StartAsync();
        (await PutAsync(hub, BabySpend)).Dispose();
        var changed = BabySpend with { Window = WindowSpec.Tumbling(TimeSpan.FromDays(7)), Description = "Baby spend, weekly" };
        using var response = await PutAsync(hub, changed);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<FeatureChangeResult>())!;
        Assert.Equal(3, result.Revision);
        Assert.Equal(new FeatureChange("baby_spend_14d", 2, "baby_spend_14d@v2", FeatureOutcome.NewVersion), Assert.Single(result.Changes));
        Assert.Equal(Json(changed with { Version = 2 }), Json((await CurrentAsync(hub)).Find("baby_spend_14d")));

        var history = (await hub.Http.GetFromJsonAsync<FeatureHistory>("/api/features/baby_spend_14d"))!;
        Assert.Equal(2, history.Current);
        Assert.Equal("baby_spend_14d@v2", history.Id);
        Assert.False(history.Retired);
        Assert.Equal([1, 2], history.Versions.Select(v => v.Version));
        Assert.Equal([2L, 3L], history.Versions.Select(v => v.Revision));
        Assert.All(history.Versions, v => Assert.Equal("growth-team", v.Owner));
        Assert.Empty(history.Versions[0].Changes);
        Assert.Contains("window.size: 14d → 7d", history.Versions[1].Changes);
        Assert.Contains("description: Money spent on baby products in fixed 14-day windows → Baby spend, weekly", history.Versions[1].Changes);
        Assert.Equal(Json(BabySpend), Json(FeatureSet.ParseDefinition(history.Versions[0].Definition.GetRawText())));
    }

    [Fact]
    public async Task Put_of_identical_content_changes_nothing()
    {
        await using var hub = await TestHub.StartAsync();
        (await PutAsync(hub, BabySpend)).Dispose();

        // Without a version, and with the current one named.
        foreach (var body in new[] { WithoutVersion(BabySpend), FeatureSet.ToJson(BabySpend) })
        {
            using var response = await PutJsonAsync(hub, "baby_spend_14d", body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = (await response.Content.ReadFromJsonAsync<FeatureChangeResult>())!;
            Assert.Equal(2, result.Revision);
            Assert.Equal(FeatureOutcome.Unchanged, Assert.Single(result.Changes).Outcome);
        }

        // A seeded default, with its event types in another order: the same content.
        var conversion = DefaultFeatures.Set.Find("conversion_7d")!;
        using var again = await PutAsync(hub, conversion with { EventTypes = [.. conversion.EventTypes.Reverse()] });
        Assert.Equal(FeatureOutcome.Unchanged, Assert.Single((await again.Content.ReadFromJsonAsync<FeatureChangeResult>())!.Changes).Outcome);
        Assert.Equal(2, (await CurrentAsync(hub)).Revision);
        Assert.Single((await hub.Http.GetFromJsonAsync<FeatureHistory>("/api/features/baby_spend_14d"))!.Versions);
    }

    [Fact]
    public async Task Put_naming_a_version_that_does_not_follow_the_current_one_is_a_409()
    {
        await using var hub = await TestHub.StartAsync();
        (await PutAsync(hub, BabySpend)).Dispose();
        var changed = BabySpend with { Ttl = TimeSpan.FromDays(30) };

        using var stale = await PutJsonAsync(hub, "baby_spend_14d", FeatureSet.ToJson(changed with { Version = 1 }));
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Contains("baby_spend_14d@v1 exists with different content; submit version 2", await ErrorAsync(stale), StringComparison.Ordinal);

        using var skipped = await PutJsonAsync(hub, "baby_spend_14d", FeatureSet.ToJson(changed with { Version = 5 }));
        Assert.Equal(HttpStatusCode.Conflict, skipped.StatusCode);
        Assert.Contains("version: 'baby_spend_14d' is at version 1; a submitted version must be 1 (unchanged) or 2 (got 5)", await ErrorAsync(skipped), StringComparison.Ordinal);

        using var newName = await PutJsonAsync(hub, "other_feature", FeatureSet.ToJson(changed with { Name = "other_feature", Version = 3 }));
        Assert.Equal(HttpStatusCode.Conflict, newName.StatusCode);
        Assert.Contains("version must be 1", await ErrorAsync(newName), StringComparison.Ordinal);

        Assert.Equal(2, (await CurrentAsync(hub)).Revision);

        using var next = await PutJsonAsync(hub, "baby_spend_14d", FeatureSet.ToJson(changed with { Version = 2 }));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal("baby_spend_14d@v2", Assert.Single((await next.Content.ReadFromJsonAsync<FeatureChangeResult>())!.Changes).Id);
    }

    [Theory]
    [InlineData("""{"window":{"kind":"sliding","size":"30d","hop":"7d"},"aggregation":{"kind":"count"}}""", "window.hop")]
    [InlineData("""{"window":{"kind":"lifetime"},"aggregation":{"kind":"sum","field":"sku"}}""", "aggregation.field")]
    [InlineData("""{"window":{"kind":"lifetime"},"aggregation":{"kind":"count"},"ttl":"soon"}""", "'soon' is not a duration")]
    [InlineData("""{"window":{"kind":"lifetime"}}""", "aggregation")]
    [InlineData("""{"name":"something_else","window":{"kind":"lifetime"},"aggregation":{"kind":"count"}}""", "name: 'something_else' differs from the name in the URL ('new_feature')")]
    [InlineData("""[1,2]""", "$: the body must be one feature definition")]
    [InlineData("""{"window": """, "not valid JSON")]
    public async Task Invalid_definition_is_a_400_naming_the_key(string body, string error)
    {
        await using var hub = await TestHub.StartAsync();
        using var response = await PutJsonAsync(hub, "new_feature", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(error, await ErrorAsync(response), StringComparison.Ordinal);
        Assert.Equal(1, (await CurrentAsync(hub)).Revision);
    }

    [Fact]
    public async Task Invalid_name_in_the_url_is_a_400_naming_the_key()
    {
        await using var hub = await TestHub.StartAsync();
        using var response = await PutJsonAsync(hub, "Bad-Name", """{"window":{"kind":"lifetime"},"aggregation":{"kind":"count"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("name: 'Bad-Name' must be", await ErrorAsync(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/api/features")]
    [InlineData("GET", "/api/features/spend_30d")]
    [InlineData("PUT", "/api/features/spend_30d")]
    [InlineData("DELETE", "/api/features/spend_30d")]
    [InlineData("POST", "/api/features")]
    public async Task Feature_api_without_the_operator_token_is_a_401(string method, string path)
    {
        await using var hub = await TestHub.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = hub.Address };
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(FeatureSet.ToJson(BabySpend)) };
        using var response = await anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-operator-token");
        using var again = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(FeatureSet.ToJson(BabySpend)) };
        using var wrong = await anonymous.SendAsync(again);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        var set = await CurrentAsync(hub);
        Assert.Equal(1, set.Revision);
        Assert.NotNull(set.Find("spend_30d"));
    }

    [Fact]
    public async Task Delete_retires_a_name_and_a_put_brings_it_back()
    {
        await using var hub = await TestHub.StartAsync();
        using var deleted = await hub.Http.DeleteAsync("/api/features/spend_30d");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var result = (await deleted.Content.ReadFromJsonAsync<FeatureChangeResult>())!;
        Assert.Equal(2, result.Revision);
        Assert.Equal(new FeatureChange("spend_30d", 1, "spend_30d@v1", FeatureOutcome.Retired), Assert.Single(result.Changes));

        var set = await CurrentAsync(hub);
        Assert.Equal(2, set.Revision);
        Assert.Null(set.Find("spend_30d"));
        var history = (await hub.Http.GetFromJsonAsync<FeatureHistory>("/api/features/spend_30d"))!;
        Assert.True(history.Retired);
        Assert.NotNull(history.RetiredAt);

        // Retiring again changes nothing; an unknown name is a 404.
        using var twice = await hub.Http.DeleteAsync("/api/features/spend_30d");
        Assert.Equal(FeatureOutcome.Unchanged, Assert.Single((await twice.Content.ReadFromJsonAsync<FeatureChangeResult>())!.Changes).Outcome);
        using var unknown = await hub.Http.DeleteAsync("/api/features/never_registered");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var unknownGet = await hub.Http.GetAsync("/api/features/never_registered");
        Assert.Equal(HttpStatusCode.NotFound, unknownGet.StatusCode);
        Assert.Contains("no feature 'never_registered'", await ErrorAsync(unknownGet), StringComparison.Ordinal);

        // The same content again restores it at its version; the set keeps the registration order.
        using var restored = await PutAsync(hub, DefaultFeatures.Set.Find("spend_30d")!);
        Assert.Equal(new FeatureChange("spend_30d", 1, "spend_30d@v1", FeatureOutcome.Restored), Assert.Single((await restored.Content.ReadFromJsonAsync<FeatureChangeResult>())!.Changes));
        set = await CurrentAsync(hub);
        Assert.Equal(3, set.Revision);
        Assert.Equal(DefaultFeatures.Set.Definitions.Select(d => d.Name), set.Definitions.Select(d => d.Name));
    }

    [Fact]
    public async Task Bulk_post_applies_each_definition_with_one_revision_bump()
    {
        await using var hub = await TestHub.StartAsync();
        var spend = DefaultFeatures.Set.Find("spend_7d")!;
        var bulk = new FeatureSet
        {
            Revision = 99, // ignored: the registry numbers revisions
            // Exported sets name versions: a change must name the next one.
            Definitions = [BabySpend, spend with { Owner = "finance", Version = 2 }, DefaultFeatures.Set.Find("views_7d")!],
        };
        using var response = await hub.Http.PostAsync("/api/features", new StringContent(bulk.ToJson(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<FeatureChangeResult>())!;
        Assert.Equal(2, result.Revision);
        Assert.Equal(
            [("baby_spend_14d@v1", FeatureOutcome.Created), ("spend_7d@v2", FeatureOutcome.NewVersion), ("views_7d@v1", FeatureOutcome.Unchanged)],
            result.Changes.Select(c => (c.Id, c.Outcome)));

        // A set built on an old export: spend_7d at v1 conflicts with the stored v2, so nothing of it is applied.
        var stale = new FeatureSet { Definitions = [BabySpend with { Name = "another_one" }, spend with { Owner = "ops" }] };
        using var conflict = await hub.Http.PostAsync("/api/features", new StringContent(stale.ToJson(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.StartsWith("definitions[1].version: 'spend_7d' is at version 2; a submitted version must be 2 (unchanged) or 3 (got 1)", await ErrorAsync(conflict), StringComparison.Ordinal);

        // A broken set names the definition and key; one definition alone is accepted too.
        using var broken = await hub.Http.PostAsync("/api/features", new StringContent(
            """{"definitions":[{"name":"ok_one","window":{"kind":"lifetime"},"aggregation":{"kind":"count"}},{"name":"bad_one","window":{"kind":"tumbling","size":"0s"},"aggregation":{"kind":"count"}}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Contains("definitions[1].window.size", await ErrorAsync(broken), StringComparison.Ordinal);
        using var single = await hub.Http.PostAsync("/api/features", new StringContent(WithoutVersion(BabySpend with { Name = "single_one" })));
        Assert.Equal(FeatureOutcome.Created, Assert.Single((await single.Content.ReadFromJsonAsync<FeatureChangeResult>())!.Changes).Outcome);

        var set = await CurrentAsync(hub);
        Assert.Equal(3, set.Revision);
        Assert.Null(set.Find("another_one"));
        Assert.Null(set.Find("ok_one"));
        Assert.Equal("finance", set.Find("spend_7d")!.Owner);
    }

    [Fact]
    public async Task Registry_keeps_its_revision_and_versions_across_a_restart()
    {
        var dataDir = TestHub.NewDataDir();
        try
        {
            await using (var hub = await TestHub.StartAsync(dataDir))
            {
                (await PutAsync(hub, BabySpend)).Dispose();
                (await PutAsync(hub, BabySpend with { Owner = "someone" })).Dispose();
            }

            await using var again = await TestHub.StartAsync(dataDir);
            var set = await CurrentAsync(again);
            Assert.Equal(3, set.Revision);
            Assert.Equal(2, set.Find("baby_spend_14d")!.Version);
            Assert.Equal(DefaultFeatures.Set.Definitions.Count + 1, set.Definitions.Count);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Data_dir_of_a_hub_without_the_registry_is_upgraded_and_seeded()
    {
        var dataDir = TestHub.NewDataDir();
        try
        {
            // A SQLite file's upgrade path (PostgreSQL support started at schema version 3).
            await using (var hub = await TestHub.StartAsync(dataDir, ["--Hub:Storage=sqlite"]))
            {
                await hub.EnrollAsync("store-001");
            }

            // Back to schema version 1, as a hub from before the registry (and identity rules) left it.
            using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDir, "hub.db")};Pooling=false"))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = """
                    DROP TABLE feature_definitions; DROP TABLE feature_names; DROP TABLE feature_registry;
                    DROP TABLE identity_links; DROP TABLE identity_separations; DROP TABLE identity_audit; DROP TABLE downlink; DROP TABLE segments; DROP TABLE segment_members; DROP TABLE erasures; DROP TABLE erasure_confirmations; DROP TABLE suppressed_keys; DROP TABLE consents;
                    DROP TABLE models; DROP TABLE model_deployments; DROP TABLE model_status; DROP TABLE store_scores; DROP TABLE fl_jobs; DROP TABLE fl_rounds; DROP TABLE fl_participation; DROP TABLE model_importance; DROP TABLE rule_sets;
                    DROP TABLE recommenders; DROP TABLE recommender_publications; ALTER TABLE store_profiles DROP COLUMN items; DROP TABLE operator_accounts; DROP TABLE audit_log; ALTER TABLE stores DROP COLUMN events_stored; ALTER TABLE stores DROP COLUMN dead_lettered; ALTER TABLE stores DROP COLUMN late_events; ALTER TABLE stores DROP COLUMN duplicates; ALTER TABLE stores DROP COLUMN counters_at; ALTER TABLE stores DROP COLUMN rate_events; ALTER TABLE stores DROP COLUMN rate_at; ALTER TABLE stores DROP COLUMN ingest_per_min;
                    ALTER TABLE store_profiles DROP COLUMN searches; ALTER TABLE stores DROP COLUMN downlink_seq; ALTER TABLE stores DROP COLUMN downlink_acked;
                    PRAGMA user_version = 1;
                    """;
                command.ExecuteNonQuery();
            }

            await using var upgraded = await TestHub.StartAsync(dataDir, ["--Hub:Storage=sqlite"]);
            var set = await CurrentAsync(upgraded);
            Assert.Equal(1, set.Revision);
            Assert.Equal(DefaultFeatures.Set.Definitions.Count, set.Definitions.Count);
            Assert.Equal("store-001", Assert.Single(await upgraded.StoresAsync()).StoreId);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Enrolled_store_watching_gets_the_current_set_then_each_committed_change()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var registry = new Contracts.V1.FeatureRegistry.FeatureRegistryClient(hub.Channel);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        using var watch = registry.WatchDefinitions(new WatchDefinitionsRequest { KnownRevision = 0 }, store.Headers, cancellationToken: cts.Token);
        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
        var first = watch.ResponseStream.Current;
        Assert.Equal(1, first.Revision);
        Assert.Equal(Json(DefaultFeatures.Set with { Revision = 1 }), Json(FeatureSet.Parse(first.FeatureSetJson)));

        (await PutAsync(hub, BabySpend)).Dispose();
        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
        var second = watch.ResponseStream.Current;
        Assert.Equal(2, second.Revision);
        Assert.Equal(Json(BabySpend), Json(FeatureSet.Parse(second.FeatureSetJson).Find("baby_spend_14d")));

        (await hub.Http.DeleteAsync("/api/features/baby_spend_14d")).Dispose();
        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(3, watch.ResponseStream.Current.Revision);
        Assert.Null(FeatureSet.Parse(watch.ResponseStream.Current.FeatureSetJson).Find("baby_spend_14d"));

        var once = await registry.GetDefinitionsAsync(new GetDefinitionsRequest(), store.Headers);
        Assert.Equal(3, once.Revision);
    }

    [Fact]
    public async Task Watcher_that_knows_the_current_revision_gets_only_the_next_one()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var registry = new Contracts.V1.FeatureRegistry.FeatureRegistryClient(hub.Channel);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        using var watch = registry.WatchDefinitions(new WatchDefinitionsRequest { KnownRevision = 1 }, store.Headers, cancellationToken: cts.Token);
        var headers = await watch.ResponseHeadersAsync;
        Assert.Equal("1", headers.GetValue("x-ep-revision"));
        (await PutAsync(hub, BabySpend)).Dispose();
        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(2, watch.ResponseStream.Current.Revision);
    }

    [Fact]
    public async Task Unenrolled_or_revoked_caller_cannot_read_definitions()
    {
        await using var hub = await TestHub.StartAsync();
        var registry = new Contracts.V1.FeatureRegistry.FeatureRegistryClient(hub.Channel);

        var anonymous = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = registry.WatchDefinitions(new WatchDefinitionsRequest());
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);

        var stranger = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = registry.WatchDefinitions(new WatchDefinitionsRequest(), StoreClient.As("store-999", "not-a-credential"));
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });
        Assert.Equal(StatusCode.Unauthenticated, stranger.StatusCode);
        Assert.Contains("not enrolled", stranger.Status.Detail, StringComparison.Ordinal);

        var store = await hub.EnrollAsync("store-001");
        (await hub.Http.PostAsync("/api/stores/store-001/revoke", null)).Dispose();
        var revoked = await Assert.ThrowsAsync<RpcException>(() => registry.GetDefinitionsAsync(new GetDefinitionsRequest(), store.Headers).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, revoked.StatusCode);
    }

    [Fact]
    public async Task Cli_lists_describes_and_registers_against_the_hub()
    {
        await using var hub = await TestHub.StartAsync();
        var dir = Directory.CreateTempSubdirectory("ep-cli-features-");
        try
        {
            string[] connection = ["--hub", hub.Address.AbsoluteUri, "--token", hub.App.OperatorToken()];

            // register: a set with one new definition and one unchanged default.
            var file = Path.Combine(dir.FullName, "definitions.json");
            await File.WriteAllTextAsync(file, new FeatureSet { Definitions = [BabySpend, DefaultFeatures.Set.Find("views_7d")!] }.ToJson());
            var (code, output) = await CliAsync(["features", "register", file, .. connection]);
            Assert.True(code == 0, output);
            Assert.Contains("baby_spend_14d@v1", output, StringComparison.Ordinal);
            Assert.Contains("new", output, StringComparison.Ordinal);
            Assert.Contains("unchanged", output, StringComparison.Ordinal);
            Assert.Contains("Registry revision 2: 1 new, 1 unchanged", output, StringComparison.Ordinal);

            // A changed single definition without a version: the next version.
            var single = Path.Combine(dir.FullName, "baby.json");
            await File.WriteAllTextAsync(single, WithoutVersion(BabySpend with { Window = WindowSpec.Tumbling(TimeSpan.FromDays(7)) }));
            (code, output) = await CliAsync(["features", "register", single, "--json", .. connection]);
            Assert.True(code == 0, output);
            var registered = JsonNode.Parse(output)!;
            Assert.Equal(3, (long)registered["revision"]!);
            Assert.Equal("new_version", (string?)registered["changes"]![0]!["outcome"]);

            // Broken files: bad JSON is refused before anything is sent, naming the file; a bad definition by the hub, naming the key.
            var broken = Path.Combine(dir.FullName, "broken.json");
            await File.WriteAllTextAsync(broken, """{"name":"x_1","window":""");
            (code, output) = await CliAsync(["features", "register", broken, .. connection]);
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains("broken.json: not valid JSON", output, StringComparison.Ordinal);
            await File.WriteAllTextAsync(broken, """{"name":"x_1","window":{"kind":"lifetime"},"aggregation":{"kind":"mean","field":"sku"}}""");
            (code, output) = await CliAsync(["features", "register", broken, .. connection]);
            Assert.Equal(ExitCodes.Failed, code);
            Assert.Contains("400", output, StringComparison.Ordinal);
            Assert.Contains("aggregation.field: mean needs a numeric field", output, StringComparison.Ordinal);

            // list: the table carries the revision in its title and one row per definition.
            (code, output) = await CliAsync(["features", "list", .. connection]);
            Assert.True(code == 0, output);
            Assert.Contains("revision 3", output, StringComparison.Ordinal);
            Assert.Contains("baby_spend_14d", output, StringComparison.Ordinal);
            Assert.Contains("sum(amount)", output, StringComparison.Ordinal);
            Assert.Contains("growth-team", output, StringComparison.Ordinal);
            (code, output) = await CliAsync(["features", "list", "--json", .. connection]);
            Assert.True(code == 0, output);
            Assert.Equal(3, FeatureSet.Parse(output).Revision);

            // describe: the definition in full and its lineage with the field diff.
            (code, output) = await CliAsync(["features", "describe", "baby_spend_14d", .. connection]);
            Assert.True(code == 0, output);
            foreach (var expected in new[]
                     {
                         "baby_spend_14d@v2", "Money spent on baby products", "growth-team", "customer", "tumbling 7d", "sum(amount)",
                         "event types: purchase; category: Baby", "14d after the last contributing event", "baby_spend_14d@v1", "first version",
                         "window.size: 14d → 7d",
                     })
            {
                Assert.Contains(expected, output, StringComparison.Ordinal);
            }

            (code, output) = await CliAsync(["features", "describe", "nothing_here", .. connection]);
            Assert.Equal(ExitCodes.Failed, code);

            // HubRestClient directly, as scripts built on it would.
            using var client = new HubRestClient(HubRestClient.ParseHubUrl(hub.Address.AbsoluteUri), hub.App.OperatorToken());
            var (history, _) = (await client.GetFeatureAsync("baby_spend_14d", CancellationToken.None))!.Value;
            Assert.Equal(2, history.Current);
            Assert.Null(await client.GetFeatureAsync("nothing_here", CancellationToken.None));
            var conflict = await Assert.ThrowsAsync<CliException>(() => client.RegisterFeaturesAsync(FeatureSet.ToJson(BabySpend with { Owner = "x" }), CancellationToken.None));
            Assert.Contains("409", conflict.Message, StringComparison.Ordinal);
            Assert.Contains("'baby_spend_14d' is at version 2", conflict.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<FeatureSet> CurrentAsync(TestHub hub) => FeatureSet.Parse(await hub.Http.GetStringAsync("/api/features"));

    private static Task<HttpResponseMessage> PutAsync(TestHub hub, FeatureDefinition definition) =>
        PutJsonAsync(hub, definition.Name, WithoutVersion(definition));

    private static Task<HttpResponseMessage> PutJsonAsync(TestHub hub, string name, string body) =>
        hub.Http.PutAsync("/api/features/" + name, new StringContent(body, Encoding.UTF8, "application/json"));

    private static string WithoutVersion(FeatureDefinition definition)
    {
        var node = JsonNode.Parse(FeatureSet.ToJson(definition))!.AsObject();
        node.Remove("version");
        return node.ToJsonString();
    }

    private static string Json(FeatureSet set) => set.ToJson();

    private static string Json(FeatureDefinition? definition) => definition is null ? "(none)" : FeatureSet.ToJson(definition);

    private static async Task<string> ErrorAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;

    /// <summary>Runs the CLI in-process with its standard output and Spectre console captured (the tests of this class run one at a time).</summary>
    private static async Task<(int Code, string Output)> CliAsync(string[] args)
    {
        var outWriter = new StringWriter();
        var errWriter = new StringWriter();
        var (stdout, stderr, console) = (Console.Out, Console.Error, AnsiConsole.Console);
        Console.SetOut(outWriter);
        Console.SetError(errWriter);
        var captured = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(outWriter),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        captured.Profile.Width = 240;
        AnsiConsole.Console = captured;
        try
        {
            var code = await CliApp.BuildRootCommand().Parse(args)
                .InvokeAsync(new System.CommandLine.InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
            return (code, outWriter.ToString() + errWriter.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            AnsiConsole.Console = console;
        }
    }
}
