using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeProfile.Edge.Features;
using EdgeProfile.Models;
using EdgeProfile.Models.Scoring;
using EdgeProfile.Training;
using EdgeProfile.Training.Pipeline;

namespace EdgeProfile.Bench.RetailModels;

/// <summary>
/// Replay → cutoffs → training sets → product pipeline (MMoE, logistic regression; ONNX fp32/int8) → xgboost → table.
/// Two training sets, because a row's labels are observed only when the log runs the whole horizon past its cutoff
/// (the builder's <c>label_observed</c> covers every label of a set): "90d" holds all three labels and can only use
/// cutoffs at least 90 days before the end of the data; "30d" holds repurchase-30d alone and may use cutoffs up to
/// 30 days before the end, which gives that label a test period nine weeks long instead of ten days.
/// </summary>
internal static class RetailEvaluation
{
    private const string Repurchase = "repurchase_30d", Churn = "churn_90d", Ltv = "ltv_90d", Int8RowByRow = "mmoe_int8_row";

    private sealed record SetSpec(string Name, IReadOnlyList<LabelSpec> Labels, TimeSpan Horizon);

    private sealed record SetOutcome(string Name, string Directory, TrainingSet Set, TimeSplit Split, TrainingSetResult Build, double BuildSeconds);

    public static async Task<string> RunAsync(Settings settings, string root, string data, string outDir)
    {
        // 1. The data, optionally a seeded sub-sample of customers.
        var watch = Stopwatch.StartNew();
        var lines = RetailReplay.Read(data);
        var customers = lines.Select(l => l.Customer).Distinct().Order(StringComparer.Ordinal).ToList();
        if (settings.Customers > 0 && settings.Customers < customers.Count)
        {
            var random = new Random(7);
            var keep = customers.OrderBy(_ => random.Next()).Take(settings.Customers).ToHashSet(StringComparer.Ordinal);
            lines = [.. lines.Where(l => keep.Contains(l.Customer))];
            customers = [.. customers.Where(keep.Contains)];
        }

        var dataStart = new DateTimeOffset(lines[0].At);
        var dataEnd = new DateTimeOffset(lines[^1].At);
        Console.WriteLine($"  data: {lines.Count:N0} invoice lines with a customer, {customers.Count:N0} customers, {lines.Select(l => l.Invoice).Distinct().Count():N0} invoices, {dataStart:yyyy-MM-dd HH:mm}..{dataEnd:yyyy-MM-dd HH:mm} (read in {watch.Elapsed.TotalSeconds:F1} s)");

        // 2. Into an edge, through MQTT and the edge's own log writer and feature engine.
        var edgeDir = Path.Combine(outDir, "edge");
        if (Directory.Exists(edgeDir))
        {
            Directory.Delete(edgeDir, recursive: true);
        }

        var replay = await RetailReplay.RunAsync(edgeDir, lines, settings.InFlight);
        Console.WriteLine($"  replay: {replay.Published:N0} events published, {replay.Stored:N0} stored, {replay.Duplicates} duplicates, {replay.DeadLettered} dead-lettered, {replay.Late} late, in {replay.Seconds:F0} s ({replay.Published / replay.Seconds:N0} events/s)");
        if (replay.Stored != replay.Published || replay.DeadLettered != 0 || replay.Late != 0)
        {
            Console.WriteLine("  WARNING: not every line became a stored, on-time event; the training sets miss the others");
        }

        // 3. Cutoffs: a grid every StepDays anchored at the split, from From; a customer has a row at a cutoff once
        // their first purchase lies before it. Only cutoffs whose label horizon lies inside the data (censoring).
        var first = lines.GroupBy(l => l.Customer).ToDictionary(g => g.Key, g => new DateTimeOffset(g.Min(l => l.At)), StringComparer.Ordinal);
        var grid = new List<DateTimeOffset>();
        for (var c = settings.Split; c >= settings.From; c = c.AddDays(-settings.StepDays))
        {
            grid.Insert(0, c);
        }

        for (var c = settings.Split.AddDays(settings.StepDays); c <= dataEnd; c = c.AddDays(settings.StepDays))
        {
            grid.Add(c);
        }

        var specs = new[]
        {
            new SetSpec("90d", LabelSpec.Defaults, LabelSpec.Defaults.Max(l => l.Horizon)),
            new SetSpec("30d", [LabelSpec.Defaults.Single(l => l.Kind == LabelKind.Purchase)], TimeSpan.FromDays(30)),
        };
        var sets = new List<SetOutcome>();
        foreach (var spec in specs)
        {
            var cutoffs = grid.Where(c => c + spec.Horizon <= dataEnd).ToList();
            var dir = Path.Combine(outDir, "training-set-" + spec.Name);
            Directory.CreateDirectory(dir);
            var cutoffFile = Path.Combine(dir, "cutoffs.csv");
            using (var writer = new StreamWriter(cutoffFile, false, new UTF8Encoding(false)))
            {
                writer.WriteLine("customer,cutoff");
                foreach (var c in cutoffs)
                {
                    foreach (var (customer, since) in first.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        if (since < c)
                        {
                            writer.WriteLine($"loyalty:{customer},{c.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}");
                        }
                    }
                }
            }

            watch.Restart();
            var rows = TrainingSetBuilder.ReadCutoffs(cutoffFile);
            var built = TrainingSetBuilder.Build(edgeDir, RetailReplay.StoreId, rows, spec.Labels, dir);
            var seconds = watch.Elapsed.TotalSeconds;
            var set = TrainingSet.Load(dir);
            var split = TimeSplit.Create(set.Cutoffs, settings.Split);
            File.WriteAllLines(Path.Combine(dir, "features.txt"), set.Features.Select(f => f.Id));
            Console.WriteLine($"  training set {spec.Name} ({string.Join(", ", spec.Labels.Select(l => l.Name))}): {cutoffs.Count} cutoffs {cutoffs[0]:yyyy-MM-dd}..{cutoffs[^1]:yyyy-MM-dd}, {built.Rows:N0} rows × {set.Features.Count} numeric features ({set.SkippedColumns.Count} non-numeric left out), {built.CensoredRows} censored, {built.UnknownCustomers} unknown customers, built in {seconds:F0} s; split: train {split.Train.Count:N0}, validation {split.Validation.Count:N0}, test {split.Test.Count:N0}");
            sets.Add(new SetOutcome(spec.Name, dir, set, split, built, seconds));
        }

        // 4. The product pipeline (`models train`), once per seed, per set.
        var ours = new Dictionary<(string Set, string Model, string Task), List<double>>();
        foreach (var s in sets)
        {
            foreach (var seed in settings.Seeds)
            {
                watch.Restart();
                var result = ModelPipeline.Train(new PipelineOptions
                {
                    TrainingSetDirectory = s.Directory,
                    OutputDirectory = Path.Combine(outDir, "models", s.Name, $"seed-{seed}"),
                    Split = settings.Split,
                    Seed = seed,
                    Epochs = settings.Epochs,
                    Version = $"retail-{s.Name}-seed{seed}",
                });
                foreach (var model in result.Models)
                {
                    foreach (var t in model.Tasks)
                    {
                        Add(ours, (s.Name, model.Model, t.Task), t.Value ?? double.NaN);
                    }
                }

                foreach (var (task, value) in ScoreRowByRow(result.Files.Int8Model, s))
                {
                    Add(ours, (s.Name, Int8RowByRow, task), value);
                }

                Console.WriteLine($"  pipeline {s.Name}, seed {seed}: best epoch mmoe {result.BestEpochs.Mmoe}, logistic {result.BestEpochs.Baseline}; {watch.Elapsed.TotalSeconds:F0} s; " +
                    string.Join("; ", result.Models.Select(m => $"{m.Model} " + string.Join(' ', m.Tasks.Select(t => $"{t.Task}={t.Value:F4}")))));
            }
        }

        // 5. Reference rules on the same test rows: recency alone, and the training mean for LTV.
        foreach (var s in sets)
        {
            var tasks = PipelineTask.From(s.Set);
            var recency = s.Set.Features.ToList().FindIndex(f => f.Name == "days_since_last_purchase");
            var test = s.Split.Test;
            for (var l = 0; l < tasks.Count; l++)
            {
                var task = tasks[l];
                var targets = test.Select(i => task.Target(s.Set.Y[l][i])).ToArray();
                if (task.Kind == TaskKind.Binary && recency >= 0)
                {
                    var sign = task.Name.StartsWith("churn", StringComparison.Ordinal) ? 1f : -1f;
                    Add(ours, (s.Name, "recency", task.Name), Metrics.RocAuc([.. test.Select(i => sign * s.Set.X[i][recency])], targets));
                }
                else if (task.Kind == TaskKind.Regression)
                {
                    var mean = (float)s.Split.Train.Average(i => task.Target(s.Set.Y[l][i]));
                    Add(ours, (s.Name, "constant", task.Name), Metrics.Rmse([.. test.Select(_ => mean)], targets));
                }
            }
        }

        // 6. xgboost on the same files.
        var xgb = new Dictionary<(string Set, string Task), double[]>();
        var script = Path.Combine(root, "bench", "models", "retail_xgboost.py");
        var xgbNote = "";
        foreach (var s in sets)
        {
            watch.Restart();
            var (values, error) = await XgboostPeer.RunAsync(script, s.Directory, Path.Combine(s.Directory, "features.txt"), settings.Split, settings.Seeds, settings.Threads);
            if (values is null)
            {
                xgbNote = $"xgboost failed: {error}";
                Console.WriteLine($"  {xgbNote}");
                continue;
            }

            foreach (var (task, v) in values)
            {
                xgb[(s.Name, task)] = v;
            }

            Console.WriteLine($"  xgboost {s.Name}: {watch.Elapsed.TotalSeconds:F0} s; " + string.Join("; ", values.Select(p => $"{p.Key}={p.Value.Average():F4}")));
        }

        return Report(settings, sets, ours, xgb, xgbNote, replay, dataEnd);
    }

