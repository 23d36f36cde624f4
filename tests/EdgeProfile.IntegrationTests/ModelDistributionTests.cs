using System.Text.Json;
using EdgeProfile.IntegrationTests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// The model lifecycle across hub and stores, driven through <c>edgeprofile models ...</c> as an operator would:
/// register, deploy to every store, deploy to one store, a corrupted file refused at the store while its model keeps
/// serving, rollback, and the accepted model served again after a restart with the hub gone.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class ModelDistributionTests(ITestOutputHelper output)
{
    private const string OperatorToken = "it-models-token-0123456789";

    [Fact]
    public async Task Stores_serve_what_the_hub_assigns_refuse_a_corrupted_file_and_roll_back()
    {
        using var dir = new TempDirectory("model-dist");
        await using var fleet = await ModelFleet.StartAsync(dir, OperatorToken, output, "store-1", "store-2");
        var edges = fleet.Edges;
        foreach (var (version, seed) in new[] { ("m-1", 1), ("m-2", 2), ("m-3", 3) })
        {
            var file = ModelFleet.WriteModel(dir.Sub(version + ".onnx"), version, seed);
            var registered = await fleet.CliAsync(dir.Path, "models", "register", file, "--description", $"test model {version}");
            Assert.Contains($"Model {version} registered", registered, StringComparison.Ordinal);
        }

        var list = JsonDocument.Parse(await fleet.CliAsync(dir.Path, "models", "list", "--json")).RootElement;
        Assert.Equal(["m-3", "m-2", "m-1"], list.EnumerateArray().Select(m => m.GetProperty("version").GetString()).Order(StringComparer.Ordinal).Reverse());
        Assert.All(list.EnumerateArray(), m => Assert.Equal(ModelFleet.Features, m.GetProperty("features").EnumerateArray().Select(f => f.GetString())));

        // Deploy to every store: both serve m-1, and a customer's scores carry it.
        Assert.Contains("assigned to every store", await fleet.CliAsync(dir.Path, "models", "deploy", "m-1"), StringComparison.Ordinal);
        foreach (var store in edges.Keys)
        {
            await fleet.ServingAsync(store, "m-1");
        }

        await fleet.PurchaseAsync("store-1", "md-1", "L-md");
        await Poll.UntilAsync(() => edges["store-1"].Api.ProfileAsync("loyalty:L-md"),
            p => p is { } profile && ScoreModel(profile) == "m-1", ModelFleet.Wait, "L-md scored by m-1");

        // Deploy m-2 to store-1 only: store-1 swaps and re-scores; store-2 keeps m-1.
        await fleet.CliAsync(dir.Path, "models", "deploy", "m-2", "--stores", "store-1");
        await fleet.ServingAsync("store-1", "m-2");
        await Poll.UntilAsync(() => edges["store-1"].Api.ProfileAsync("loyalty:L-md"),
            p => p is { } profile && ScoreModel(profile) == "m-2", ModelFleet.Wait, "L-md re-scored by m-2");
        Assert.Equal("m-1", (await edges["store-2"].Api.StatsAsync()).GetProperty("modelVersion").GetString());
        await Poll.UntilAsync(async () => JsonDocument.Parse(await fleet.CliAsync(dir.Path, "models", "status", "--json")).RootElement,
            s => Status(s, "store-1").GetProperty("serving").GetString() == "m-2" && Status(s, "store-2").GetProperty("serving").GetString() == "m-1",
            ModelFleet.Wait, "the hub to hear what each store serves");

        // m-3's stored file is damaged at the hub (bytes flipped after registration): store-1 refuses the download,
        // says why, and keeps serving m-2.
        using (var db = new SqliteConnection($"Data Source={Path.Combine(dir.Sub("hub"), "hub.db")};Pooling=False"))
        {
            db.Open();
            using var corrupt = db.CreateCommand();
            corrupt.CommandText = "UPDATE models SET content = zeroblob(size) WHERE version = 'm-3'";
            Assert.Equal(1, corrupt.ExecuteNonQuery());
        }

        await fleet.CliAsync(dir.Path, "models", "deploy", "m-3", "--stores", "store-1");
        var refused = await Poll.UntilAsync(async () => JsonDocument.Parse(await fleet.CliAsync(dir.Path, "models", "status", "--json")).RootElement,
            s => Status(s, "store-1").GetProperty("outcome").GetString() == "refused", ModelFleet.Wait, "store-1 to refuse m-3");
        var message = Status(refused, "store-1").GetProperty("message").GetString()!;
        output.WriteLine(message);
        Assert.Contains("m-3 refused: the download is corrupted", message, StringComparison.Ordinal);
        Assert.Equal("m-2", Status(refused, "store-1").GetProperty("serving").GetString());
        Assert.Equal("m-2", (await edges["store-1"].Api.StatsAsync()).GetProperty("modelVersion").GetString());
        var m3 = JsonDocument.Parse(await fleet.CliAsync(dir.Path, "models", "list", "--json")).RootElement.EnumerateArray().Single(m => m.GetProperty("version").GetString() == "m-3");
        Assert.Equal("store-1", m3.GetProperty("refusedBy")[0].GetProperty("storeId").GetString());

        // Roll store-1 back twice: first to m-2 (what it serves anyway), then to m-1, which it still holds as its
        // previous model and swaps back to without a download.
        Assert.Contains("store-1: m-3 -> m-2", await fleet.CliAsync(dir.Path, "models", "rollback", "--stores", "store-1"), StringComparison.Ordinal);
        Assert.Contains("store-1: m-2 -> m-1", await fleet.CliAsync(dir.Path, "models", "rollback", "--stores", "store-1"), StringComparison.Ordinal);
        await fleet.ServingAsync("store-1", "m-1");
        var rolledBack = await Poll.UntilAsync(async () => JsonDocument.Parse(await fleet.CliAsync(dir.Path, "models", "status", "--json")).RootElement,
            s => Status(s, "store-1").GetProperty("outcome").GetString() == "rolled_back", ModelFleet.Wait, "store-1 to report its rollback");
        Assert.Equal("m-1", Status(rolledBack, "store-1").GetProperty("serving").GetString());

        // Nothing earlier than m-1 at store-2: a rollback there is refused with the reason.
        var stuck = await CliProcess.RunAsync(dir.Path, ModelFleet.Wait, ["models", "rollback", "--stores", "store-2", .. fleet.HubArgs]);
        Assert.NotEqual(0, stuck.ExitCode);
        Assert.Contains("nothing to roll back to for store-2", stuck.Stderr, StringComparison.Ordinal);

        // The export is the registered file, byte for byte.
        await fleet.CliAsync(dir.Path, "models", "export", "m-2", "--out", dir.Sub("exported.onnx"));
        Assert.Equal(await File.ReadAllBytesAsync(dir.Sub("m-2.onnx")), await File.ReadAllBytesAsync(dir.Sub("exported.onnx")));

        // With the hub gone, a restarted store serves the model it accepted last.
        await fleet.Hub.StopAsync();
        await edges["store-1"].StopAsync();
        edges["store-1"] = await InProcessEdge.StartAsync("store-1", dir.Sub("store-1"), Ports.Free(), output, $"--Edge:HubUrl={fleet.Hub.Address}");
        Assert.Equal("m-1", (await edges["store-1"].Api.StatsAsync()).GetProperty("modelVersion").GetString());
    }

    private static JsonElement Status(JsonElement statuses, string store) =>
        statuses.EnumerateArray().Single(s => s.GetProperty("storeId").GetString() == store);

    private static string? ScoreModel(JsonElement profile) =>
        profile.GetProperty("scores") is { ValueKind: JsonValueKind.Array } scores && scores.GetArrayLength() > 0
            ? scores[0].GetProperty("model").GetString()
            : null;
}
