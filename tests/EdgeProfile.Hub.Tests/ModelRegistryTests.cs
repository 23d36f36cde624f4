using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Models;
using EdgeProfile.Models;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Serving;
using Google.Protobuf;
using Grpc.Core;

namespace EdgeProfile.Hub.Tests;

/// <summary>The model registry at a real hub: REST for operators, gRPC ModelDistribution for stores.</summary>
public sealed class ModelRegistryTests
{
    /// <summary>Numeric features of the hub's default registry (<c>DefaultFeatures.Set</c>).</summary>
    private static readonly string[] Features = ["purchases_30d", "spend_30d", "events_7d"];

    /// <summary>Download chunk size: models.proto promises chunks of at most 1 MiB.</summary>
    private const int ChunkBytes = 1024 * 1024;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Register_answers_201_with_the_file_identity_then_200_for_the_same_file_and_409_for_other_content()
    {
        await using var hub = await TestHub.StartAsync();
        Assert.Empty((await hub.Http.GetFromJsonAsync<List<ModelSummary>>("/api/models"))!);
        var m1 = Model("m-1", Features, seed: 1);

        using var created = await RegisterAsync(hub, m1, "first try");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var model = (await created.Content.ReadFromJsonAsync<ModelSummary>())!;
        Assert.Equal("m-1", model.Version);
        Assert.Equal(ModelArtifact.Sha256Of(m1), model.Sha256);
        Assert.Equal(m1.Length, model.Size);
        Assert.Equal(Features, model.Features);
        Assert.Equal("repurchase_30d", (string?)model.Tasks![0]!["name"]);
        Assert.Equal(0.71, (double)model.Metrics!["repurchase_30d"]!["auc"]!);
        Assert.Equal("first try", model.Description);
        Assert.Equal("operator", model.CreatedBy);
        Assert.Empty(model.AssignedTo);

        using var again = await RegisterAsync(hub, m1);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(model.Sha256, (await again.Content.ReadFromJsonAsync<ModelSummary>())!.Sha256);

        var other = Model("m-1", Features, seed: 2);
        using var conflict = await RegisterAsync(hub, other);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        var error = await ErrorAsync(conflict);
        Assert.Contains("version m-1 is registered with other content", error, StringComparison.Ordinal);
        Assert.Contains($"sha256 {model.Sha256[..12]}", error, StringComparison.Ordinal);
        Assert.Contains($"this file {ModelArtifact.Sha256Of(other)[..12]}", error, StringComparison.Ordinal);

        var m2 = Model("m-2", ["events_7d", "spend_30d"], seed: 3);
        using (var second = await RegisterAsync(hub, m2))
        {
            Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        }

        var list = (await hub.Http.GetFromJsonAsync<List<ModelSummary>>("/api/models"))!;
        Assert.Equal(["m-1", "m-2"], list.Select(m => m.Version).Order(StringComparer.Ordinal));
        Assert.Equal(["events_7d", "spend_30d"], list.Single(m => m.Version == "m-2").Features);
        Assert.Equal(model.Sha256, (await hub.Http.GetFromJsonAsync<ModelSummary>("/api/models/m-1"))!.Sha256);

        Assert.Equal(m1, await hub.Http.GetByteArrayAsync("/api/models/m-1/onnx"));
        Assert.Equal(m2, await hub.Http.GetByteArrayAsync("/api/models/m-2/onnx"));
        using var missing = await hub.Http.GetAsync("/api/models/m-9/onnx");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("model m-9 is not registered (see GET /api/models)", await ErrorAsync(missing));
    }