    private static string Report(
        Settings settings,
        List<SetOutcome> sets,
        Dictionary<(string Set, string Model, string Task), List<double>> ours,
        Dictionary<(string Set, string Task), double[]> xgb,
        string xgbNote,
        RetailReplay.Result replay,
        DateTimeOffset dataEnd)
    {
        var text = new StringBuilder();
        var columns = new (string Set, string Task, string Header)[]
        {
            ("90d", Repurchase, "repurchase_30d AUC"),
            ("90d", Churn, "churn_90d AUC"),
            ("90d", Ltv, "ltv_90d RMSE (log1p)"),
            ("30d", Repurchase, "repurchase_30d AUC, 30d set"),
        };
        var models = new (string Key, string Label)[]
        {
            (ModelPipeline.Mmoe, "MMoE (4 experts × [32], towers [16]), fp32 ONNX"),
            (ModelPipeline.MmoeInt8, "MMoE, int8 ONNX, as `models train` scores it (one customer per call)"),
            (Int8RowByRow, "MMoE, int8 ONNX, one row per call by this bench (cross-check)"),
            (ModelPipeline.LogisticRegression, "logistic regression (pipeline baseline), ONNX"),
            ("xgboost", "xgboost (python3-xgboost), same CSV, columns, split"),
            ("recency", "rule: days since last purchase"),
            ("constant", "rule: training mean of log1p(spend)"),
        };
        text.AppendLine(CultureInfo.InvariantCulture, $"Test metrics, mean ± std over seeds {string.Join(',', settings.Seeds)} (test rows: cutoff ≥ {settings.Split:yyyy-MM-dd}):");
        text.AppendLine();
        text.AppendLine($"| model | {string.Join(" | ", columns.Select(c => c.Header))} |");
        text.AppendLine($"|---|{string.Concat(columns.Select(_ => "---:|"))}");
        foreach (var (key, label) in models)
        {
            var cells = columns.Select(c =>
            {
                IReadOnlyList<double>? v = key == "xgboost"
                    ? xgb.TryGetValue((c.Set, c.Task), out var x) ? x : null
                    : ours.TryGetValue((c.Set, key, c.Task), out var y) ? y : null;
                return v is null ? "" : Format(v);
            });
            text.AppendLine($"| {label} | {string.Join(" | ", cells)} |");
        }

        if (xgbNote.Length > 0)
        {
            text.AppendLine().AppendLine(xgbNote);
        }

        text.AppendLine();
        text.AppendLine("Training sets (built by TrainingSetBuilder from the edge's log; rows = customer × cutoff, a customer from the first cutoff after their first purchase):");
        text.AppendLine();
        text.AppendLine("| set | labels | train + validation cutoffs | test cutoffs | rows train / validation / test | test base rate | train base rate |");
        text.AppendLine("|---|---|---|---|---:|---|---|");
        foreach (var s in sets)
        {
            var before = s.Split.BeforeSplit.Select(i => s.Set.Cutoffs[i]).Distinct().Order().ToList();
            var test = s.Split.Test.Select(i => s.Set.Cutoffs[i]).Distinct().Order().ToList();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {s.Name} | {string.Join(", ", s.Set.Labels.Select(l => l.Name))} | {before.Count}: {before[0]:yyyy-MM-dd}..{before[^1]:yyyy-MM-dd} | {test.Count}: {string.Join(", ", test.Select(t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))} | {s.Split.Train.Count:N0} / {s.Split.Validation.Count:N0} / {s.Split.Test.Count:N0} | {Rates(s, s.Split.Test)} | {Rates(s, s.Split.Train)} |");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Replay: {replay.Published:N0} invoice lines → {replay.Stored:N0} purchase events stored by the edge ({replay.Late} late, {replay.DeadLettered} dead-lettered) in {replay.Seconds:F0} s; training sets built in {string.Join(" + ", sets.Select(s => s.BuildSeconds.ToString("F0", CultureInfo.InvariantCulture) + " s"))}.");
        text.AppendLine(CultureInfo.InvariantCulture, $"Censoring: the data ends {dataEnd:yyyy-MM-dd HH:mm}; a cutoff is used only when its whole label horizon lies inside the data (90d set: cutoff ≤ {dataEnd.AddDays(-90):yyyy-MM-dd}, 30d set: ≤ {dataEnd.AddDays(-30):yyyy-MM-dd}), so churn_90d and ltv_90d have test cutoffs only from {settings.Split:yyyy-MM-dd} to {dataEnd.AddDays(-90):yyyy-MM-dd}.");
        return text.ToString();
    }

