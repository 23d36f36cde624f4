using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeProfile.Models.Scoring;
using EdgeProfile.Training.Pipeline;
using Xunit.Abstractions;

namespace EdgeProfile.Training.Tests;

[Collection(TorchCollection.Name)]
public sealed class PipelineTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("pipeline-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Train_splits_by_time_beats_chance_and_exports_models_that_evaluate_reproduces()
    {
        var ts = Path.Combine(dir, "ts");
        var unobserved = WriteTrainingSet(ts, rows: 3000, seed: 3);
        var outDir = Path.Combine(dir, "out");
        var watch = Stopwatch.StartNew();
        var result = ModelPipeline.Train(new PipelineOptions { TrainingSetDirectory = ts, OutputDirectory = outDir, Epochs = 8, Seed = 1, Version = "v-test" });
        output.WriteLine($"trained in {watch.ElapsedMilliseconds} ms; best epochs {result.BestEpochs}");
        output.WriteLine(ModelPipeline.ToTable(result.Models));

        var set = TrainingSet.Load(ts);
        Assert.Equal(unobserved, result.UnobservedRows);
        Assert.Equal(3000 - unobserved, set.Rows);
        var split = result.Split;
        var before = split.BeforeSplit.Select(i => set.Cutoffs[i]).ToArray();
        Assert.True(before.Max() < split.Test.Min(i => set.Cutoffs[i]), "no test cutoff at or before a training cutoff");
        Assert.True(split.Train.Max(i => set.Cutoffs[i]) <= split.Validation.Min(i => set.Cutoffs[i]), "validation = the latest training rows");
        Assert.All(split.Test, i => Assert.True(set.Cutoffs[i] >= split.SplitAt));
        Assert.Equal(set.Rows, split.Train.Count + split.Validation.Count + split.Test.Count);
        Assert.InRange(split.Validation.Count, (int)(0.14 * before.Length), (int)(0.16 * before.Length) + 1);

        // Numeric features by definition name; the text ranking and the superseded version are left out and listed.
        string[] features = ["spend_30d", "purchases_90d", "days_since_last_purchase", "events_total"];
        Assert.Equal(features, result.Features);
        Assert.Contains(result.SkippedColumns, s => s.StartsWith("top_categories@v1", StringComparison.Ordinal));
        Assert.Contains(result.SkippedColumns, s => s.StartsWith("purchases_90d@v1", StringComparison.Ordinal));
        Assert.Equal(["repurchase_30d", "churn_90d", "ltv_90d"], result.Tasks.Select(t => t.Name));

        var mmoe = result[ModelPipeline.Mmoe];
        Assert.True(mmoe["repurchase_30d"].Value > 0.7, $"repurchase AUC {mmoe["repurchase_30d"].Value}");
        Assert.True(mmoe["churn_90d"].Value > 0.7, $"churn AUC {mmoe["churn_90d"].Value}");
        Assert.True(result[ModelPipeline.LogisticRegression]["repurchase_30d"].Value > 0.7);
        Assert.Equal("rmse_log1p", mmoe["ltv_90d"].Metric);
        Assert.True(mmoe["ltv_90d"].Value < 1.5, $"LTV RMSE {mmoe["ltv_90d"].Value}");
        Assert.True(Math.Abs(mmoe["repurchase_30d"].Value!.Value - result[ModelPipeline.MmoeInt8]["repurchase_30d"].Value!.Value) < 0.01);

        foreach (var file in new[] { result.Files.Model, result.Files.Int8Model })
        {
            using var scorer = OnnxScorer.Load(file, features);
            Assert.Equal(features, scorer.Features);
            Assert.Equal("v-test", scorer.Metadata[ModelPipeline.VersionKey]);
            using var versions = JsonDocument.Parse(scorer.Metadata[ModelPipeline.FeatureVersionsKey]);
            Assert.Equal(2, versions.RootElement.GetProperty("purchases_90d").GetInt32());
            Assert.Equal(result.Split.SplitAt, DateTimeOffset.Parse(scorer.Metadata[ModelPipeline.SplitKey], CultureInfo.InvariantCulture));
            using var window = JsonDocument.Parse(scorer.Metadata[ModelPipeline.TrainingWindowKey]);
            Assert.Equal(before.Min(), window.RootElement.GetProperty("from").GetDateTimeOffset());
            Assert.Equal(before.Max(), window.RootElement.GetProperty("to").GetDateTimeOffset());
            using var metrics = JsonDocument.Parse(scorer.Metadata[ModelPipeline.MetricsKey]);
            Assert.Equal(mmoe["churn_90d"].Value!.Value, metrics.RootElement.GetProperty("mmoe").GetProperty("churn_90d").GetProperty("value").GetDouble(), 12);
            Assert.All(scorer.Score(new float[features.Length]), v => Assert.True(float.IsFinite(v)));
        }

        using (var metricsFile = JsonDocument.Parse(File.ReadAllText(result.Files.Metrics)))
        {
            Assert.Equal("v-test", metricsFile.RootElement.GetProperty("version").GetString());
            Assert.Equal(split.Test.Count, metricsFile.RootElement.GetProperty("rows").GetProperty("test").GetInt32());
        }

        // evaluate on the exported fp32 file reproduces the training-time test metrics (split from the model's metadata).
        var evaluation = ModelPipeline.Evaluate(result.Files.Model, ts);
        foreach (var task in mmoe.Tasks)
        {
            Assert.Equal(task.Rows, evaluation[task.Task].Rows);
            Assert.True(Math.Abs(task.Value!.Value - evaluation[task.Task].Value!.Value) <= 1e-6, $"{task.Task}: {task.Value} vs {evaluation[task.Task].Value}");
        }

        // An explicit split changes the test rows.
        var later = ModelPipeline.Evaluate(result.Files.Model, ts, new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.True(later["churn_90d"].Rows < evaluation["churn_90d"].Rows);
    }

    [Fact]
    public void Bad_inputs_fail_with_one_line_naming_the_problem()
    {
        var missing = Assert.Throws<PipelineException>(() => ModelPipeline.Train(Options(Path.Combine(dir, "nothing"))));
        Assert.True(missing.IsUsage);

        var noManifest = Path.Combine(dir, "no-manifest");
        WriteTrainingSet(noManifest, 50, 1);
        File.Delete(Path.Combine(noManifest, TrainingSet.ManifestFile));
        var e = Assert.Throws<PipelineException>(() => ModelPipeline.Train(Options(noManifest)));
        Assert.True(e.IsUsage);
        Assert.Contains("manifest.json does not exist", e.Message, StringComparison.Ordinal);

        var noColumn = Path.Combine(dir, "no-column");
        WriteTrainingSet(noColumn, 50, 1);
        Rewrite(noColumn, lines => [lines[0].Replace("spend_next_90d", "spend_next_60d", StringComparison.Ordinal), .. lines[1..]]);
        e = Assert.Throws<PipelineException>(() => ModelPipeline.Train(Options(noColumn)));
        Assert.Contains("no column 'spend_next_90d'", e.Message, StringComparison.Ordinal);

        var noRows = Path.Combine(dir, "no-rows");
        WriteTrainingSet(noRows, 50, 1);
        Rewrite(noRows, lines => [lines[0], .. lines[1..].Select(l => l[..^1] + "0")]);
        e = Assert.Throws<PipelineException>(() => ModelPipeline.Train(Options(noRows)));
        Assert.False(e.IsUsage);
        Assert.Contains("no rows with observed labels", e.Message, StringComparison.Ordinal);

        // purchase_next_30d is the 4th column from the end: all zero = one class on the training rows.
        var oneClass = Path.Combine(dir, "one-class");
        WriteTrainingSet(oneClass, 200, 1);
        Rewrite(oneClass, lines => [lines[0], .. lines[1..].Select(l => SetFieldFromEnd(l, 4, "0"))]);
        e = Assert.Throws<PipelineException>(() => ModelPipeline.Train(Options(oneClass)));
        Assert.Contains("label purchase_next_30d has only one class (0)", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);

        var early = Assert.Throws<PipelineException>(() => ModelPipeline.Train(Options(oneClass) with { Split = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero) }));
        Assert.Contains("too few to train", early.Message, StringComparison.Ordinal);
    }

    private PipelineOptions Options(string ts) => new() { TrainingSetDirectory = ts, OutputDirectory = Path.Combine(dir, "out-bad"), Epochs = 1 };

    private static void Rewrite(string ts, Func<string[], string[]> change)
    {
        var path = Path.Combine(ts, TrainingSet.CsvFile);
        File.WriteAllLines(path, change(File.ReadAllLines(path)));
    }

    // The quoted ranking is the only field with a comma and comes before the labels, so count from the end.
    private static string SetFieldFromEnd(string line, int fromEnd, string value)
    {
        var fields = line.Split(',');
        fields[^fromEnd] = value;
        return string.Join(',', fields);
    }

    /// <summary>
    /// A training set as the edge writes it: six monthly cutoffs, features correlated with the labels, a top-k text
    /// column (quoted, with a comma) that must be left out, an older version of one feature, and some rows with
    /// label_observed=0. Returns the number of unobserved rows.
    /// </summary>
    internal static int WriteTrainingSet(string directory, int rows, int seed)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(seed);
        var csv = new StringBuilder("customer,cutoff,spend_30d@v1,purchases_90d@v1,purchases_90d@v2,days_since_last_purchase@v1,top_categories@v1,events_total@v1,purchase_next_30d,churn_next_90d,spend_next_90d,label_observed\n");
        var unobserved = 0;
        for (var i = 0; i < rows; i++)
        {
            var cutoff = new DateTimeOffset(2026, 1 + random.Next(6), 1, 0, 0, 0, TimeSpan.Zero);
            var activity = random.NextDouble() * 3 - 1.5;
            var purchases = Math.Max(0, (int)Math.Round(2 + 2 * activity + random.NextDouble()));
            var spend = purchases * (20 + 30 * random.NextDouble());
            var days = purchases == 0 ? "" : (60 * random.NextDouble() * (1.6 - activity / 1.5)).ToString("0.##", CultureInfo.InvariantCulture);
            var events = (int)(10 + 20 * random.NextDouble());
            var z = 1.8 * activity + random.NextDouble() * 1.6 - 0.8 + Gaussian(random) * 0.5;
            var repurchase = z > 0 ? 1 : 0;
            var churn = z + Gaussian(random) * 0.5 < -0.9 ? 1 : 0;
            var ltv = churn == 1 ? 0 : Math.Exp(2.5 + activity + Gaussian(random) * 0.4);
            var observed = random.NextDouble() < 0.05 ? 0 : 1;
            unobserved += 1 - observed;
            var ranking = random.Next(2) == 0 ? "\"Baby, Toddler:0.6|Food:0.4\"" : "Food:1";
            csv.Append(CultureInfo.InvariantCulture,
                $"app:u-{i % 700},{cutoff:yyyy-MM-ddTHH:mm:ss.fffZ},{spend:0.##},{purchases + 1},{purchases},{days},{ranking},{events},{repurchase},{churn},{ltv:0.####},{observed}\n");
        }

        File.WriteAllText(Path.Combine(directory, TrainingSet.CsvFile), csv.ToString());
        var manifest = new
        {
            rows,
            definitions = new[]
            {
                new { id = "spend_30d@v1", name = "spend_30d", version = 1 },
                new { id = "purchases_90d@v1", name = "purchases_90d", version = 1 },
                new { id = "purchases_90d@v2", name = "purchases_90d", version = 2 },
                new { id = "days_since_last_purchase@v1", name = "days_since_last_purchase", version = 1 },
                new { id = "top_categories@v1", name = "top_categories", version = 1 },
                new { id = "events_total@v1", name = "events_total", version = 1 },
            },
            labels = new[]
            {
                new { name = "purchase_next_30d", kind = "Purchase", horizon = "30d" },
                new { name = "churn_next_90d", kind = "NoPurchase", horizon = "90d" },
                new { name = "spend_next_90d", kind = "Spend", horizon = "90d" },
            },
        };
        File.WriteAllText(Path.Combine(directory, TrainingSet.ManifestFile), JsonSerializer.Serialize(manifest));
        return unobserved;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
