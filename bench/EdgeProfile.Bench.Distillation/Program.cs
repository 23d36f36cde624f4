using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeProfile.Bench.Distillation;
using EdgeProfile.Knowledge;
using EdgeProfile.Models;
using EdgeProfile.Training;
using EdgeProfile.Training.Distillation;

// Distillation of operator tag rules into the MMoE (issue 8, item 6) on real customers (UCI Online Retail): the rules
// of rules.txt are the teacher (noisy-OR of their confidences, estimated on the training split), the MMoE student is
// trained with the teacher (α > 0, temperature T) and without it, same seed; both are compared on the test split.
// See README.md. Usage:
//   dotnet run -c Release --project bench/EdgeProfile.Bench.Distillation [-- --seeds 1,2,3,4,5 --alphas 0,0.3,0.7,1 --temperatures 2]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
TorchEnvironment.Prepare();
var seeds = Option("--seeds", "1,2,3,4,5").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var alphas = Option("--alphas", "0,0.3,0.7,1").Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var temperatures = Option("--temperatures", "2").Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
// α = 0 does not depend on T: run it once.
var runs = temperatures.SelectMany((t, i) => alphas.Where(a => a > 0 || i == 0).Select(a => (Alpha: a, Temperature: t))).ToArray();
var threads = int.Parse(Option("--threads", "2"), CultureInfo.InvariantCulture);
const string DataFile = "online_retail_clean.csv.gz";
var data = args.Contains("--data") ? Option("--data", "") : Path.Combine(
    Up(d => File.Exists(Path.Combine(d, "shared", "data", "online-retail", DataFile)), $"../shared/data/online-retail/{DataFile} beside the repository"),
    "shared", "data", "online-retail", DataFile);
var rulesFile = Path.Combine(AppContext.BaseDirectory, "rules.txt");
var total = Stopwatch.StartNew();

// Point-in-time rows: training cutoffs every 30 days, a validation cutoff, a test cutoff 90 days before the data end;
// every label window ends by the next split's cutoff, so no split's labels overlap a later split's.
var (customers, end) = RetailCustomers.Read(data);
DateTime[] trainCutoffs = [new(2011, 3, 14, 0, 0, 0, DateTimeKind.Utc), new(2011, 4, 13, 0, 0, 0, DateTimeKind.Utc), new(2011, 5, 13, 0, 0, 0, DateTimeKind.Utc)];
var validationCutoff = new DateTime(2011, 6, 12, 0, 0, 0, DateTimeKind.Utc);
var testCutoff = new DateTime(2011, 9, 10, 0, 0, 0, DateTimeKind.Utc);
if (testCutoff.AddDays(90) > end.AddDays(1))
{
    throw new InvalidDataException($"the data ends {end:yyyy-MM-dd}, before the test labels do");
}

var train = Concat(trainCutoffs.Select(c => RetailCustomers.Rows(customers, c)));
var validation = Make(RetailCustomers.Rows(customers, validationCutoff));
var test = Make(RetailCustomers.Rows(customers, testCutoff));
var names = RetailCustomers.TaskNames;
Console.WriteLine($"bench-distillation: {data}; {customers.Count} customers, invoices to {end:yyyy-MM-dd}; rules {rulesFile}");
Console.WriteLine($"rows: train {train.Rows} (cutoffs {string.Join(", ", trainCutoffs.Select(c => c.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))}), " +
    $"validation {validation.Rows} ({validationCutoff:yyyy-MM-dd}), test {test.Rows} ({testCutoff:yyyy-MM-dd}); " +
    $"seeds {string.Join(',', seeds)}; α {string.Join(", ", alphas)}; T {string.Join(", ", temperatures)}; {threads} threads, {Environment.ProcessorCount} cores");
for (var t = 0; t < names.Length; t++)
{
    Console.WriteLine($"  {names[t]}: positive rate train {Rate(train, t):F3}, validation {Rate(validation, t):F3}, test {Rate(test, t):F3}");
}

var rules = TagRuleSet.Compile(File.ReadAllText(rulesFile), RetailCustomers.FeatureNames.ToHashSet(StringComparer.Ordinal), out var errors)
    ?? throw new InvalidDataException("rules.txt: " + string.Join("; ", errors));
var taskTags = new Dictionary<string, IReadOnlyCollection<string>>
{
    ["churn_90d"] = ["churn_risk", "lapsed"],
    ["repurchase_30d"] = ["loyal", "big_spender"],
};
var teacher = RuleTeacher.Fit(rules, RetailCustomers.FeatureNames, taskTags, train, names);
var report = new StringBuilder();
report.AppendLine("Teacher (confidences on the training split; Laplace-smoothed precision):").AppendLine()
    .AppendLine("| task | rule | fired (train) | positives | confidence | source |").AppendLine("|---|---|---:|---:|---:|---|");