    /// <summary>
    /// The test metrics of <paramref name="modelPath"/> scored one row per call. int8 models quantise their input with
    /// one scale per call (DynamicQuantizeLinear), so a batch's most extreme row sets every other row's precision;
    /// the edge scores customers alone or in small batches.
    /// </summary>
    private static List<(string Task, double Value)> ScoreRowByRow(string modelPath, SetOutcome s)
    {
        using var scorer = OnnxScorer.Load(modelPath);
        var names = s.Set.Features.Select(f => f.Name).ToList();
        var columns = scorer.Features!.Select(n => names.IndexOf(n)).ToArray();
        var test = s.Split.Test;
        var scores = scorer.Outputs.Select(_ => new float[test.Count]).ToArray();
        var row = new float[columns.Length];
        var output = new float[scorer.OutputWidth];
        for (var r = 0; r < test.Count; r++)
        {
            var x = s.Set.X[test[r]];
            for (var j = 0; j < columns.Length; j++)
            {
                row[j] = x[columns[j]];
            }

            scorer.Score(row, output);
            var offset = 0;
            for (var o = 0; o < scorer.Outputs.Count; o++)
            {
                scores[o][r] = output[offset];
                offset += scorer.Outputs[o].Width;
            }
        }

        var tasks = PipelineTask.From(s.Set);
        var metrics = new List<(string, double)>();
        for (var l = 0; l < tasks.Count; l++)
        {
            var task = tasks[l];
            var o = scorer.Outputs.ToList().FindIndex(x => x.Name == task.Name);
            var targets = test.Select(i => task.Target(s.Set.Y[l][i])).ToArray();
            metrics.Add((task.Name, task.Kind == TaskKind.Binary ? Metrics.RocAuc(scores[o], targets) : Metrics.Rmse(scores[o], targets)));
        }

        return metrics;
    }

    private static string Rates(SetOutcome s, IReadOnlyList<int> rows)
    {
        var tasks = PipelineTask.From(s.Set);
        var parts = new List<string>();
        for (var l = 0; l < tasks.Count; l++)
        {
            var y = s.Set.Y[l];
            parts.Add(tasks[l].Kind == TaskKind.Binary
                ? string.Create(CultureInfo.InvariantCulture, $"{tasks[l].Name} {rows.Average(i => (double)y[i]):P1}")
                : string.Create(CultureInfo.InvariantCulture, $"{tasks[l].Name}: {rows.Count(i => y[i] > 0) / (double)rows.Count:P1} spend > 0, mean £{rows.Average(i => (double)y[i]):N0}"));
        }

        return string.Join("; ", parts);
    }

    private static string Format(IReadOnlyList<double> v)
    {
        var mean = v.Average();
        var std = v.Count > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1)) : 0;
        return string.Create(CultureInfo.InvariantCulture, $"{mean:F4} ± {std:F4}");
    }

    private static void Add<TKey>(Dictionary<TKey, List<double>> map, TKey key, double value)
        where TKey : notnull
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        list.Add(value);
    }
}
