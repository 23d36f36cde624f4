using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Scoring;
using EdgeProfile.IntegrationTests.Infrastructure;
using EdgeProfile.Models.Scoring;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// <c>edgeprofile models train</c> and <c>models evaluate</c> as a child process. The CLI runs from its own build
/// output (hub/EdgeProfile.Cli/bin/&lt;configuration&gt;/net10.0), where the Debian 12 TorchSharp fix has patched the
/// native shim; the copy beside these tests is not patched.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class ModelsCliTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Models_train_exports_a_model_the_edge_accepts_and_evaluate_reproduces_its_metrics()
    {
        using var dir = new TempDirectory("models");
        var ts = dir.Sub("ts");
        var features = WriteTrainingSet(ts, 2000);
        var outDir = dir.Sub("model");

        var watch = Stopwatch.StartNew();
        var train = await RunAsync(dir.Path, "models", "train", "--training-set", ts, "--out", outDir, "--epochs", "6", "--experts", "2", "--seed", "3", "--version", "7");
        output.WriteLine($"train in {watch.ElapsedMilliseconds} ms\n{train.Stdout}{train.Stderr}");
        Assert.True(train.ExitCode == 0, train.Stderr);
        Assert.Contains("repurchase_30d", train.Stdout, StringComparison.Ordinal);
        Assert.Contains("logistic_regression", train.Stdout, StringComparison.Ordinal);
        Assert.Contains("top_categories@v1", train.Stdout, StringComparison.Ordinal);

        // Both files are what Edge:Models:File accepts: numeric online features of the default set, version 7.
        foreach (var file in new[] { "model.onnx", "model.int8.onnx" })
        {
            var path = Path.Combine(outDir, file);
            Assert.Null(ModelFile.Problem(path, DefaultFeatures.Set));
            using var scorer = OnnxScorer.Load(path);
            Assert.Equal(features, scorer.Features);
            Assert.Equal("7", ModelFile.Version(scorer.Metadata, await File.ReadAllBytesAsync(path)));
        }

        using var metrics = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "metrics.json")));
        var auc = metrics.RootElement.GetProperty("metrics").GetProperty("mmoe").GetProperty("repurchase_30d").GetProperty("value").GetDouble();
        Assert.True(auc > 0.7, $"repurchase AUC {auc}");

        var evaluate = await RunAsync(dir.Path, "models", "evaluate", "--model", Path.Combine(outDir, "model.onnx"), "--training-set", ts);
        output.WriteLine(evaluate.Stdout);
        Assert.True(evaluate.ExitCode == 0, evaluate.Stderr);
        Assert.Contains(auc.ToString("F4", CultureInfo.InvariantCulture), evaluate.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_train_on_a_missing_training_set_fails_with_one_line_and_usage_exit_code()
    {
        using var dir = new TempDirectory("models-bad");
        var result = await RunAsync(dir.Path, "models", "train", "--training-set", dir.Sub("nothing"), "--out", dir.Sub("out"));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("edgeprofile: training set directory", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(dir.Sub("out")));
    }

    // The CLI's own output: the copy beside these tests has no libtorch (the test project skips its natives).
    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workingDirectory, params string[] args) =>
        CliProcess.RunDllAsync(CliDll, workingDirectory, TimeSpan.FromMinutes(3), args);

    /// <summary>The CLI's own build output, same configuration as these tests.</summary>
    private static string CliDll
    {
        get
        {
            var baseDir = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
            var configuration = Path.GetFileName(Path.GetDirectoryName(baseDir))!;
            var root = new DirectoryInfo(baseDir);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "EdgeProfile.sln")))
            {
                root = root.Parent;
            }

            var dll = Path.Combine(root?.FullName ?? throw new DirectoryNotFoundException($"no EdgeProfile.sln above {baseDir}"),
                "hub", "EdgeProfile.Cli", "bin", configuration, "net10.0", "edgeprofile.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} not found; build hub/EdgeProfile.Cli");
        }
    }

    /// <summary>
    /// A training set over four numeric features of the default set (correlated with the labels) and one top-k ranking
    /// (left out by the trainer), as <c>features training-set</c> writes it. Returns the numeric feature names.
    /// </summary>
    private static string[] WriteTrainingSet(string directory, int rows)
    {
        Directory.CreateDirectory(directory);
        var numeric = DefaultFeatures.Set.Definitions.Where(ModelFile.IsNumeric).Take(4).ToArray();
        var text = DefaultFeatures.Set.Definitions.First(d => !ModelFile.IsNumeric(d)) with { Name = "top_categories", Version = 1 };
        var definitions = numeric.Append(text).ToArray();
        var random = new Random(5);
        var csv = new StringBuilder("customer,cutoff," + string.Join(',', definitions.Select(d => d.Id)) + ",purchase_next_30d,churn_next_90d,spend_next_90d,label_observed\n");
        for (var i = 0; i < rows; i++)
        {
            var cutoff = new DateTimeOffset(2026, 1 + random.Next(5), 1, 0, 0, 0, TimeSpan.Zero);
            var activity = random.NextDouble() * 2 - 1;
            var values = numeric.Select((_, j) => Math.Max(0, 3 + (j + 1) * activity + random.NextDouble()).ToString("0.###", CultureInfo.InvariantCulture));
            var z = 2 * activity + random.NextDouble() - 0.5;
            var spend = z > 0 ? 50 * (1 + activity) : 0;
            csv.Append(CultureInfo.InvariantCulture,
                $"app:u-{i},{cutoff:yyyy-MM-ddTHH:mm:ss.fffZ},{string.Join(',', values)},\"Baby, Toddler:0.7|Food:0.3\",{(z > 0 ? 1 : 0)},{(z < -1 ? 1 : 0)},{spend:0.##},{(i % 20 == 0 ? 0 : 1)}\n");
        }

        File.WriteAllText(Path.Combine(directory, "training_set.csv"), csv.ToString());
        File.WriteAllText(Path.Combine(directory, "manifest.json"), JsonSerializer.Serialize(new
        {
            definitions = definitions.Select(d => new { id = d.Id, name = d.Name, version = d.Version }),
            labels = new[]
            {
                new { name = "purchase_next_30d", kind = "Purchase", horizon = "30d" },
                new { name = "churn_next_90d", kind = "NoPurchase", horizon = "90d" },
                new { name = "spend_next_90d", kind = "Spend", horizon = "90d" },
            },
        }));
        return [.. numeric.Select(d => d.Name)];
    }
}
