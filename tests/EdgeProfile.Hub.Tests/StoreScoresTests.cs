using System.Net;
using System.Net.Http.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Api;
using Grpc.Core;

namespace EdgeProfile.Hub.Tests;

/// <summary>Each store's model scores (<c>DeltaBatch.scores</c>) on the global profile: stored, newest wins, validated, erased.</summary>
public sealed class StoreScoresTests
{
    private static readonly long At = Deltas.Day.ToUnixTimeMilliseconds();

    [Fact]
    public async Task Scores_of_every_store_show_on_the_global_profile_one_entry_per_store_and_task_over_rest_and_grpc()
    {
        await using var hub = await TestHub.StartAsync();
        var a = await hub.EnrollAsync("store-001");
        var b = await hub.EnrollAsync("store-002");
        await a.UploadAsync(Deltas.Of(1, "loyalty:L-s", "loyalty:L-s", "app:u-s"));

        // Deltas and scores in one batch; then a batch of scores only, from a store that knows the customer by its app id.
        var withDelta = new DeltaBatch { Deltas = { Deltas.Of(2, "loyalty:L-other") } };
        withDelta.Scores.Add(Scores("loyalty:L-s", "mmoe-1", At + 1000, """{"repurchase_30d":0.25,"category_propensity":[0.5,0.3,0.2]}""", missing: 1));
        var ack = await a.Uplink.UploadAsync(withDelta, a.Headers);
        Assert.Equal((2L, 1, 0), (ack.AckedThrough, ack.Applied, ack.ScoresRefused));
        await b.UploadAsync(Deltas.Of(1, "app:u-s"));
        var scoresOnly = new DeltaBatch { Scores = { Scores("app:u-s", "mmoe-2", At + 2000, """{"repurchase_30d":0.75}""") } };
        ack = await b.Uplink.UploadAsync(scoresOnly, b.Headers);
        Assert.Equal((1L, 0, 0), (ack.AckedThrough, ack.Applied, ack.ScoresRefused));
        Assert.Equal(1, await b.CursorAsync());

        var profile = await hub.ProfileAsync("loyalty:L-s");
        Assert.Equal(3, profile.Scores.Count);
        var atA = profile.Scores.Where(s => s.StoreId == "store-001").ToList();
        Assert.Equal(["repurchase_30d", "category_propensity"], atA.Select(s => s.Task));
        Assert.Equal(0.25, atA[0].Value);
        Assert.Null(atA[0].Values);
        Assert.Equal([0.5, 0.3, 0.2], atA[1].Values!);
        Assert.Null(atA[1].Value);
        Assert.All(atA, s => Assert.Equal(("mmoe-1", 1, DateTimeOffset.FromUnixTimeMilliseconds(At + 1000)), (s.Model, s.MissingFeatures, s.ScoredAt)));
        var atB = Assert.Single(profile.Scores, s => s.StoreId == "store-002");
        Assert.Equal(("repurchase_30d", 0.75, "mmoe-2"), (atB.Task, atB.Value, atB.Model));
        Assert.Contains("store-002", atB.Reason, StringComparison.Ordinal);

        // The JSON names: value for one output, values for several, never both.
        using (var raw = await hub.Http.GetAsync("/api/profiles/app:u-s"))
        {
            var json = await raw.Content.ReadAsStringAsync();
            Assert.Contains("\"scores\":[{\"storeId\":\"store-001\",\"task\":\"repurchase_30d\",\"value\":0.25,\"model\":\"mmoe-1\"", json, StringComparison.Ordinal);
            Assert.Contains("\"task\":\"category_propensity\",\"values\":[0.5,0.3,0.2],\"model\":\"mmoe-1\"", json, StringComparison.Ordinal);
        }

        var client = new OperatorProfiles.OperatorProfilesClient(hub.Channel);
        var operatorHeaders = new Metadata { { "authorization", "Bearer " + hub.Http.DefaultRequestHeaders.Authorization!.Parameter } };
        var reply = await client.GetProfileAsync(new GetProfileRequest { Key = "app:u-s" }, operatorHeaders);
        Assert.Equal(3, reply.Scores.Count);
        var multi = Assert.Single(reply.Scores, s => s.Task == "category_propensity");
        Assert.Equal(("store-001", "mmoe-1", At + 1000, 1), (multi.StoreId, multi.ModelVersion, multi.ScoredAtUnixMs, multi.MissingFeatures));
        Assert.Equal([0.5, 0.3, 0.2], multi.Values);
        Assert.Equal([0.75], Assert.Single(reply.Scores, s => s.StoreId == "store-002").Values);
    }