    [Fact]
    public async Task Unusable_files_are_refused_with_400_naming_the_problem()
    {
        await using var hub = await TestHub.StartAsync();
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        var unlisted = OnnxExporter.BuildModel(Weights(Features, seed: 1));
        unlisted.MetadataProps.Remove(unlisted.MetadataProps.Single(p => p.Key == OnnxMetadataKeys.Features));

        var refusals = new (byte[] File, string Problem)[]
        {
            (garbage, "the model: not a valid ONNX model (4096 bytes)"),
            ([], "the body must be the model's ONNX file"),
            (unlisted.ToByteArray(), "its metadata does not list the features it takes"),
            (Model("m-x", ["purchases_30d", "basket_entropy_9d"], seed: 1),
                "model m-x: feature 'basket_entropy_9d' is not in the feature registry (register the definitions first: PUT /api/features/{name})"),
            (Model("m-y", ["spend_30d", "category_affinity_30d", "last_channel"], seed: 1),
                "model m-y: features 'category_affinity_30d', 'last_channel' are not numeric"),
            (Model("bad version!", Features, seed: 1), "its version 'bad version!' must be 1 to 128 of"),
        };
        foreach (var (file, problem) in refusals)
        {
            using var response = await RegisterAsync(hub, file);
            var error = await ErrorAsync(response);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {error}");
            Assert.Contains(problem, error, StringComparison.Ordinal);
        }

        using (var wordy = await RegisterAsync(hub, Model("m-z", Features, seed: 1), new string('x', 1001)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wordy.StatusCode);
            Assert.Equal("description: longer than 1000 characters", await ErrorAsync(wordy));
        }

        Assert.Empty((await hub.Http.GetFromJsonAsync<List<ModelSummary>>("/api/models"))!);
    }

