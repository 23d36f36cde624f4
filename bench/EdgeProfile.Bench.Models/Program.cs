using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeProfile.Bench.Models;
using EdgeProfile.Training.Census;

// UCI Adult, two tasks as in the MMoE paper's census setup (income > 50K; never married): MMoE, shared-bottom,
// single-task MLP and logistic regression trained with TorchSharp (three seeds), and — in the same invocation, on the
// same features and files — Debian's python3-xgboost (bench/models/adult_xgboost.py). Test AUC mean ± std.
// xgboost gets the same training/validation/test rows (the validation rows of each seed are handed to it in a file) and
// the raw numeric + one-hot columns (trees need no numeric encoding); the networks get those columns plus the
// piecewise-linear encoding and the leaf indicators of 50 boosted trees per task, both fitted on each seed's training rows.
// Usage: dotnet run -c Release --project bench/EdgeProfile.Bench.Models [-- --data DIR --seeds 1,2,3 --threads 2]
//        ... [-- --search NAME,NAME|all]: the configuration search (validation AUC only; see Search.cs)
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
string? data = null;
string? search = null;
var seeds = new[] { 1, 2, 3 };
var threads = 2;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--data": data = args[i + 1]; break;
        case "--seeds": seeds = args[i + 1].Split(',').Select(int.Parse).ToArray(); break;
        case "--threads": threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--search": search = args[i + 1]; break;
        default: throw new ArgumentException($"unknown option {args[i]} (--data DIR --seeds 1,2,3 --threads 2 --search NAME,NAME|all)");
    }
}

var root = Up(d => File.Exists(Path.Combine(d, "EdgeProfile.sln")), "the repository (EdgeProfile.sln)");
data ??= Path.Combine(Up(d => Directory.Exists(Path.Combine(d, "shared", "data", "adult")), "../shared/data/adult beside the repository"), "shared", "data", "adult");
Console.WriteLine($"bench-models: UCI Adult from {data}; seeds {string.Join(',', seeds)}; {threads} threads; {Environment.ProcessorCount} cores");
if (search is not null)
{
    Search.Run(data, search == "all" ? Search.Configurations.Keys : search.Split(','), seeds, threads);
    return 0;
}

var watch = Stopwatch.StartNew();
var options = new CensusEvaluationOptions { Seeds = seeds };
options = options with { Training = options.Training with { Threads = threads } };
var dataset = AdultDataset.Load(data);
var ours = CensusEvaluation.Evaluate(dataset, options);
Console.WriteLine($"  TorchSharp models trained and scored in {watch.Elapsed.TotalSeconds:F0} s");

watch.Restart();
var script = Path.Combine(root, "bench", "models", "adult_xgboost.py");
var splitFile = Path.Combine(Path.GetTempPath(), $"adult-split-{Environment.ProcessId}.json");
File.WriteAllText(splitFile, JsonSerializer.Serialize(seeds.ToDictionary(
    s => s.ToString(CultureInfo.InvariantCulture), s => CensusEvaluation.ValidationRows(dataset.Train.Rows, options.ValidationFraction, s))));
var psi = new ProcessStartInfo("/usr/bin/python3", [script, data, "--seeds", string.Join(',', seeds), "--threads", threads.ToString(CultureInfo.InvariantCulture), "--split", splitFile])
{
    RedirectStandardOutput = true,
    RedirectStandardError = true,
};
using var python = Process.Start(psi)!;
var stdout = python.StandardOutput.ReadToEndAsync();
var stderr = python.StandardError.ReadToEndAsync();
await python.WaitForExitAsync();
File.Delete(splitFile);
var xgb = new Dictionary<string, (double Mean, double Std, double Validation)>();
if (python.ExitCode == 0)
{
    foreach (var line in (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries))
    {
        var json = JsonDocument.Parse(line).RootElement;
        xgb[json.GetProperty("task").GetString()!] = (json.GetProperty("auc_mean").GetDouble(), json.GetProperty("auc_std").GetDouble(), json.GetProperty("validation_auc_mean").GetDouble());
    }

    Console.WriteLine($"  xgboost trained and scored in {watch.Elapsed.TotalSeconds:F0} s (same validation rows per seed; raw numeric + one-hot columns)");
}
else
{
    Console.WriteLine($"  xgboost failed (apt-get install -y python3-xgboost python3-sklearn): {(await stderr).Trim()}");
}

var tasks = ours.Rows.Select(r => r.Task).Distinct().ToList();
Console.WriteLine();
Console.WriteLine($"| model | features | {string.Join(" | ", tasks.Select(t => $"{t} test AUC"))} | {string.Join(" | ", tasks.Select(t => $"{t} validation AUC"))} |");
Console.WriteLine($"|---|---|{string.Concat(tasks.Select(_ => "---:|"))}{string.Concat(tasks.Select(_ => "---:|"))}");
var networkFeatures = options.PiecewiseLinearBins <= 0 ? "numeric + one-hot"
    : $"numeric + one-hot + PLE (≤{options.PiecewiseLinearBins} {(options.TargetAwareBins ? "target-aware" : "quantile")} bins)";
if (options.TreeLeafTrees > 0)
{
    networkFeatures += $" + leaves of {options.TreeLeafTrees} boosted trees of depth {options.TreeLeafDepth} per task";
}

foreach (var model in ours.Rows.Select(r => r.Model).Distinct())
{
    Console.WriteLine($"| {model} | {networkFeatures} | {string.Join(" | ", tasks.Select(t => Auc(ours[model, t].MeanAuc, ours[model, t].StdAuc)))} | {string.Join(" | ", tasks.Select(t => $"{ours[model, t].ValidationMeanAuc:F4}"))} |");
}

Console.WriteLine($"| xgboost (python3-xgboost) | numeric + one-hot | {string.Join(" | ", tasks.Select(t => xgb.TryGetValue(t, out var x) ? Auc(x.Mean, x.Std) : "n/a"))} | {string.Join(" | ", tasks.Select(t => xgb.TryGetValue(t, out var x) ? $"{x.Validation:F4}" : "n/a"))} |");
Console.WriteLine();
foreach (var task in tasks)
{
    var mmoe = ours[CensusEvaluation.Mmoe, task].MeanAuc;
    var mlp = ours[CensusEvaluation.SingleTaskMlp, task].MeanAuc;
    var gap = xgb.TryGetValue(task, out var x) ? x.Mean - mmoe : double.NaN;
    var met = gap <= 0.005 && mmoe > mlp;
    Console.WriteLine($"Goal (issue), {task}: MMoE within 0.005 AUC of xgboost and above the single-task MLP: {(met ? "met" : "NOT met")} (xgboost − MMoE = {Signed(gap)}, MMoE − MLP = {Signed(mmoe - mlp)})");
}

return 0;

static string Auc(double mean, double std) => $"{mean:F4} ± {std:F4}";

static string Signed(double value) => double.IsNaN(value) ? "n/a" : $"{(value < 0 ? "−" : "+")}{Math.Abs(value):F5}";

static string Up(Func<string, bool> found, string what)
{
    foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (found(dir.FullName))
            {
                return dir.FullName;
            }
        }
    }

    throw new InvalidOperationException($"{what} not found above the working directory or the binary");
}