    [Fact]
    public async Task A_newer_score_replaces_the_stored_one_an_older_one_does_not_and_the_cached_profile_follows()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "loyalty:L-n"));
        await UploadScoresAsync(store, Scores("loyalty:L-n", "v1", At + 1000, """{"churn":0.1}"""));
        Assert.Equal(0.1, Assert.Single((await hub.ProfileAsync("loyalty:L-n")).Scores).Value);
        Assert.Equal(0.1, Assert.Single((await hub.ProfileAsync("loyalty:L-n")).Scores).Value); // now from the cache

        await UploadScoresAsync(store, Scores("loyalty:L-n", "v2", At + 5000, """{"churn":0.2}"""));
        var newer = Assert.Single((await hub.ProfileAsync("loyalty:L-n")).Scores);
        Assert.Equal((0.2, "v2"), (newer.Value, newer.Model));

        // A late retry of an older score (and, in one batch, two scores of one customer: the newest counts).
        await UploadScoresAsync(store, Scores("loyalty:L-n", "v1", At + 3000, """{"churn":0.9}"""));
        await UploadScoresAsync(store, Scores("loyalty:L-n", "v3", At + 9000, """{"churn":0.3}"""), Scores("loyalty:L-n", "v2", At + 6000, """{"churn":0.8}"""));
        var kept = Assert.Single((await hub.ProfileAsync("loyalty:L-n")).Scores);
        Assert.Equal((0.3, "v3", DateTimeOffset.FromUnixTimeMilliseconds(At + 9000)), (kept.Value, kept.Model, kept.ScoredAt));
    }

    [Fact]
    public async Task Invalid_score_entries_are_dropped_and_counted_while_the_deltas_and_valid_scores_of_the_batch_apply()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var batch = new DeltaBatch { Deltas = { Deltas.Of(1, "loyalty:L-v"), Deltas.Of(2, "loyalty:L-w") } };
        batch.Scores.Add(Scores("loyalty:L-v", "v1", At, """{"churn":0.4}"""));
        batch.Scores.Add(Scores("email:someone@example.com", "v1", At, """{"churn":0.4}"""));                // a raw identifier
        batch.Scores.Add(Scores("loyalty:L-w", "v1", At, """[0.4]"""));                                     // not an object
        batch.Scores.Add(Scores("loyalty:L-w", "v1", At, """{"churn":"high"}"""));                          // not a number
        batch.Scores.Add(Scores("loyalty:L-w", "v1", At, """{"churn":[0.1,null]}"""));                      // not numbers
        batch.Scores.Add(Scores("loyalty:L-w", "v1", At, """{"churn":1e999}"""));                           // not finite
        batch.Scores.Add(Scores("loyalty:L-w", "v1", At, "{"));                                             // not JSON
        batch.Scores.Add(Scores("loyalty:L-w", "", At, """{"churn":0.4}"""));                               // no model
        batch.Scores.Add(Scores("loyalty:L-w", "v1", DateTimeOffset.UtcNow.AddDays(3).ToUnixTimeMilliseconds(), """{"churn":0.4}""")); // the future
        batch.Scores.Add(Scores("loyalty:L-w", "v1", At, """{"churn":0.4}""", missing: -1));

        var ack = await store.Uplink.UploadAsync(batch, store.Headers);

        Assert.Equal((2L, 2, 9), (ack.AckedThrough, ack.Applied, ack.ScoresRefused));
        Assert.Equal(0.4, Assert.Single((await hub.ProfileAsync("loyalty:L-v")).Scores).Value);
        Assert.Empty((await hub.ProfileAsync("loyalty:L-w")).Scores);
    }

    [Fact]
    public async Task Scores_before_the_customers_delta_show_once_it_arrives_and_withdrawn_consent_hides_them()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "loyalty:L-c", "loyalty:L-c", "app:u-c"));
        await UploadScoresAsync(store, Scores("loyalty:L-late", "v1", At, """{"churn":0.5}"""));
        await store.UploadAsync(Deltas.Of(2, "loyalty:L-late"));
        Assert.Equal(0.5, Assert.Single((await hub.ProfileAsync("loyalty:L-late")).Scores).Value);

        await UploadScoresAsync(store, Scores("loyalty:L-c", "v1", At, """{"churn":0.6}"""));
        Assert.Single((await hub.ProfileAsync("loyalty:L-c")).Scores);
        using (var consent = await hub.Http.PutAsJsonAsync("/api/consent/app:u-c", new { personalisation = false }))
        {
            Assert.True(consent.IsSuccessStatusCode, await consent.Content.ReadAsStringAsync());
        }

        var withdrawn = await hub.ProfileAsync("loyalty:L-c");
        Assert.False(withdrawn.Consent.Personalisation);
        Assert.Empty(withdrawn.Scores);
    }

    [Fact]
    public async Task Erasure_deletes_the_customers_scores_and_later_scores_of_its_identifiers_are_not_stored()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "loyalty:L-e", "loyalty:L-e", "app:u-e"), Deltas.Of(2, "loyalty:L-keep"));
        await UploadScoresAsync(store, Scores("loyalty:L-e", "v1", At, """{"churn":0.5}"""), Scores("loyalty:L-keep", "v1", At, """{"churn":0.5}"""));
        Assert.Equal(2, CountScores(hub, "%"));

        using (var erase = await hub.Http.PostAsJsonAsync("/api/erasures", new { key = "app:u-e" }))
        {
            Assert.Equal(HttpStatusCode.Created, erase.StatusCode);
        }

        Assert.Equal(0, CountScores(hub, "loyalty:L-e"));
        await UploadScoresAsync(store, Scores("loyalty:L-e", "v1", At + 1000, """{"churn":0.7}"""));
        Assert.Equal(0, CountScores(hub, "loyalty:L-e"));
        Assert.Equal(1, CountScores(hub, "loyalty:L-keep"));
        Assert.Single((await hub.ProfileAsync("loyalty:L-keep")).Scores);

        // Scores of a key the hub has no delta of yet (so no profile): erasable all the same.
        await UploadScoresAsync(store, Scores("loyalty:L-early", "v1", At, """{"churn":0.5}"""));
        using (var erase = await hub.Http.PostAsJsonAsync("/api/erasures", new { key = "loyalty:L-early" }))
        {
            Assert.Equal(HttpStatusCode.Created, erase.StatusCode);
        }

        Assert.Equal(0, CountScores(hub, "loyalty:L-early"));
    }

    private static CustomerScores Scores(string key, string model, long atMs, string json, int missing = 0) => new()
    {
        CustomerKey = key,
        ModelVersion = model,
        ScoredAtUnixMs = atMs,
        MissingFeatures = missing,
        ScoresJson = json,
    };

    private static async Task UploadScoresAsync(StoreClient store, params CustomerScores[] scores)
    {
        var batch = new DeltaBatch();
        batch.Scores.AddRange(scores);
        var ack = await store.Uplink.UploadAsync(batch, store.Headers);
        Assert.Equal(0, ack.ScoresRefused);
    }

    private static long CountScores(TestHub hub, string keyPattern)
    {
        using var connection = TestHub.OpenDatabase(hub.DataDir);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM store_scores WHERE customer_key LIKE @k";
        var p = command.CreateParameter();
        p.ParameterName = "@k";
        p.Value = keyPattern;
        command.Parameters.Add(p);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
