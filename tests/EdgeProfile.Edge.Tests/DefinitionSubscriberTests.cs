using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Features;
using EdgeProfile.Hosting;
using EdgeProfile.Hub;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Edge.Tests;

/// <summary>
/// The edge's definition subscriber against a real hub over loopback gRPC: the hub's seed set, each change committed
/// at the hub, and resumption from the applied revision across hub and edge restarts.
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class DefinitionSubscriberTests
{
    private const string OperatorToken = "edge-tests-operator-token-0123456789";

    [Fact]
    public async Task Edge_receives_the_hub_seed_then_a_changed_definition_after_a_put()
    {
        using var dir = new TempDir();
        var hubPort = EdgeHost.FreePort();
        var hub = await StartHubAsync(Path.Combine(dir.Path, "hub"), hubPort);
        var sink = new RecordingSink();
        WebApplication? edge = null;
        try
        {
            edge = await StartEdgeAsync(Path.Combine(dir.Path, "edge"), hubPort, sink, await CreateTokenAsync(hub));

            var seed = await sink.WaitForRevisionAsync(1);
            Assert.Equal(DefaultFeatures.Set.Definitions.Select(FeatureSet.ToJson), seed.Definitions.Select(FeatureSet.ToJson));
            Assert.Equal(1, sink.AppliedRevision);

            var spend = DefaultFeatures.Set.Find("spend_30d")!;
            await PutAsync(hub, spend with { Window = WindowSpec.Sliding(TimeSpan.FromDays(14), TimeSpan.FromDays(1)) });
            var changed = await sink.WaitForRevisionAsync(2);
            var definition = changed.Find("spend_30d")!;
            Assert.Equal(2, definition.Version);
            Assert.Equal("spend_30d@v2", definition.Id);
            Assert.Equal(TimeSpan.FromDays(14), definition.Window.Size);
            Assert.Equal([1L, 2L], sink.Revisions);
            Assert.Equal(2, Subscriber(edge).LastReceivedRevision);
        }
        finally
        {
            await StopAsync(edge);
            await StopAsync(hub);
        }
    }

    [Fact]
    public async Task Edge_resumes_from_its_applied_revision_after_the_hub_and_the_edge_restart()
    {
        using var dir = new TempDir();
        var hubDir = Path.Combine(dir.Path, "hub");
        var edgeDir = Path.Combine(dir.Path, "edge");
        var hubPort = EdgeHost.FreePort(); // fixed, so that the restarted hub has the same address
        WebApplication? hub = await StartHubAsync(hubDir, hubPort);
        var sink = new RecordingSink();
        WebApplication? edge = null;
        try
        {
            edge = await StartEdgeAsync(edgeDir, hubPort, sink, await CreateTokenAsync(hub));
            await sink.WaitForRevisionAsync(1);
            await PutAsync(hub, DefaultFeatures.Set.Find("views_7d")! with { Owner = "merchandising" });
            await sink.WaitForRevisionAsync(2);

            // The hub goes away; the edge keeps running and keeps trying.
            (var stopping, hub) = (hub, null);
            await StopAsync(stopping);
            var subscriber = Subscriber(edge);
            await Poll.UntilAsync(() => Task.FromResult(subscriber.Connected), c => !c, "the subscriber to notice the hub is gone");
            hub = await StartHubAsync(hubDir, hubPort);
            await Poll.UntilAsync(() => Task.FromResult(subscriber.Connected), c => c, "the subscriber to reconnect", TimeSpan.FromSeconds(60));

            // It asked from revision 2, so the hub had nothing to resend: the next set it gets is the next change.
            await PutAsync(hub, DefaultFeatures.Set.Find("cart_adds_7d")! with { Description = "Cart adds, last week" });
            await sink.WaitForRevisionAsync(3);
            Assert.Equal([1L, 2L, 3L], sink.Revisions);

            // A restarted edge resumes from what its sink applied, too.
            (stopping, edge) = (edge, null);
            await StopAsync(stopping);
            edge = await StartEdgeAsync(edgeDir, hubPort, sink, enrollmentToken: null);
            subscriber = Subscriber(edge);
            await Poll.UntilAsync(() => Task.FromResult(subscriber.Connected), c => c, "the restarted edge to connect");
            using (var retire = await Operator(hub).DeleteAsync(new Uri("/api/features/returns_1d", UriKind.Relative)))
            {
                Assert.True(retire.IsSuccessStatusCode, await retire.Content.ReadAsStringAsync());
            }

            var latest = await sink.WaitForRevisionAsync(4);
            Assert.Equal([1L, 2L, 3L, 4L], sink.Revisions);
            Assert.Null(latest.Find("returns_1d"));
            Assert.Equal("merchandising", latest.Find("views_7d")!.Owner);
            Assert.Equal(2, latest.Find("cart_adds_7d")!.Version);
        }
        finally
        {
            await StopAsync(edge);
            await StopAsync(hub);
        }
    }

    [Fact]
    public async Task A_definition_changed_at_the_hub_is_served_by_the_running_edge_backfilled_from_its_log()
    {
        using var dir = new TempDir();
        var hubPort = EdgeHost.FreePort();
        var hub = await StartHubAsync(Path.Combine(dir.Path, "hub"), hubPort);
        EdgeHost? edge = null;
        try
        {
            edge = await EdgeHost.StartAsync(Path.Combine(dir.Path, "edge"), $"--Edge:HubUrl=http://127.0.0.1:{hubPort}", $"--Edge:EnrollmentToken={await CreateTokenAsync(hub)}");
            await edge.WaitForStatsAsync(s => s.GetProperty("features").GetProperty("revision").GetInt64() == 1, "the hub's seed revision served");

            using var client = await edge.ConnectAsync("pos-hub-defs");
            var now = DateTimeOffset.UtcNow;
            double babySpend = 0;
            for (var i = 0; i < 12; i++)
            {
                var e = TestEvents.Json($"hd-{i}", "L-hub", amount: 10 + i, at: now.AddMinutes(-30 + i));
                var baby = i % 3 == 0;
                e["product"]!["category"] = baby ? "Baby & Toddler > Formula" : "Home > Kitchen";
                babySpend += baby ? 10 + i : 0;
                await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), e.Bytes());
            }

            var before = await edge.ProfileAsync("loyalty:L-hub");
            Assert.DoesNotContain(before.GetProperty("features").EnumerateArray(), f => f.GetProperty("name").GetString() == "baby_spend_30d");

            // The operator adds a definition and changes another at the hub; the running edge serves both, computed
            // over the events it had logged before the change.
            await PutAsync(hub, new FeatureDefinition
            {
                Name = "baby_spend_30d",
                Window = WindowSpec.Sliding(TimeSpan.FromDays(30), TimeSpan.FromDays(1)),
                EventTypes = [EdgeProfile.Core.Events.EventType.Purchase],
                CategoryPrefix = "Baby & Toddler",
                Aggregation = new AggregationSpec { Kind = AggregationKind.Sum, Field = FeatureField.Amount },
                Ttl = TimeSpan.FromDays(30),
                Description = "Mother-and-baby spend in the last 30 days",
                Owner = "merchandising",
            });
            await PutAsync(hub, DefaultFeatures.Set.Find("purchases_7d")! with { EventTypes = [EdgeProfile.Core.Events.EventType.Purchase, EdgeProfile.Core.Events.EventType.Return] });

            var profile = await Poll.UntilAsync(
                () => edge.ProfileAsync("loyalty:L-hub"),
                p => p.GetProperty("featureSet").GetProperty("revision").GetInt64() == 3 && p.GetProperty("featureSet").GetProperty("backfillPending").GetInt64() == 0,
                "revision 3 served and backfilled at the edge",
                TimeSpan.FromSeconds(60));
            var features = profile.GetProperty("features").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!);
            Assert.Equal("baby_spend_30d@v1", features["baby_spend_30d"].GetProperty("id").GetString());
            Assert.Equal(babySpend, features["baby_spend_30d"].GetProperty("value").GetDouble(), 6);
            Assert.Equal(4, features["baby_spend_30d"].GetProperty("lineage").GetProperty("events").GetInt64());
            Assert.Equal("purchases_7d@v2", features["purchases_7d"].GetProperty("id").GetString());
            Assert.Equal(12, features["purchases_7d"].GetProperty("value").GetDouble());
        }
        finally
        {
            if (edge is not null)
            {
                await edge.DisposeAsync();
            }

            await StopAsync(hub);
        }
    }

    private static DefinitionSubscriber Subscriber(WebApplication edge) =>
        edge.Services.GetServices<IHostedService>().OfType<DefinitionSubscriber>().Single();

    private static async Task<WebApplication> StartHubAsync(string dataDir, int port)
    {
        var app = HubApp.Build(
            ["--urls", $"http://127.0.0.1:{port}", $"--Hub:DataDir={dataDir}", $"--Hub:OperatorToken={OperatorToken}", "--hostBuilder:reloadConfigOnChange=false"],
            b => b.Logging.ClearProviders());
        try
        {
            await StartupValidation.RunValidatedAsync(() => app.StartAsync());
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }

    private static async Task<WebApplication> StartEdgeAsync(string dataDir, int hubPort, RecordingSink sink, string? enrollmentToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var args = EdgeHost.Args(dataDir, EdgeHost.FreePort());
            args.Add($"--Edge:HubUrl=http://127.0.0.1:{hubPort}");
            if (enrollmentToken is not null)
            {
                args.Add($"--Edge:EnrollmentToken={enrollmentToken}");
            }

            // Registered last, so it is the IFeatureSetSink the subscriber resolves.
            var app = EdgeApp.Build([.. args], b => b.Services.AddSingleton<IFeatureSetSink>(sink));
            try
            {
                await app.StartAsync();
                return app;
            }
            catch (ConfigurationException ex) when (attempt < 5 && ex.Message.Contains("cannot be used", StringComparison.Ordinal))
            {
                // Another process took the free MQTT port between probe and bind: try another.
                await app.DisposeAsync();
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }
        }
    }

    private static async Task StopAsync(WebApplication? app)
    {
        if (app is null)
        {
            return;
        }

        try
        {
            await app.StopAsync();
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    private static HttpClient Operator(WebApplication hub)
    {
        var http = new HttpClient { BaseAddress = hub.BoundAddress(), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorToken);
        return http;
    }

    private static async Task<string> CreateTokenAsync(WebApplication hub)
    {
        using var http = Operator(hub);
        using var response = await http.PostAsJsonAsync(new Uri("/api/enrollments", UriKind.Relative), new { storeId = EdgeHost.StoreId });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
    }

    private static async Task PutAsync(WebApplication hub, FeatureDefinition definition)
    {
        using var http = Operator(hub);
        // Without the version: the registry gives a changed definition the next one.
        var json = System.Text.Json.Nodes.JsonNode.Parse(FeatureSet.ToJson(definition))!.AsObject();
        json.Remove("version");
        using var content = new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await http.PutAsync(new Uri("/api/features/" + definition.Name, UriKind.Relative), content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A sink that keeps every set it is given, in order, and applies it at once.</summary>
    private sealed class RecordingSink : IFeatureSetSink
    {
        private readonly Lock _gate = new();
        private readonly List<FeatureSet> _sets = [];
        private long _applied;

        public long AppliedRevision => Interlocked.Read(ref _applied);

        public IReadOnlyList<long> Revisions
        {
            get
            {
                lock (_gate)
                {
                    return [.. _sets.Select(s => s.Revision)];
                }
            }
        }

        public Task ApplyAsync(FeatureSet set, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                _sets.Add(set);
                Interlocked.Exchange(ref _applied, set.Revision);
            }

            return Task.CompletedTask;
        }

        public async Task<FeatureSet> WaitForRevisionAsync(long revision)
        {
            var sets = await Poll.UntilAsync(
                () =>
                {
                    lock (_gate)
                    {
                        return Task.FromResult(_sets.ToList());
                    }
                },
                s => s.Any(x => x.Revision >= revision),
                $"feature set revision {revision} at the edge",
                TimeSpan.FromSeconds(60));
            return sets.First(x => x.Revision >= revision);
        }
    }
}
