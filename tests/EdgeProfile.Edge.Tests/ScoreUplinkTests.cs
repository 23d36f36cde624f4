using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeProfile.Edge.Log;
using EdgeProfile.Edge.Uplink;
using EdgeProfile.Hosting;
using EdgeProfile.Hub;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Tests;

/// <summary>
/// Customers' scores going up to the hub beside the deltas (<c>DeltaBatch.scores</c>): each score once, a newer one
/// again, none of a customer who withdrew consent.
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class ScoreUplinkTests
{
    private const string OperatorToken = "edge-tests-operator-token-0123456789";

    [Fact]
    public async Task An_acked_score_is_not_sent_again_and_a_newer_score_of_the_customer_is()
    {
        using var dir = new TempDir();
        var model = TestModels.Write(Path.Combine(dir.Path, "model.onnx"), version: "mmoe-up-1");
        var recorder = new UploadRecorder();
        var hubPort = EdgeHost.FreePort();
        await using var hub = await StartHubAsync(Path.Combine(dir.Path, "hub"), hubPort, recorder);
        await using var edge = await EdgeHost.StartAsync(Path.Combine(dir.Path, "edge"),
            $"--Edge:HubUrl=http://127.0.0.1:{hubPort}", $"--Edge:EnrollmentToken={await CreateTokenAsync(hub)}",
            $"--Edge:Models:File={model}", "--Edge:Models:FromHub=false",
            "--Edge:Models:Explanations:Enabled=false"); // an explanation written later sends its score again, with it
        using var client = await edge.ConnectAsync("till-1");

        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("up-1", "L-up", amount: 12));
        var first = await UploadedAsync(edge, "loyalty:L-up", after: 0);
        Assert.Equal([first], recorder.Sent("loyalty:L-up"));
        var sent = recorder.Batches.SelectMany(b => b.Scores).Single(s => s.CustomerKey == "loyalty:L-up");
        Assert.Equal("mmoe-up-1", sent.ModelVersion);
        Assert.Contains("repurchase_30d", sent.ScoresJson, StringComparison.Ordinal);

        // Another customer's activity wakes the uplink again: the acked score of L-up is not part of it.
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("up-2", "L-other", amount: 5));
        await UploadedAsync(edge, "loyalty:L-other", after: 0);
        Assert.Equal([first], recorder.Sent("loyalty:L-up"));

        // A new purchase re-scores L-up: the newer score goes up, once.
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("up-3", "L-up", amount: 30));
        var second = await UploadedAsync(edge, "loyalty:L-up", after: first);
        Assert.Equal([first, second], recorder.Sent("loyalty:L-up"));

        using var http = Operator(hub);
        var profile = await http.GetFromJsonAsync<JsonElement>(new Uri("/api/profiles/loyalty:L-up", UriKind.Relative));
        var scores = profile.GetProperty("scores").EnumerateArray().ToList();
        Assert.NotEmpty(scores);
        Assert.All(scores, s => Assert.Equal(("store-t", "mmoe-up-1", DateTimeOffset.FromUnixTimeMilliseconds(second)),
            (s.GetProperty("storeId").GetString(), s.GetProperty("model").GetString(), s.GetProperty("scoredAt").GetDateTimeOffset())));
    }

    [Fact]
    public void A_score_written_while_its_upload_was_in_flight_stays_pending_and_withdrawn_customers_scores_are_withheld()
    {
        using var dir = new TempDir();
        var db = new EdgeDatabase(Options.Create(new EdgeOptions { StoreId = "store-t", DataDir = dir.Path }));
        using var connection = db.Open();
        Put(connection, "loyalty:L-a", 1000);
        Put(connection, "loyalty:L-b", 1000);

        var (send, withheld) = ScoreUplink.Pending(connection, 10);
        Assert.Equal(["loyalty:L-a", "loyalty:L-b"], send.Select(s => s.CustomerKey).Order(StringComparer.Ordinal));
        Assert.Empty(withheld);

        // L-b is re-scored after the batch was read and before the hub's ack came back.
        Put(connection, "loyalty:L-b", 2000);
        ScoreUplink.MarkUploaded(connection, send);
        (send, _) = ScoreUplink.Pending(connection, 10);
        var pending = Assert.Single(send);
        Assert.Equal(("loyalty:L-b", 2000L), (pending.CustomerKey, pending.ScoredAtUnixMs));
        ScoreUplink.MarkUploaded(connection, send);
        Assert.Empty(ScoreUplink.Pending(connection, 10).Send);

        // Explained while its upload (without the explanation) was in flight: it stays pending and goes up again with it.
        Put(connection, "loyalty:L-b", 2500);
        (send, _) = ScoreUplink.Pending(connection, 10);
        Assert.Equal("", Assert.Single(send).ExplanationJson);
        using (var explain = connection.CreateCommand())
        {
            explain.CommandText = "UPDATE model_scores SET explanation = '{\"model\":\"v1\"}' WHERE customer_key = 'loyalty:L-b'";
            explain.ExecuteNonQuery();
        }

        ScoreUplink.MarkUploaded(connection, send);
        (send, _) = ScoreUplink.Pending(connection, 10);
        Assert.Contains("\"model\"", Assert.Single(send).ExplanationJson, StringComparison.Ordinal);
        ScoreUplink.MarkUploaded(connection, send);
        Assert.Empty(ScoreUplink.Pending(connection, 10).Send);

        // A customer who withdrew personalisation consent (as the hub pushed it down): kept at the store.
        var summary = new V1.GlobalSummary { ProfileId = "p1", Consent = new V1.ConsentWithdrawals { Personalisation = true } };
        summary.Identifiers.Add("loyalty:L-a");
        GlobalProfileStore.Apply(connection, new V1.DownlinkItem { Seq = 1, Profile = summary }, 0);
        Put(connection, "loyalty:L-a", 3000);
        Put(connection, "loyalty:L-b", 3000);
        (send, withheld) = ScoreUplink.Pending(connection, 10);
        Assert.Equal("loyalty:L-b", Assert.Single(send).CustomerKey);
        Assert.Equal("loyalty:L-a", Assert.Single(withheld).CustomerKey);
    }

    private static void Put(SqliteConnection connection, string key, long scoredAtMs)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = """
            INSERT INTO model_scores(customer_key, model_version, scored_at_ms, missing_features, scores) VALUES ($k, 'v1', $t, 0, '{"churn":0.5}')
            ON CONFLICT(customer_key) DO UPDATE SET scored_at_ms = excluded.scored_at_ms
            """;
        cmd.Parameters.AddWithValue("$k", key);
        cmd.Parameters.AddWithValue("$t", scoredAtMs);
        cmd.ExecuteNonQuery();
    }

    /// <summary>Waits until the customer's score, scored after <paramref name="after"/>, is marked as the hub's; returns its time.</summary>
    private static Task<long> UploadedAsync(EdgeHost edge, string key, long after) =>
        Poll.UntilAsync(
            () => Task.FromResult(edge.Count($"SELECT COALESCE(MAX(scored_at_ms), 0) FROM model_scores WHERE customer_key = '{key}' AND uploaded_at_ms = scored_at_ms AND scored_at_ms > {after}")),
            t => t > 0,
            $"the score of {key} uploaded");

    private static async Task<WebApplication> StartHubAsync(string dataDir, int port, UploadRecorder recorder)
    {
        var app = HubApp.Build(
            ["--urls", $"http://127.0.0.1:{port}", $"--Hub:DataDir={dataDir}", $"--Hub:OperatorToken={OperatorToken}", "--hostBuilder:reloadConfigOnChange=false"],
            b =>
            {
                b.Logging.ClearProviders();
                b.Services.AddSingleton(recorder);
                b.Services.AddGrpc(o => o.Interceptors.Add<UploadRecorder>());
            });
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

    /// <summary>Every batch the hub acknowledged, as the edge sent it.</summary>
    private sealed class UploadRecorder : Interceptor
    {
        private readonly ConcurrentQueue<V1.DeltaBatch> _batches = new();

        public IReadOnlyList<V1.DeltaBatch> Batches => [.. _batches];

        /// <summary>The scored_at of each score of <paramref name="key"/> the hub acknowledged, in order.</summary>
        public List<long> Sent(string key) => [.. Batches.SelectMany(b => b.Scores).Where(s => s.CustomerKey == key).Select(s => s.ScoredAtUnixMs)];

        public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
            UnaryServerMethod<TRequest, TResponse> continuation)
        {
            var response = await continuation(request, context);
            if (request is V1.DeltaBatch batch)
            {
                _batches.Enqueue(batch.Clone());
            }

            return response;
        }
    }
}
