using System.Diagnostics;
using System.Globalization;
using EdgeProfile.Bench.GraphEmbeddings;
using EdgeProfile.Training;
using EdgeProfile.Training.Graph;

// GraphSAGE (mean aggregator, 2 layers, neighbour sampling) on the Complete Journey customer–product–category graph:
// which category will a customer buy next? Time split (the last 20% of the time range held out), AUC and Hits@10 /
// Recall@10 on the held-out first purchases of new categories, against popularity and co-purchase baselines, in one run.
// Usage: dotnet run -c Release --project bench/EdgeProfile.Bench.GraphEmbeddings
//        [-- --epochs 20 --dim 64 --seed 1 --lr 0.01 --batch 512 --negatives 1 --fanouts 10,5 --inputs Categories|NodeIds --threads 2
//            --test-fraction 0.2 --data DIR --out embeddings.csv --validate --ablation]
// --validate: tuning mode; the test period is dropped and the same split is made inside the training period (its last
// 20% held out), so settings are chosen without looking at the test pairs.
// --ablation: then also trains the MMoE on point-in-time household rows at the cutoff with and without the embedding
// columns (seeds 1, 2, 3) and prints test AUC of both (Ablation.cs; README "Embeddings as features (ablation)").
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
TorchEnvironment.Prepare();
// Defaults chosen on the validation split (--validate), not on the test pairs; see README.md.
var options = new GraphSageOptions { Epochs = 20, Inputs = GraphSageInputs.Categories, Dimension = 64, Seed = 1, LearningRate = 0.01, BatchSize = 512, NegativesPerPositive = 1, Fanouts = [10, 5], Threads = 2 };
string? data = null, outPath = null;
var testFraction = 0.2;
var validate = false;
var ablation = false;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--epochs": options = options with { Epochs = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--dim": options = options with { Dimension = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--seed": options = options with { Seed = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--lr": options = options with { LearningRate = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--weight-decay": options = options with { WeightDecay = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--batch": options = options with { BatchSize = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--negatives": options = options with { NegativesPerPositive = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--fanouts": options = options with { Fanouts = [.. Next().Split(',').Select(f => int.Parse(f, CultureInfo.InvariantCulture))] }; break;
        case "--inputs": options = options with { Inputs = Enum.Parse<GraphSageInputs>(Next(), ignoreCase: true) }; break;
        case "--threads": options = options with { Threads = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--test-fraction": testFraction = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--data": data = Next(); break;
        case "--validate": validate = true; break;
        case "--ablation": ablation = true; break;
        case "--out": outPath = Next(); break;
        default: throw new ArgumentException($"unknown option {args[i]}");
    }
}
options.Validate();
if (validate && ablation)
{
    throw new ArgumentException("--ablation uses the test cutoff; it cannot be combined with --validate");
}
data ??= Path.Combine(Up(d => File.Exists(Path.Combine(d, "shared", "data", "completejourney", CompleteJourneyPurchases.TransactionsFile)),
    "../shared/data/completejourney beside the repository"), "shared", "data", "completejourney");

var total = Stopwatch.StartNew();
Console.WriteLine($"bench-graph-embeddings: {data}; {Environment.ProcessorCount} cores; {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine($"options: epochs {options.Epochs}, dim {options.Dimension}, fan-outs {string.Join(',', options.Fanouts)}, batch {options.BatchSize}, negatives {options.NegativesPerPositive}, lr {options.LearningRate}, weight decay {options.WeightDecay}, inputs {options.Inputs}, seed {options.Seed}, threads {options.Threads}");
var loaded = CompleteJourneyPurchases.Load(data);
Console.WriteLine($"purchases: {loaded.Lines:N0} lines, {loaded.WithoutCategory:N0} without a product category left out, {loaded.Purchases.Count:N0} used");

var split = TemporalLinkSplit.ByFraction(loaded.Purchases, testFraction);
if (validate)
{
    var before = loaded.Purchases.Where(p => p.Time < split.Cutoff).ToList();
    Console.WriteLine($"VALIDATION mode: test period from {split.Cutoff:yyyy-MM-dd HH:mm} dropped; splitting the {before.Count:N0} earlier lines again");
    split = TemporalLinkSplit.ByFraction(before, testFraction);
}
var graph = split.Graph;
Console.WriteLine($"cutoff {split.Cutoff:yyyy-MM-dd HH:mm} (last {testFraction:P0} of the time range held out): {split.TrainPurchases:N0} lines before, {split.TestPurchases:N0} after");
Console.WriteLine($"training graph: {graph.CustomerCount:N0} customers, {graph.ProductCount:N0} products, {graph.CategoryCount:N0} categories, {graph.EdgeCount:N0} edges; " +
    $"{Enumerable.Range(0, graph.CustomerCount).Sum(c => graph.History(c).Count):N0} customer–category links");
Console.WriteLine($"held out: {split.HeldOutPairs:N0} new customer–category pairs for {split.HeldOut.Count:N0} customers " +
    $"(left out: {split.NewCustomerPairs:N0} pairs of customers with no purchase before the cutoff, {split.NewCategoryPairs:N0} of categories not seen before it)");

var watch = Stopwatch.StartNew();
var popularity = new PopularityBaseline(graph);
var coPurchase = new CoPurchaseBaseline(graph);
Console.WriteLine($"baselines built in {watch.ElapsedMilliseconds} ms");

using var result = GraphSageTrainer.Train(graph, options, (epoch, loss) => Console.WriteLine($"  epoch {epoch,3}: loss {loss:F4}"));
Console.WriteLine($"GraphSAGE: {result.TrainingLinks:N0} positive links per epoch, trained in {result.TrainingTime.TotalSeconds:F1} s ({result.TrainingTime.TotalSeconds / options.Epochs:F2} s/epoch)");

var results = LinkPredictionEvaluation.Evaluate(split, [result.Scorer(), popularity, coPurchase], k: 10, seed: options.Seed);
Console.WriteLine();
Console.Write(LinkPredictionEvaluation.ToTable(results));
foreach (var baseline in results.Skip(1))
{
    var (hd, hl, hh) = results[0].PairedDifference(baseline, hits: true, seed: options.Seed);
    var (rd, rl, rh) = results[0].PairedDifference(baseline, hits: false, seed: options.Seed);
    Console.WriteLine($"GraphSAGE − {baseline.Name}: Hits@10 {hd:+0.0000;−0.0000} [{hl:+0.0000;−0.0000}, {hh:+0.0000;−0.0000}], Recall@10 {rd:+0.0000;−0.0000} [{rl:+0.0000;−0.0000}, {rh:+0.0000;−0.0000}] (paired bootstrap over customers, 95%)");
}

var table = GraphEmbeddingTable.FromGraph(graph, result.CustomerEmbeddings);
var path = outPath ?? Path.Combine(Path.GetTempPath(), $"graph-embeddings-{Environment.ProcessId}.csv");
table.Write(path);
var back = GraphEmbeddingTable.Read(path);
Console.WriteLine($"customer embeddings: {table.Count:N0} × {table.Dimension} written to {path} ({new FileInfo(path).Length / 1024:N0} KiB; read back {back.Count:N0} rows)");
if (outPath is null)
{
    File.Delete(path);
}
if (ablation)
{
    Ablation.Run(data, loaded.Purchases, split, back, seeds: [1, 2, 3], options.Threads);
}
Console.WriteLine($"wall time {total.Elapsed.TotalSeconds:F0} s");
return 0;

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
