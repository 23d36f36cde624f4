using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.Participant;
using EdgeProfile.IntegrationTests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// Secure aggregation through the product: a hub and five partner participants (real gRPC over loopback, real
/// TorchSharp training, the hub's SQLite file) run the same job with and without secure aggregation; the two global
/// models agree to fixed-point precision, a participant that drops after sharing its keys is removed with the others'
/// shares, and nothing the hub wrote to its database or its log holds an individual participant's vector.
/// </summary>
public sealed class SecureFederationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(240);

    [Fact]
    public async Task Secure_rounds_match_plain_rounds_survive_a_dropout_and_leave_no_individual_update_at_the_hub()
    {
        using var dir = new TempDirectory("secagg");
        var hubLog = new ConcurrentQueue<string>();
        await using var hub = await HubHost.StartAsync(dir.Sub("hub"), 0, "operator-token-0123456789abcdef", new Capture(output, hubLog));
        var db = Path.Combine(dir.Sub("hub"), "hub.db");
        var participants = new List<FederatedPartner>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                participants.Add(await FederatedPartner.StartAsync(hub, $"partner-{i + 1}", FederatedPartner.SampleHistories(seed: 100 + i), output));
            }
            await Poll.UntilAsync(() => Task.FromResult(participants.All(p => p.Runner.Connected)), Wait, "every partner to join");

            // The same job twice: once plainly, once under secure aggregation.
            var plain = await RunJobAsync(hub, Spec("plain", secure: false));
            var secure = await RunJobAsync(hub, Spec("secure", secure: true));
            Assert.Equal("completed", plain.GetProperty("state").GetString());
            Assert.Equal("completed", secure.GetProperty("state").GetString());
            foreach (var round in new[] { 1, 2 })
            {
                Assert.Equal(5, Round(secure, round).GetProperty("updates").GetInt32());
            }
            var plainGlobal = Global(db, plain.GetProperty("id").GetString()!);
            var secureGlobal = Global(db, secure.GetProperty("id").GetString()!);
            Assert.Equal(plainGlobal.Length, secureGlobal.Length);
            var worst = plainGlobal.Zip(secureGlobal, (a, b) => Math.Abs(a - b)).Max();
            output.WriteLine($"{plainGlobal.Length} parameters; largest difference plain vs secure after 2 rounds: {worst:g3}");
            Assert.True(worst < 1e-3, $"secure and plain global models differ by up to {worst}");

            // A DP job (clipped updates of weight 1) runs in the 32-bit ring: the same global model as the plain DP job
            // (the noise is negligible here), with the ring in the hub's log.
            var plainDp = await RunJobAsync(hub, Dp(Spec("plain-dp", secure: false)));
            var secureDp = await RunJobAsync(hub, Dp(Spec("secure-dp", secure: true)));
            Assert.Equal("completed", secureDp.GetProperty("state").GetString());
            var secureDpId = secureDp.GetProperty("id").GetString()!;
            Assert.Contains(hubLog, line => line.Contains($"Job {secureDpId}: round 1 attempt 1: secure aggregation over 5 participants, threshold 3, 32-bit ring", StringComparison.Ordinal));
            Assert.DoesNotContain(hubLog, line => line.Contains($"Job {secure.GetProperty("id").GetString()}: round 1 attempt 1: secure aggregation", StringComparison.Ordinal)
                && !line.Contains("64-bit ring", StringComparison.Ordinal));
            var dpWorst = Global(db, plainDp.GetProperty("id").GetString()!).Zip(Global(db, secureDpId), (a, b) => Math.Abs(a - b)).Max();
            output.WriteLine($"largest difference plain DP vs secure DP (32-bit ring) after 2 rounds: {dpWorst:g3}");
            Assert.True(dpWorst < 1e-3, $"secure (32-bit ring) and plain DP global models differ by up to {dpWorst}");

            // A partner that shares its keys in round 1 and then goes away: its masks are removed, the round completes.
            var leaver = participants[^1];
            leaver.StopOn = line => line.Contains("round 1 secagg_mask: started", StringComparison.Ordinal);
            var dropped = await RunJobAsync(hub, Spec("dropout", secure: true));
            Assert.True(dropped.GetProperty("state").GetString() == "completed", dropped.ToString());
            var round1 = Round(dropped, 1);
            Assert.Equal(4, round1.GetProperty("updates").GetInt32());
            var left = dropped.GetProperty("participation").EnumerateArray()
                .Single(p => p.GetProperty("round").GetInt32() == 1 && p.GetProperty("client").GetString() == leaver.Id);
            Assert.Equal("dropped", left.GetProperty("status").GetString());
            Assert.Contains("after sharing keys", left.GetProperty("reason").GetString(), StringComparison.Ordinal);

            // No participant's update of the secure job is in the hub's database file or log: recompute each one's
            // round-1 update independently and look for its bytes and its leading values.
            var template = EdgeProfile.Models.ModelTemplate.FromJson(Template(db, secure.GetProperty("id").GetString()!));
            var initial = EdgeProfile.Models.ModelWeightsVector.Flatten(template.Initial(1));
            var database = (await File.ReadAllBytesAsync(db)).Concat(File.Exists(db + "-wal") ? await File.ReadAllBytesAsync(db + "-wal") : []).ToArray();
            var log = string.Join('\n', hubLog);
            foreach (var p in participants.Take(4))
            {
                var rows = FederatedRows.Build(JsonSerializer.Deserialize<FederatedJobSpec>(Spec("secure", true), FederatedJobSpec.Json)!, EdgeProfile.Core.Features.DefaultFeatures.Set, p.Histories, p.Id);
                var result = EdgeProfile.Training.Federated.FederatedLocalTrainer.Train(template.ToWeights(initial), rows.Train, new EdgeProfile.Training.Federated.LocalTrainingOptions
                {
                    Epochs = 2,
                    BatchSize = 32,
                    LearningRate = 0.01,
                    Optimizer = EdgeProfile.Training.Federated.LocalOptimizer.Adam,
                    Seed = (1 * 1_000_003) + 1,
                    Threads = 1,
                });
                var bytes = MemoryMarshal.AsBytes(result.Delta.AsSpan(0, 16)).ToArray();
                Assert.True(database.AsSpan().IndexOf(bytes) < 0, $"{p.Id}'s update is in the hub database");
                var weighted = result.Delta.Take(4).Select(v => v * result.Samples).ToArray();
                Assert.True(database.AsSpan().IndexOf(MemoryMarshal.AsBytes(weighted.AsSpan()).ToArray()) < 0, $"{p.Id}'s weighted update is in the hub database");
                foreach (var value in result.Delta.Take(8).Where(v => Math.Abs(v) > 1e-4))
                {
                    Assert.DoesNotContain(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture), log, StringComparison.Ordinal);
                }
            }
        }
        finally
        {
            foreach (var p in participants)
            {
                await p.DisposeAsync();
            }
        }
    }

    private static JsonObject Spec(string name, bool secure) => new()
    {
        ["name"] = name,
        ["features"] = new JsonArray("purchases_30d", "spend_30d", "active_days_30d", "lifetime_purchases", "lifetime_spend", "days_since_last_purchase"),
        ["tasks"] = new JsonArray(new JsonObject { ["name"] = "repurchase_30d", ["kind"] = "binary", ["label"] = "purchase_next_30d" }),
        ["experts"] = 2,
        ["expertHidden"] = new JsonArray(8),
        ["towerHidden"] = new JsonArray(4),
        ["rounds"] = 2,
        ["minClients"] = 3,
        ["roundTimeoutSeconds"] = 120,
        ["localEpochs"] = 2,
        ["batchSize"] = 32,
        ["learningRate"] = 0.01,
        ["cutoffs"] = 3,
        ["cutoffStepDays"] = 14,
        ["secureAggregation"] = secure,
        ["seed"] = 1,
    };

    /// <summary>The job with differential privacy: updates clipped to norm 1, a noise multiplier too small to matter.</summary>
    private static JsonObject Dp(JsonObject spec)
    {
        spec["clipNorm"] = 1.0;
        spec["noiseMultiplier"] = 1e-9;
        return spec;
    }

    private static async Task<JsonElement> RunJobAsync(HubHost hub, JsonObject spec)
    {
        using var created = await hub.Operator.PostAsJsonAsync(new Uri("/api/fl/jobs", UriKind.Relative), spec);
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"POST /api/fl/jobs -> {(int)created.StatusCode}: {body}");
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        return await Poll.UntilAsync(async () => await hub.Operator.GetFromJsonAsync<JsonElement>(new Uri($"/api/fl/jobs/{id}", UriKind.Relative)),
            j => j.GetProperty("state").GetString() is "completed" or "failed" or "stopped", Wait, $"job {spec["name"]} to end");
    }

    private static JsonElement Round(JsonElement job, int round) =>
        job.GetProperty("roundHistory").EnumerateArray().Single(r => r.GetProperty("round").GetInt32() == round);

    private static float[] Global(string db, string job) => MemoryMarshal.Cast<byte, float>((byte[])Scalar(db, "SELECT global FROM fl_jobs WHERE id = $id", job)).ToArray();

    private static string Template(string db, string job) => (string)Scalar(db, "SELECT template FROM fl_jobs WHERE id = $id", job);

    private static object Scalar(string db, string sql, string job)
    {
        using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", job);
        return command.ExecuteScalar()!;
    }

    /// <summary>Forwards the hub's log to the test output and keeps every line.</summary>
    private sealed class Capture(ITestOutputHelper output, ConcurrentQueue<string> lines) : ITestOutputHelper
    {
        public void WriteLine(string message)
        {
            lines.Enqueue(message);
            output.WriteLine(message);
        }

        public void WriteLine(string format, params object[] args) => WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }
}