foreach (var task in teacher.Tasks)
{
    foreach (var r in task.Rules)
    {
        report.AppendLine($"| {task.Name} | {r.RuleId} | {r.Fired} | {r.Positives} | {r.Confidence:F3} | {r.Source} |");
    }
    report.AppendLine($"| {task.Name} | (no rule fired) | {task.NoRuleRows} | {task.NoRulePositives} | {task.NoRuleProbability:F3} | Empirical |");
}

var taughtTrain = teacher.Teach(train, names);
var taughtValidation = teacher.Teach(validation, names);
var spec = new ModelSpec(RetailCustomers.FeatureNames, 4, [32], [16], [.. names.Select(n => new TaskSpec(n, TaskKind.Binary))]);
var options = new TrainingOptions { Epochs = 60, BatchSize = 256, LearningRate = 2e-3, Patience = 8, Threads = threads };
var results = runs.ToDictionary(r => r, _ => new List<DistillationReport>());
foreach (var seed in seeds)
{
    var watch = Stopwatch.StartNew();
    using var baseline = MmoeTrainer.Train(spec, train, validation, options with { Seed = seed });
    var baselinePredictions = baseline.Model.Predict(test.Features);
    var line = $"seed {seed}: no teacher best epoch {baseline.BestEpoch} ({watch.Elapsed.TotalSeconds:F1} s)";
    foreach (var run in runs)
    {
        watch.Restart();
        using var student = MmoeTrainer.Train(spec, taughtTrain, taughtValidation,
            options with { Seed = seed, Distillation = new DistillationOptions { Alpha = run.Alpha, Temperature = run.Temperature } });
        results[run].Add(DistillationReport.Compute(teacher, names, test, student.Model.Predict(test.Features), baselinePredictions));
        line += $"; α {run.Alpha} T {run.Temperature} best epoch {student.BestEpoch} ({watch.Elapsed.TotalSeconds:F1} s)";
    }
    Console.WriteLine(line);
}

report.AppendLine().AppendLine($"Test split ({test.Rows} customers at {testCutoff:yyyy-MM-dd}), mean ± sd over seeds {string.Join(", ", seeds)}:").AppendLine()
    .AppendLine("| task | α | T | AUC no teacher | AUC with teacher | AUC teacher alone | agreement no teacher | agreement with teacher |")
    .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
foreach (var task in names)
{
    foreach (var run in runs)
    {
        var rows = results[run].Select(r => r.Tasks.Single(x => x.Task == task)).ToArray();
        report.AppendLine($"| {task} | {run.Alpha} | {(run.Alpha > 0 ? run.Temperature.ToString(CultureInfo.InvariantCulture) : "–")} | {Stat(rows.Select(r => r.BaselineAuc))} | {Stat(rows.Select(r => r.StudentAuc))} | {rows[0].TeacherAuc:F4} | " +
            $"{Stat(rows.Select(r => r.BaselineAgreement), "F3")} | {Stat(rows.Select(r => r.StudentAgreement), "F3")} |");
    }
}
var firstRun = results[runs[0]][0].Tasks;
report.AppendLine().AppendLine("Rules fired on the test split: " + string.Join(", ", firstRun.Select(r => $"{r.Task} {r.TeacherFiredRate:F3} (positive rate {r.PositiveRate:F3})")));

Console.WriteLine();
Console.Write(report);
Console.WriteLine();
Console.WriteLine($"wall time {total.Elapsed.TotalSeconds:F0} s");
return 0;

string Option(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

static string Up(Func<string, bool> found, string what)
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
    {
        if (found(d.FullName))
        {
            return d.FullName;
        }
    }
    for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
    {
        if (found(d.FullName))
        {
            return d.FullName;
        }
    }
    throw new DirectoryNotFoundException("cannot find " + what);
}

static TrainingData Make((float[][] Features, float[][][] Labels) rows) => new(rows.Features, rows.Labels);

static TrainingData Concat(IEnumerable<(float[][] Features, float[][][] Labels)> parts)
{
    var all = parts.ToArray();
    return new TrainingData(
        [.. all.SelectMany(p => p.Features)],
        [.. Enumerable.Range(0, all[0].Labels.Length).Select(t => all.SelectMany(p => p.Labels[t]).ToArray())]);
}

static double Rate(TrainingData data, int task) => data.Labels[task].Average(r => (double)r[0]);

static string Stat(IEnumerable<double> values, string format = "F4")
{
    var v = values.ToArray();
    var mean = v.Average();
    var sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
    return v.Length > 1 ? $"{mean.ToString(format, CultureInfo.InvariantCulture)} ± {sd.ToString(format, CultureInfo.InvariantCulture)}" : mean.ToString(format, CultureInfo.InvariantCulture);
}
