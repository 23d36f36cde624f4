using System.Diagnostics;
using System.Globalization;
using EdgeProfile.Models;
using EdgeProfile.Models.Explaining;
using EdgeProfile.Models.Reference;

// Per-decision explanation latency on the production MMoE (4 experts × [32], towers [16]; repurchase, churn, LTV and an
// 8-label category propensity): exact Shapley over 12 and 16 feature groups, KernelSHAP over 64 features and LIME with
// 5,000 samples, each beside a brute-force reference computed in the same run (the same definition evaluated row by row
// through the plain double-precision reference network, or, for KernelSHAP, a converged estimate with 64× the samples).
// Usage: dotnet run -c Release --project bench/EdgeProfile.Bench.Explanations [-- --reps 20 --background 16 --threads 1]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
int reps = Arg("--reps", 20);
int backgroundRows = Arg("--background", 16);
int threads = Arg("--threads", 1);
int bruteReps = Arg("--brute-reps", 2);
int bootstrap = Arg("--bootstrap", 32);
int samplesFactor = Arg("--samples-factor", 1);

Console.WriteLine($"explanations bench: {reps} decisions per case, background {backgroundRows} rows, {threads} thread(s), {Environment.ProcessorCount} cores");
Console.WriteLine("case | ours median ms | ours p95 ms | reference | reference ms | ratio | agreement");
string only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault() ?? "exact,kernel,lime";
if (only.Contains("exact", StringComparison.Ordinal))
{
    Exact(40, 9, task: null); // the built-in features' 9 groups: what the edge does for every score
    Exact(40, 12, task: null);
    Exact(40, 16, task: null);
    Exact(40, 12, task: "churn_90d");
    Exact(40, 16, task: "churn_90d");
}

if (only.Contains("kernel", StringComparison.Ordinal))
{
    // One sample shared by every row and the default (a sample per background row), alternating twice in the same run.
    Kernel(64, samplePerRow: false);
    Kernel(64, samplePerRow: true);
    Kernel(64, samplePerRow: false);
    Kernel(64, samplePerRow: true);
}

if (only.Contains("lime", StringComparison.Ordinal))
{
    LimeCase(64);
}
return 0;

void Exact(int features, int groupCount, string? task)
{
    var weights = Production(features, seed: 1);
    if (task is not null)
    {
        // One decision = one task's score: the shared experts, that task's gate and tower.
        weights = TaskSubset.Of(weights, task);
    }

    var fast = new MmoeFunction(weights) { MaxDegreeOfParallelism = threads };
    var reference = new ReferenceFunction(new ReferenceModel(weights));
    var groups = Contiguous(features, groupCount);
    var background = Rows(features, backgroundRows, seed: 2);
    var decisions = Decisions(features, reps, seed: 3);
    ExactShapley.Explain(fast, decisions[0], background, groups); // warm-up
    var times = new List<double>();
    Attribution[]? last = null;
    foreach (var x in decisions)
    {
        var watch = Stopwatch.StartNew();
        last = ExactShapley.Explain(fast, x, background, groups);
        times.Add(watch.Elapsed.TotalMilliseconds);
    }

    // Brute force: every coalition row built and run through the reference network, one row at a time.
    double bruteMs = 0, maxDiff = 0;
    for (int r = 0; r < bruteReps; r++)
    {
        var x = decisions[r];
        var ours = ExactShapley.Explain(fast, x, background, groups);
        var watch = Stopwatch.StartNew();
        var brute = ExactShapley.Explain(reference, x, background, groups);
        bruteMs += watch.Elapsed.TotalMilliseconds;
        for (int o = 0; o < ours.Length; o++)
        {
            for (int g = 0; g < groupCount; g++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(ours[o].Values[g] - brute[o].Values[g]));
            }
        }
    }

    bruteMs /= bruteReps;
    var done = last!;
    var additivity = done.Max(a => a.AdditivityError);
    Row($"exact Shapley, {groupCount} groups ({features} features, {1 << groupCount} coalitions × {backgroundRows} rows, {(task is null ? $"all {done.Length} outputs" : task)})",
        times, "brute force (reference net, row by row)", bruteMs, $"max |Δφ| {maxDiff:G2}, additivity {additivity:G2}");
}

