using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Models;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Scoring;

namespace EdgeProfile.Training.Pipeline;

/// <summary>
/// From a training set to deployable ONNX files: reads the set, splits it by time, trains an MMoE and a
/// logistic-regression baseline on the same split, exports fp32 and int8 ONNX with the metadata the edge reads
/// (feature names as the edge knows them, <c>model_version</c>) and scores every model on the test rows; and
/// <see cref="Evaluate"/> scores an exported file on a training set's test split the same way.
/// </summary>
public static class ModelPipeline
{
    /// <summary>Model names in reports.</summary>
    public const string Mmoe = "mmoe", MmoeInt8 = "mmoe_int8", LogisticRegression = "logistic_regression";

    /// <summary>File names written by <see cref="Train"/>.</summary>
    public const string ModelFileName = "model.onnx", Int8ModelFileName = "model.int8.onnx", MetricsFileName = "metrics.json";

    /// <summary>Metadata keys written besides the exporter's own (<c>model_version</c> is the one the edge reads).</summary>
    public const string VersionKey = "model_version", FeatureVersionsKey = "feature_versions", LabelsKey = "labels",
        SplitKey = "split", TrainingWindowKey = "training_window", MetricsKey = "metrics", RowsKey = "rows";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Trains, exports and evaluates; writes <see cref="ModelFileName"/>, <see cref="Int8ModelFileName"/> and <see cref="MetricsFileName"/>.</summary>
    /// <exception cref="PipelineException">Missing files or columns, no rows, a label with one class on the training rows.</exception>
    public static PipelineResult Train(PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Experts < 1 || options.Epochs < 1)
        {
            throw new PipelineException($"experts ({options.Experts}) and epochs ({options.Epochs}) must be at least 1", isUsage: true);
        }

        var set = TrainingSet.Load(options.TrainingSetDirectory);
        if (set.Rows == 0)
        {
            throw new PipelineException($"{Path.Combine(set.Directory, TrainingSet.CsvFile)}: no rows with observed labels ({set.UnobservedRows} with label_observed=0)");
        }

        if (set.Features.Count == 0)
        {
            throw new PipelineException($"{Path.Combine(set.Directory, TrainingSet.CsvFile)}: no numeric feature columns ({set.SkippedColumns.Count} left out)");
        }

        var tasks = PipelineTask.From(set);
        var split = TimeSplit.Create(set.Cutoffs, options.Split);
        for (var t = 0; t < tasks.Count; t++)
        {
            if (tasks[t].Kind != TaskKind.Binary)
            {
                continue;
            }

            var classes = split.Train.Select(i => set.Y[t][i] > 0.5f).Distinct().ToArray();
            if (classes.Length < 2)
            {
                throw new PipelineException(
                    $"label {tasks[t].Label} has only one class ({(classes[0] ? 1 : 0)}) in the {split.Train.Count} training rows before {Iso(split.SplitAt)}: nothing to learn for {tasks[t].Name}");
            }
        }

        var features = set.Features.Select(f => f.Name).ToArray();
        var specs = tasks.Select(t => t.Spec).ToArray();
        var log1p = options.Log1pHeavyTails ? HeavyTailed(set, split.Train) : new bool[features.Length];
        var train = Data(set, tasks, split.Train, log1p);
        var validation = Data(set, tasks, split.Validation, log1p);
        var training = new TrainingOptions
        {
            Epochs = options.Epochs,
            Seed = options.Seed,
            LearningRate = options.LearningRate,
            BatchSize = options.BatchSize,
        };