    [Fact]
    public async Task File_over_the_servers_default_body_limit_is_still_inspected()
    {
        // Kestrel refuses bodies over 30,000,000 bytes unless told otherwise; the registry promises up to 256 MiB.
        await using var hub = await TestHub.StartAsync();
        var large = new byte[40 * 1024 * 1024];
        new Random(8).NextBytes(large);

        using var response = await RegisterAsync(hub, large);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith($"the model: not a valid ONNX model ({large.Length} bytes)", await ErrorAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_needs_a_registered_version_and_enrolled_stores_and_to_all_covers_every_store()
    {
        await using var hub = await TestHub.StartAsync();
        await hub.EnrollAsync("store-1");
        await hub.EnrollAsync("store-2");
        await RegisterOkAsync(hub, Model("m-1", Features, seed: 1));

        using (var unknown = await DeployAsync(hub, "m-9"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            Assert.Equal("model m-9 is not registered (see GET /api/models)", await ErrorAsync(unknown));
        }

        using (var stranger = await DeployAsync(hub, "m-1", "store-1", "store-9"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, stranger.StatusCode);
            Assert.Equal("stores: 'store-9' is not enrolled (or revoked); see GET /api/stores", await ErrorAsync(stranger));
        }

        using (var junk = await hub.Http.PostAsync("/api/models/m-1/deploy", new StringContent("store-1", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, junk.StatusCode);
        }

        Assert.Empty((await hub.Http.GetFromJsonAsync<List<ModelDeployment>>("/api/models/deployments"))!);

        var deployment = await DeployOkAsync(hub, "m-1");
        Assert.Equal(1, deployment.Revision);
        Assert.Equal("deploy", deployment.Action);
        Assert.Equal("m-1", deployment.Version);
        Assert.Empty(deployment.Stores);
        Assert.Equal(["store-1", "store-2"], (await ModelAsync(hub, "m-1")).AssignedTo);
        Assert.All(await StatusAsync(hub), s => Assert.Equal("m-1", s.Assigned));
        Assert.Equal(1, Assert.Single((await hub.Http.GetFromJsonAsync<List<ModelDeployment>>("/api/models/deployments"))!).Revision);
    }

    [Fact]
    public async Task Watching_store_gets_its_assignment_at_once_and_a_new_message_after_the_next_deploy()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-1");
        await hub.EnrollAsync("store-2");
        var m1 = Model("m-1", Features, seed: 1);
        var m2 = Model("m-2", Features, seed: 2);
        await RegisterOkAsync(hub, m1);
        await RegisterOkAsync(hub, m2);
        await DeployOkAsync(hub, "m-1");
        var client = new ModelDistribution.ModelDistributionClient(hub.Channel);
        using var cts = new CancellationTokenSource(Patience);

        using var watch = client.WatchAssignment(new WatchAssignmentRequest(), store.Headers, cancellationToken: cts.Token);
        Assert.Equal(new ModelAssignment { Revision = 1, Version = "m-1", Sha256 = ModelArtifact.Sha256Of(m1), Size = m1.Length }, await NextAsync(watch, cts.Token));

        // Every deployment is announced, also one that leaves this store's model as it was.
        await DeployOkAsync(hub, "m-2", "store-2");
        Assert.Equal(new ModelAssignment { Revision = 2, Version = "m-1", Sha256 = ModelArtifact.Sha256Of(m1), Size = m1.Length }, await NextAsync(watch, cts.Token));
        await DeployOkAsync(hub, "m-2", "store-1");
        Assert.Equal(new ModelAssignment { Revision = 3, Version = "m-2", Sha256 = ModelArtifact.Sha256Of(m2), Size = m2.Length }, await NextAsync(watch, cts.Token));

        // A store that reconnects with the revision it has is told nothing until the next change.
        using var resumed = client.WatchAssignment(new WatchAssignmentRequest { KnownRevision = 3 }, store.Headers, cancellationToken: cts.Token);
        await DeployOkAsync(hub, "m-1", "store-2");
        Assert.Equal(4, (await NextAsync(resumed, cts.Token)).Revision);

        var anonymous = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = client.WatchAssignment(new WatchAssignmentRequest(), cancellationToken: cts.Token);
            await call.ResponseStream.MoveNext(cts.Token);
        });
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
    }

    [Fact]
    public async Task Download_returns_chunks_whose_concatenation_has_the_announced_sha256()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-1");

        // Wide layers, so the file is over one 1 MiB chunk.
        var big = Model("m-big", Features, seed: 4, expertWidth: 1024, towerWidth: 400);
        Assert.InRange(big.Length, ChunkBytes + 1, 2 * ChunkBytes);
        await RegisterOkAsync(hub, big);
        await DeployOkAsync(hub, "m-big");
        var client = new ModelDistribution.ModelDistributionClient(hub.Channel);
        using var cts = new CancellationTokenSource(Patience);
        using var watch = client.WatchAssignment(new WatchAssignmentRequest(), store.Headers, cancellationToken: cts.Token);
        var assignment = await NextAsync(watch, cts.Token);

        var chunks = new List<ModelChunk>();
        using (var download = client.Download(new DownloadModelRequest { Version = assignment.Version }, store.Headers, cancellationToken: cts.Token))
        {
            while (await download.ResponseStream.MoveNext(cts.Token))
            {
                chunks.Add(download.ResponseStream.Current);
            }
        }

        Assert.Equal([0L, ChunkBytes], chunks.Select(c => c.Offset));
        Assert.All(chunks, c => Assert.Equal(assignment.Size, c.Total));
        var content = chunks.SelectMany(c => c.Data.ToByteArray()).ToArray();
        Assert.Equal(assignment.Size, content.Length);
        Assert.Equal(assignment.Sha256, ModelArtifact.Sha256Of(content));
        Assert.Equal(big, content);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(client.Download(new DownloadModelRequest { Version = "m-9" }, store.Headers, cancellationToken: cts.Token), cts.Token));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("model m-9 is not registered", unknown.Status.Detail);
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(client.Download(new DownloadModelRequest { Version = "m-big" }, cancellationToken: cts.Token), cts.Token));
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
    }

    [Fact]
    public async Task Status_reports_show_in_the_status_list_the_model_summaries_and_the_stores_list()
    {
        await using var hub = await TestHub.StartAsync();
        var store1 = await hub.EnrollAsync("store-1");
        var store2 = await hub.EnrollAsync("store-2");
        await RegisterOkAsync(hub, Model("m-1", Features, seed: 1));
        await RegisterOkAsync(hub, Model("m-2", Features, seed: 2));
        await DeployOkAsync(hub, "m-1");
        var client = new ModelDistribution.ModelDistributionClient(hub.Channel);

        await client.ReportStatusAsync(Report(1, "m-1", ModelOutcomes.Deployed, "canary passed", "m-1"), store1.Headers);
        await client.ReportStatusAsync(Report(1, "m-1", ModelOutcomes.Deployed, "canary passed", "m-1"), store2.Headers);
        await DeployOkAsync(hub, "m-2");
        await client.ReportStatusAsync(Report(2, "m-2", ModelOutcomes.Deployed, "canary passed", "m-2"), store1.Headers);
        const string Verdict = "model m-2 refused: task repurchase_30d AUC 0.6000 on the holdout (400 rows) vs 0.7000 for serving model m-1";
        await client.ReportStatusAsync(Report(2, "m-2", ModelOutcomes.Refused, Verdict, "m-1"), store2.Headers);

        var status = await StatusAsync(hub);
        Assert.Equal(["store-1", "store-2"], status.Select(s => s.StoreId));
        Assert.Equal(("m-2", "m-2", ModelOutcomes.Deployed, "m-2"), (status[0].Assigned, status[0].ReportedVersion, status[0].Outcome, status[0].Serving));
        Assert.Equal(("m-2", "m-2", ModelOutcomes.Refused, "m-1"), (status[1].Assigned, status[1].ReportedVersion, status[1].Outcome, status[1].Serving));
        Assert.Equal(Verdict, status[1].Message);
        Assert.NotNull(status[1].ReportedAt);

        var m2 = await ModelAsync(hub, "m-2");
        Assert.Equal(["store-1", "store-2"], m2.AssignedTo);
        Assert.Equal(["store-1"], m2.ServingAt);
        Assert.Equal(new StoreRefusal("store-2", Verdict), Assert.Single(m2.RefusedBy));
        var m1 = await ModelAsync(hub, "m-1");
        Assert.Empty(m1.AssignedTo);
        Assert.Equal(["store-2"], m1.ServingAt);
        Assert.Empty(m1.RefusedBy);
        var stores = await hub.StoresAsync();
        Assert.Equal(["m-2", "m-1"], stores.OrderBy(s => s.StoreId, StringComparer.Ordinal).Select(s => s.ModelVersion));

        var badOutcome = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.ReportStatusAsync(Report(2, "m-2", "exploded", "", ""), store1.Headers));
        Assert.Equal(StatusCode.InvalidArgument, badOutcome.StatusCode);
        Assert.Equal("outcome: 'exploded' is not one of deployed, refused, rolled_back", badOutcome.Status.Detail);
        var noVersion = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.ReportStatusAsync(Report(2, "", ModelOutcomes.Deployed, "", "m-2"), store1.Headers));
        Assert.Equal(StatusCode.InvalidArgument, noVersion.StatusCode);
        Assert.StartsWith("version: required", noVersion.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_of_a_store_returns_it_to_its_previous_model_and_a_store_with_one_model_cannot_roll_back()
    {
        await using var hub = await TestHub.StartAsync();
        var store1 = await hub.EnrollAsync("store-1");
        await hub.EnrollAsync("store-2");
        var m1 = Model("m-1", Features, seed: 1);
        await RegisterOkAsync(hub, m1);
        await RegisterOkAsync(hub, Model("m-2", Features, seed: 2));
        await DeployOkAsync(hub, "m-1");
        await DeployOkAsync(hub, "m-2", "store-1");
        var client = new ModelDistribution.ModelDistributionClient(hub.Channel);
        using var cts = new CancellationTokenSource(Patience);
        using var watch = client.WatchAssignment(new WatchAssignmentRequest(), store1.Headers, cancellationToken: cts.Token);
        var before = await NextAsync(watch, cts.Token);
        Assert.Equal((2L, "m-2"), (before.Revision, before.Version));

        using (var rollback = await RollbackAsync(hub, "store-1"))
        {
            Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
            var result = (await rollback.Content.ReadFromJsonAsync<RollbackResult>())!;
            Assert.Equal(new StoreMove("store-1", "m-2", "m-1"), Assert.Single(result.Moves));
            Assert.Empty(result.Skipped);
            Assert.Equal((3L, "rollback", (string?)null), (result.Deployment.Revision, result.Deployment.Action, result.Deployment.Version));
            Assert.Equal(["store-1"], result.Deployment.Stores);
        }

        Assert.Equal(new ModelAssignment { Revision = 3, Version = "m-1", Sha256 = ModelArtifact.Sha256Of(m1), Size = m1.Length }, await NextAsync(watch, cts.Token));
        Assert.All(await StatusAsync(hub), s => Assert.Equal("m-1", s.Assigned));

        // Both stores now have only m-1: nothing to roll back to, and the registry says so.
        foreach (var store in new[] { "store-1", "store-2" })
        {
            using var stuck = await RollbackAsync(hub, store);
            Assert.Equal(HttpStatusCode.Conflict, stuck.StatusCode);
            Assert.Equal($"nothing to roll back to for {store}: no earlier model was deployed there", await ErrorAsync(stuck));
        }

        using (var stranger = await RollbackAsync(hub, "store-9"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, stranger.StatusCode);
            Assert.Equal("stores: 'store-9' is not enrolled (or revoked); see GET /api/stores", await ErrorAsync(stranger));
        }

        Assert.Equal(3, (await hub.Http.GetFromJsonAsync<List<ModelDeployment>>("/api/models/deployments"))!.Count);
    }

    [Fact]
    public async Task Rollback_for_every_store_skips_stores_with_nothing_to_roll_back()
    {
        await using var hub = await TestHub.StartAsync();
        await RegisterOkAsync(hub, Model("m-1", Features, seed: 1));
        await RegisterOkAsync(hub, Model("m-2", Features, seed: 2));
        using (var nobody = await RollbackAsync(hub))
        {
            Assert.Equal(HttpStatusCode.Conflict, nobody.StatusCode);
            Assert.Equal("no store is enrolled, so there is nothing to roll back", await ErrorAsync(nobody));
        }

        await hub.EnrollAsync("store-1");
        await hub.EnrollAsync("store-2");
        await hub.EnrollAsync("store-3");
        await DeployOkAsync(hub, "m-1");
        await DeployOkAsync(hub, "m-2", "store-1", "store-2");

        using (var all = await RollbackAsync(hub))
        {
            Assert.Equal(HttpStatusCode.OK, all.StatusCode);
            var result = (await all.Content.ReadFromJsonAsync<RollbackResult>())!;
            Assert.Equal([new StoreMove("store-1", "m-2", "m-1"), new StoreMove("store-2", "m-2", "m-1")], result.Moves);
            Assert.Equal(["store-3"], result.Skipped);
            Assert.Empty(result.Deployment.Stores); // every store, as asked
        }

        // A store enrolled afterwards replays the same history: the deploy-to-all, nothing to undo.
        await hub.EnrollAsync("store-4");
        Assert.All(await StatusAsync(hub), s => Assert.Equal("m-1", s.Assigned));
        using (var none = await RollbackAsync(hub))
        {
            Assert.Equal(HttpStatusCode.Conflict, none.StatusCode);
            Assert.Equal("nothing to roll back to for store-1, store-2, store-3, store-4: no earlier model was deployed there", await ErrorAsync(none));
        }

        Assert.Equal(3, (await hub.Http.GetFromJsonAsync<List<ModelDeployment>>("/api/models/deployments"))!.Count);
    }

    [Fact]
    public async Task Store_enrolled_after_a_deploy_to_all_gets_that_assignment()
    {
        await using var hub = await TestHub.StartAsync();
        await hub.EnrollAsync("store-1");
        var m1 = Model("m-1", Features, seed: 1);
        await RegisterOkAsync(hub, m1);
        await DeployOkAsync(hub, "m-1");

        var late = await hub.EnrollAsync("store-2");
        var client = new ModelDistribution.ModelDistributionClient(hub.Channel);
        using var cts = new CancellationTokenSource(Patience);
        using var watch = client.WatchAssignment(new WatchAssignmentRequest(), late.Headers, cancellationToken: cts.Token);
        Assert.Equal(new ModelAssignment { Revision = 1, Version = "m-1", Sha256 = ModelArtifact.Sha256Of(m1), Size = m1.Length }, await NextAsync(watch, cts.Token));
        Assert.Equal(["store-1", "store-2"], (await ModelAsync(hub, "m-1")).AssignedTo);
        Assert.Equal("m-1", (await StatusAsync(hub)).Single(s => s.StoreId == "store-2").Assigned);
    }

    [Fact]
    public async Task Assignments_and_history_survive_a_hub_restart()
    {
        var dataDir = TestHub.NewDataDir();
        try
        {
            var m1 = Model("m-1", Features, seed: 1);
            var m2 = Model("m-2", Features, seed: 2);
            StoreClient store;
            await using (var hub = await TestHub.StartAsync(dataDir))
            {
                store = await hub.EnrollAsync("store-1");
                await hub.EnrollAsync("store-2");
                await RegisterOkAsync(hub, m1);
                await RegisterOkAsync(hub, m2);
                await DeployOkAsync(hub, "m-1");
                await DeployOkAsync(hub, "m-2", "store-1");
            }

            await using var again = await TestHub.StartAsync(dataDir);
            var client = new ModelDistribution.ModelDistributionClient(again.Channel);
            using var cts = new CancellationTokenSource(Patience);
            using var watch = client.WatchAssignment(new WatchAssignmentRequest(), store.Headers, cancellationToken: cts.Token);
            Assert.Equal(new ModelAssignment { Revision = 2, Version = "m-2", Sha256 = ModelArtifact.Sha256Of(m2), Size = m2.Length }, await NextAsync(watch, cts.Token));
            Assert.Equal(["m-1", "m-2"], (await StatusAsync(again)).Select(s => s.Assigned).Order(StringComparer.Ordinal));
            Assert.Equal(m2, await again.Http.GetByteArrayAsync("/api/models/m-2/onnx"));

            // The history came back too: store-1 can still return to m-1.
            using (var rollback = await RollbackAsync(again, "store-1"))
            {
                Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
            }

            Assert.Equal((3L, "m-1"), ((await NextAsync(watch, cts.Token)).Revision, (await StatusAsync(again)).Single(s => s.StoreId == "store-1").Assigned));
        }
        finally
        {
            TestHub.DropSchema(dataDir);
            Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>Seeded random weights over <paramref name="features"/>: one expert, one binary task, optional hidden layers.</summary>
    private static ModelWeights Weights(IReadOnlyList<string> features, int seed, int expertWidth = 0, int towerWidth = 0)
    {
        var random = new Random(seed);
        DenseWeights Dense(int inputs, int outputs) => new(inputs, outputs,
            [.. Enumerable.Range(0, inputs * outputs).Select(_ => (float)((random.NextDouble() - 0.5) * 2 / Math.Sqrt(inputs)))],
            [.. Enumerable.Range(0, outputs).Select(_ => (float)((random.NextDouble() - 0.5) * 0.2))]);
        var spec = new ModelSpec(features, 1, expertWidth > 0 ? [expertWidth] : [], towerWidth > 0 ? [towerWidth] : [], [new TaskSpec("repurchase_30d", TaskKind.Binary)]);
        IReadOnlyList<DenseWeights> expert = expertWidth > 0 ? [Dense(spec.Inputs, expertWidth)] : [];
        IReadOnlyList<DenseWeights> tower = towerWidth > 0 ? [Dense(spec.ExpertOutputs, towerWidth), Dense(towerWidth, 1)] : [Dense(spec.ExpertOutputs, 1)];
        return new ModelWeights(spec, new float[spec.Inputs], [.. Enumerable.Repeat(1f, spec.Inputs)], [expert], [], [tower]);
    }

    /// <summary>An ONNX file stamped with <paramref name="version"/> (and a metric, as the trainer records them).</summary>
    private static byte[] Model(string version, IReadOnlyList<string> features, int seed, int expertWidth = 0, int towerWidth = 0) =>
        OnnxExporter.Export(Weights(features, seed, expertWidth, towerWidth), new ExportOptions
        {
            Metadata = new Dictionary<string, string>
            {
                [ModelArtifact.VersionMetadataKey] = version,
                ["metrics"] = """{"repurchase_30d":{"auc":0.71}}""",
            },
        });

    private static async Task<HttpResponseMessage> RegisterAsync(TestHub hub, byte[] file, string? description = null)
    {
        using var content = new ByteArrayContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await hub.Http.PostAsync(description is null ? "/api/models" : "/api/models?description=" + Uri.EscapeDataString(description), content);
    }

    private static async Task RegisterOkAsync(TestHub hub, byte[] file)
    {
        using var response = await RegisterAsync(hub, file);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>POST /api/models/{version}/deploy: to <paramref name="stores"/>, or with an empty body to every store.</summary>
    private static Task<HttpResponseMessage> DeployAsync(TestHub hub, string version, params string[] stores) =>
        stores.Length == 0
            ? hub.Http.PostAsync($"/api/models/{version}/deploy", null)
            : hub.Http.PostAsJsonAsync($"/api/models/{version}/deploy", new { stores });

    private static async Task<ModelDeployment> DeployOkAsync(TestHub hub, string version, params string[] stores)
    {
        using var response = await DeployAsync(hub, version, stores);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<ModelDeployment>())!;
    }

    private static Task<HttpResponseMessage> RollbackAsync(TestHub hub, params string[] stores) =>
        stores.Length == 0
            ? hub.Http.PostAsync("/api/models/rollback", null)
            : hub.Http.PostAsJsonAsync("/api/models/rollback", new { stores });

    private static async Task<ModelSummary> ModelAsync(TestHub hub, string version) =>
        (await hub.Http.GetFromJsonAsync<ModelSummary>("/api/models/" + version))!;

    private static async Task<List<StoreModelStatus>> StatusAsync(TestHub hub) =>
        (await hub.Http.GetFromJsonAsync<List<StoreModelStatus>>("/api/models/status"))!;

    private static async Task<string> ErrorAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;

    private static ModelStatusReport Report(long revision, string version, string outcome, string message, string serving) => new()
    {
        Revision = revision,
        Version = version,
        Outcome = outcome,
        Message = message,
        ServingVersion = serving,
        AtUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
    };

    private static async Task<ModelAssignment> NextAsync(AsyncServerStreamingCall<ModelAssignment> watch, CancellationToken cancellationToken)
    {
        Assert.True(await watch.ResponseStream.MoveNext(cancellationToken), "the assignment stream ended");
        return watch.ResponseStream.Current;
    }

    private static async Task ReadAllAsync<T>(AsyncServerStreamingCall<T> call, CancellationToken cancellationToken)
    {
        using (call)
        {
            while (await call.ResponseStream.MoveNext(cancellationToken))
            {
            }
        }
    }
}