void Kernel(int features, bool samplePerRow)
{
    var weights = Production(features, seed: 4);
    var fast = new MmoeFunction(weights) { MaxDegreeOfParallelism = threads };
    var groups = FeatureGroups.Singletons(weights.Spec.Features);
    var background = Rows(features, backgroundRows, seed: 5);
    var decisions = Decisions(features, reps, seed: 6);
    int samples = ((2 * features) + 2048) * samplesFactor;
    var kernelOptions = new KernelShapOptions { Samples = samples, Bootstrap = bootstrap, SamplePerRow = samplePerRow };
    for (int w = 0; w < 10; w++)
    {
        // Warm-up: ten calls, so tiered compilation has recompiled the hot loops before the timed decisions.
        KernelShap.Explain(fast, decisions[w % decisions.Count], background, groups, kernelOptions with { Seed = 1000 + w });
    }

    var times = new List<double>();
    foreach (var x in decisions)
    {
        var watch = Stopwatch.StartNew();
        KernelShap.Explain(fast, x, background, groups, kernelOptions);
        times.Add(watch.Elapsed.TotalMilliseconds);
    }

    // Reference: KernelSHAP with 64× the default samples, a sample per row (converged; its own standard error is printed).
    double refMs = 0, worst = 0, sum = 0, refSe = 0;
    int compared = 0;
    for (int r = 0; r < bruteReps; r++)
    {
        var x = decisions[r];
        var ours = KernelShap.Explain(fast, x, background, groups, kernelOptions);
        var watch = Stopwatch.StartNew();
        var reference = KernelShap.Explain(fast, x, background, groups, new KernelShapOptions { Samples = ((2 * features) + 2048) * 64, Seed = 99, Bootstrap = 8 });
        refMs += watch.Elapsed.TotalMilliseconds;
        for (int o = 0; o < ours.Length; o++)
        {
            double l1 = 0, norm = 0;
            for (int g = 0; g < features; g++)
            {
                l1 += Math.Abs(ours[o].Values[g] - reference[o].Values[g]);
                norm += Math.Abs(reference[o].Values[g]);
                refSe = Math.Max(refSe, reference[o].StandardErrors?[g] ?? 0);
            }

            worst = Math.Max(worst, l1 / norm);
            sum += l1 / norm;
            compared++;
        }
    }

    refMs /= bruteReps;
    Row($"KernelSHAP, {features} features ({samples} samples × {backgroundRows} rows, {(samplePerRow ? "a sample per row" : "one shared sample")}, standard errors {(bootstrap > 0 ? "on" : "off")})", times, $"KernelSHAP with {((2 * features) + 2048) * 64} samples",
        refMs, $"relative L1 mean {100 * sum / compared:F2} %, worst {100 * worst:F2} % (reference SE ≤ {refSe:G2})");
}