        var before = split.BeforeSplit.Select(i => set.Cutoffs[i]).ToArray();
        var window = (before.Min(), before.Max());
        var version = options.Version ?? DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [VersionKey] = version,
            [FeatureVersionsKey] = JsonSerializer.Serialize(set.Features.ToDictionary(f => f.Name, f => f.Version)),
            [LabelsKey] = JsonSerializer.Serialize(tasks.Select(t => new { task = t.Name, label = t.Label, target = t.Log1p ? "log1p" : "identity" })),
            [SplitKey] = Iso(split.SplitAt),
            [TrainingWindowKey] = JsonSerializer.Serialize(new { from = Iso(window.Item1), to = Iso(window.Item2) }),
            [RowsKey] = JsonSerializer.Serialize(new { train = split.Train.Count, validation = split.Validation.Count, test = split.Test.Count, unobserved = set.UnobservedRows }),
            // What explanations take expectations over: a seeded sample of the training rows (raw values), so every
            // edge and the hub explain this version against the same background.
            [EdgeProfile.Models.Explaining.ExplanationBackground.MetadataKey] = EdgeProfile.Models.Explaining.ExplanationBackground.Sample(
                features, [.. split.Train.Select(i => set.X[i])], EdgeProfile.Models.Explaining.ExplanationBackground.DefaultRows, options.Seed, "training"),
        };

        ModelWeights mmoe, baseline;
        int mmoeBest, baselineBest;
        using (var result = MmoeTrainer.Train(new ModelSpec(features, options.Experts, options.ExpertHidden, options.TowerHidden, specs), train, validation, training))
        {
            mmoe = result.Weights with { Log1p = log1p };
            mmoeBest = result.BestEpoch;
        }

        using (var result = MmoeTrainer.Train(new ModelSpec(features, 1, [], [], specs), train, validation, training))
        {
            baseline = result.Weights with { Log1p = log1p };
            baselineBest = result.BestEpoch;
        }

        // Metrics come from the exported files themselves, so `evaluate` on model.onnx reproduces them exactly.
        var models = new List<ModelEvaluation>
        {
            Score(Mmoe, Export(mmoe, false, version, metadata), set, tasks, split),
            Score(MmoeInt8, Export(mmoe, true, version, metadata), set, tasks, split),
            Score(LogisticRegression, Export(baseline, false, version, metadata), set, tasks, split),
        };

        var metrics = MetricsJson(models);
        metadata[MetricsKey] = metrics.ToJsonString();
        Directory.CreateDirectory(options.OutputDirectory);
        var files = (
            Path.Combine(options.OutputDirectory, ModelFileName),
            Path.Combine(options.OutputDirectory, Int8ModelFileName),
            Path.Combine(options.OutputDirectory, MetricsFileName));
        File.WriteAllBytes(files.Item1, Export(mmoe, false, version, metadata));
        File.WriteAllBytes(files.Item2, Export(mmoe, true, version, metadata));

        var pipelineResult = new PipelineResult
        {
            Version = version,
            Split = split,
            TrainingWindow = window,
            Features = features,
            Tasks = tasks,
            SkippedColumns = set.SkippedColumns,
            UnobservedRows = set.UnobservedRows,
            Models = models,
            BestEpochs = (mmoeBest, baselineBest),
            Files = files,
        };
        var report = new JsonObject
        {
            ["version"] = version,
            ["trainingSet"] = Path.GetFullPath(set.Directory),
            ["split"] = Iso(split.SplitAt),
            ["trainingWindow"] = new JsonObject { ["from"] = Iso(window.Item1), ["to"] = Iso(window.Item2) },
            ["rows"] = new JsonObject { ["train"] = split.Train.Count, ["validation"] = split.Validation.Count, ["test"] = split.Test.Count, ["unobserved"] = set.UnobservedRows },
            ["features"] = new JsonArray([.. set.Features.Select((f, i) => (JsonNode)new JsonObject { ["name"] = f.Name, ["version"] = f.Version, ["log1p"] = log1p[i] })]),
            ["skippedColumns"] = new JsonArray([.. set.SkippedColumns.Select(s => (JsonNode)JsonValue.Create(s))]),
            ["bestEpoch"] = new JsonObject { [Mmoe] = mmoeBest, [LogisticRegression] = baselineBest },
            ["metrics"] = metrics,
        };
        File.WriteAllText(files.Item3, report.ToJsonString(Indented));
        return pipelineResult;
    }

    /// <summary>
    /// Scores the model file <paramref name="modelPath"/> on the test split of the training set in
    /// <paramref name="trainingSetDirectory"/>: rows with cutoff ≥ <paramref name="split"/>, by default the split stamped
    /// in the model's metadata (else the 80th-percentile cutoff). Inputs are matched by feature name; tasks to labels
    /// through the model's <see cref="LabelsKey"/> metadata.
    /// </summary>
    public static ModelEvaluation Evaluate(string modelPath, string trainingSetDirectory, DateTimeOffset? split = null)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        if (!File.Exists(modelPath))
        {
            throw new PipelineException($"model {modelPath} does not exist", isUsage: true);
        }

        var set = TrainingSet.Load(trainingSetDirectory);
        if (set.Rows == 0)
        {
            throw new PipelineException($"{Path.Combine(set.Directory, TrainingSet.CsvFile)}: no rows with observed labels");
        }

        byte[] bytes = File.ReadAllBytes(modelPath);
        List<PipelineTask> tasks;
        DateTimeOffset? stamped;
        using (var scorer = Load(bytes, modelPath))
        {
            if (!scorer.Metadata.TryGetValue(LabelsKey, out var labels))
            {
                throw new PipelineException($"{modelPath}: no '{LabelsKey}' metadata (was it written by `edgeprofile models train`?)");
            }

            var setTasks = PipelineTask.From(set);
            tasks = [];
            foreach (var (name, label) in TaskLabels(labels, modelPath))
            {
                tasks.Add(setTasks.FirstOrDefault(t => t.Label == label) is { } t
                    ? t with { Name = name }
                    : throw new PipelineException($"{modelPath}: task {name} needs label {label}, which {set.Directory} does not have"));
            }

            stamped = scorer.Metadata.TryGetValue(SplitKey, out var s)
                && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
        }

        var timeSplit = TimeSplit.Create(set.Cutoffs, split ?? stamped);
        return Score(Path.GetFileName(modelPath), bytes, set, tasks, timeSplit);
    }

    /// <summary>The metrics as a text table: one row per task, one column per model.</summary>
    public static string ToTable(IReadOnlyList<ModelEvaluation> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        var text = new StringBuilder();
        var width = Math.Max(14, models.Max(m => m.Model.Length) + 2);
        text.Append(CultureInfo.InvariantCulture, $"{"task",-20} {"metric",-11}");
        foreach (var m in models)
        {
            text.Append(' ').Append(m.Model.PadLeft(width));
        }

        text.AppendLine();
        foreach (var task in models[0].Tasks)
        {
            text.Append(CultureInfo.InvariantCulture, $"{task.Task,-20} {task.Metric,-11}");
            foreach (var m in models)
            {
                var value = m.Tasks.FirstOrDefault(t => t.Task == task.Task)?.Value;
                text.Append(' ').Append((value is { } v ? v.ToString("F4", CultureInfo.InvariantCulture) : "n/a").PadLeft(width));
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    /// <summary>Metrics as JSON: <c>{ model: { task: { metric, value, label, rows } } }</c>.</summary>
    public static JsonObject MetricsJson(IEnumerable<ModelEvaluation> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        var json = new JsonObject();
        foreach (var m in models)
        {
            var tasks = new JsonObject();
            foreach (var t in m.Tasks)
            {
                tasks[t.Task] = new JsonObject { ["metric"] = t.Metric, ["value"] = t.Value, ["label"] = t.Label, ["rows"] = t.Rows };
            }

            json[m.Model] = tasks;
        }

        return json;
    }

    private static List<(string Task, string Label)> TaskLabels(string json, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return [.. doc.RootElement.EnumerateArray().Select(e => (e.GetProperty("task").GetString() ?? "", e.GetProperty("label").GetString() ?? ""))];
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new PipelineException($"{source}: metadata '{LabelsKey}' is not a JSON array of {{task, label}}: {ex.Message}", ex);
        }
    }

    private static byte[] Export(ModelWeights weights, bool int8, string version, Dictionary<string, string> metadata) =>
        OnnxExporter.Export(weights, new ExportOptions
        {
            Int8 = int8,
            ModelVersion = long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0,
            Description = $"EdgeProfile MMoE {version}",
            Metadata = new Dictionary<string, string>(metadata, StringComparer.Ordinal),
        });

    private static OnnxScorer Load(byte[] bytes, string source)
    {
        try
        {
            return OnnxScorer.Load(bytes, source: source);
        }
        catch (InvalidDataException ex)
        {
            throw new PipelineException(ex.Message, ex);
        }
    }

    private static ModelEvaluation Score(string name, byte[] model, TrainingSet set, IReadOnlyList<PipelineTask> tasks, TimeSplit split)
    {
        using var scorer = Load(model, name);
        if (scorer.Features is null)
        {
            throw new PipelineException($"{name}: the model does not list its features in its metadata");
        }

        var columns = new int[scorer.Features.Count];
        for (var j = 0; j < columns.Length; j++)
        {
            var index = set.Features.ToList().FindIndex(f => f.Name == scorer.Features[j]);
            columns[j] = index >= 0 ? index : throw new PipelineException($"{name}: feature {scorer.Features[j]} is not a numeric column of {set.Directory}");
        }

        var rows = split.Test;
        var input = new float[rows.Count * columns.Length];
        for (var r = 0; r < rows.Count; r++)
        {
            var x = set.X[rows[r]];
            for (var j = 0; j < columns.Length; j++)
            {
                input[r * columns.Length + j] = x[columns[j]];
            }
        }

        // One customer per call, as the edge serves them (an int8 batch would share one activation scale).
        var outputs = scorer.ScoreRows(input);
        var metrics = new List<TaskMetric>();
        foreach (var task in tasks)
        {
            var o = scorer.Outputs.ToList().FindIndex(x => x.Name == task.Name);
            if (o < 0)
            {
                throw new PipelineException($"{name}: no output {task.Name}");
            }

            var label = set.Labels.ToList().FindIndex(l => l.Name == task.Label);
            var targets = rows.Select(i => task.Target(set.Y[label][i])).ToArray();
            var value = task.Kind == TaskKind.Binary ? Metrics.RocAuc(outputs[o], targets) : Metrics.Rmse(outputs[o], targets);
            metrics.Add(new TaskMetric(task.Name, task.Label, task.Kind == TaskKind.Binary ? "auc" : "rmse_log1p", double.IsFinite(value) ? value : null, rows.Count));
        }

        return new ModelEvaluation(name, metrics);
    }

    /// <summary>
    /// Columns to train on as <c>log1p(x)</c>: never negative on the training rows, more than two distinct values, and
    /// a sample skewness above 2 (counts and money sums with a few very large customers, which standardisation alone
    /// leaves squashed near zero for everyone else).
    /// </summary>
    internal static bool[] HeavyTailed(TrainingSet set, IReadOnlyList<int> rows)
    {
        var flags = new bool[set.Features.Count];
        for (var j = 0; j < flags.Length; j++)
        {
            double n = 0, mean = 0, m2 = 0, m3 = 0, min = double.MaxValue;
            var distinct = new HashSet<float>();
            foreach (var i in rows)
            {
                double x = set.X[i][j];
                min = Math.Min(min, x);
                if (distinct.Count < 3)
                {
                    distinct.Add((float)x);
                }

                // Running central moments (Terriberry's update).
                var n1 = n;
                n++;
                var delta = x - mean;
                var deltaN = delta / n;
                var term = delta * deltaN * n1;
                mean += deltaN;
                m3 += (term * deltaN * (n - 2)) - (3 * deltaN * m2);
                m2 += term;
            }

            var skew = m2 > 0 ? Math.Sqrt(n) * m3 / Math.Pow(m2, 1.5) : 0;
            flags[j] = min >= 0 && distinct.Count > 2 && skew > 2;
        }

        return flags;
    }

    private static TrainingData Data(TrainingSet set, IReadOnlyList<PipelineTask> tasks, IReadOnlyList<int> rows, bool[] log1p)
    {
        var labels = new List<float[][]>();
        for (var t = 0; t < tasks.Count; t++)
        {
            var y = set.Y[t];
            var task = tasks[t];
            labels.Add([.. rows.Select(i => new[] { task.Target(y[i]) })]);
        }

        return new TrainingData([.. rows.Select(i => Transform(set.X[i], log1p))], labels);
    }

    private static float[] Transform(float[] x, bool[] log1p)
    {
        if (!log1p.Contains(true))
        {
            return x;
        }

        var y = (float[])x.Clone();
        for (var j = 0; j < y.Length; j++)
        {
            if (log1p[j])
            {
                y[j] = (float)Math.Log(1 + Math.Max(y[j], 0));
            }
        }

        return y;
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