void LimeCase(int features)
{
    var weights = Production(features, seed: 7);
    var fast = new MmoeFunction(weights) { MaxDegreeOfParallelism = threads };
    var reference = new ReferenceFunction(new ReferenceModel(weights));
    var groups = FeatureGroups.Singletons(weights.Spec.Features);
    var background = Rows(features, backgroundRows, seed: 8);
    var decisions = Decisions(features, Math.Max(3, reps / 4), seed: 9);
    var options = new LimeOptions { Samples = 5000 };
    Lime.Explain(fast, decisions[0], background, groups, options);
    var times = new List<double>();
    foreach (var x in decisions)
    {
        var watch = Stopwatch.StartNew();
        Lime.Explain(fast, x, background, groups, options);
        times.Add(watch.Elapsed.TotalMilliseconds);
    }

    double refMs = 0, maxDiff = 0;
    for (int r = 0; r < bruteReps; r++)
    {
        var ours = Lime.Explain(fast, decisions[r], background, groups, options);
        var watch = Stopwatch.StartNew();
        var slow = Lime.Explain(reference, decisions[r], background, groups, options);
        refMs += watch.Elapsed.TotalMilliseconds;
        for (int o = 0; o < ours.Length; o++)
        {
            for (int g = 0; g < features; g++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(ours[o].Values[g] - slow[o].Values[g]));
            }
        }
    }

    refMs /= bruteReps;
    Row($"LIME, {features} features (5000 samples × {backgroundRows} rows)", times, "the same LIME on the reference net", refMs, $"max |Δβ| {maxDiff:G2}");
}

void Row(string name, List<double> times, string referenceName, double referenceMs, string agreement)
{
    times.Sort();
    double median = times[times.Count / 2];
    double p95 = times[Math.Min(times.Count - 1, (int)Math.Ceiling(0.95 * times.Count) - 1)];
    Console.WriteLine($"{name} | {median:F2} | {p95:F2} | {referenceName} | {referenceMs:F1} | {referenceMs / median:F1}x | {agreement}");
}

int Arg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

// The production architecture (ModelPipeline's defaults) with seeded weights scaled like a trained network's.
static ModelWeights Production(int features, int seed)
{
    var random = new Random(seed);
    var spec = new ModelSpec([.. Enumerable.Range(0, features).Select(i => $"f{i:00}")], 4, [32], [16],
    [
        new TaskSpec("repurchase_30d", TaskKind.Binary),
        new TaskSpec("churn_90d", TaskKind.Binary),
        new TaskSpec("ltv_90d", TaskKind.Regression),
        new TaskSpec("category_propensity", TaskKind.MultiLabel, [.. Enumerable.Range(0, 8).Select(i => $"c{i}")]),
    ]);
    DenseWeights Dense(int inputs, int outputs) => new(inputs, outputs,
        [.. Enumerable.Range(0, inputs * outputs).Select(_ => (float)((random.NextDouble() - 0.5) * 2 * Math.Sqrt(6.0 / (inputs + outputs))))],
        [.. Enumerable.Range(0, outputs).Select(_ => (float)((random.NextDouble() - 0.5) * 0.1))]);
    var experts = Enumerable.Range(0, 4).Select(_ => (IReadOnlyList<DenseWeights>)[Dense(features, 32)]).ToList();
    var gates = spec.Tasks.Select(_ => Dense(features, 4)).ToList();
    var towers = spec.Tasks.Select(t => (IReadOnlyList<DenseWeights>)[Dense(32, 16), Dense(16, t.Outputs)]).ToList();
    return new ModelWeights(spec, [.. Enumerable.Range(0, features).Select(_ => (float)(random.NextDouble() * 5))],
        [.. Enumerable.Range(0, features).Select(_ => (float)(1 + random.NextDouble() * 4))], experts, gates, towers);
}

static FeatureGroups Contiguous(int features, int groups)
{
    var members = Enumerable.Range(0, groups).Select(g => Enumerable.Range(0, features).Where(i => i * groups / features == g).ToArray()).ToList();
    return new FeatureGroups(features, [.. Enumerable.Range(0, groups).Select(g => $"g{g:00}")], members);
}

static Background Rows(int features, int count, int seed)
{
    var random = new Random(seed);
    // Float-representable values: the reference network reads float rows, so both sides see the same numbers.
    return new Background([.. Enumerable.Range(0, count * features).Select(_ => (double)(float)(random.NextDouble() * 10))], features, $"{count} random rows");
}

static List<double[]> Decisions(int features, int count, int seed)
{
    var random = new Random(seed);
    return [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, features).Select(_ => (double)(float)(random.NextDouble() * 10)).ToArray())];
}
