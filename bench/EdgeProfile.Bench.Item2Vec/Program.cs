using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeProfile.Semantic.Item2Vec;
using EdgeProfile.Semantic.Sequences;

// item2vec (skip-gram with negative sampling) in C# beside gensim's Word2Vec, same sequences, same settings, one run:
// training speed (tokens × epochs per second of training wall time) and next-item quality of both vector sets through the
// same scorer and the same leave-one-out protocol (NextItemEvaluator, HR@10 / NDCG@10, popularity and uniform negatives).
// Usage: dotnet run -c Release --project bench/EdgeProfile.Bench.Item2Vec
//        [-- --dataset beauty|ml-100k --data FILE --threads 2 --seed 1 --dim 64 --window 5 --negatives 5 --sample 1e-3
//            --epochs 5 --min-count 1 --repeats 3 --last-items 3 --validate --python /usr/bin/python3 --no-gensim]
// --validate: also sweeps the scorer's lastItems on the validation holdout (second-to-last item) for both vector sets.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var options = new Item2VecOptions { Threads = Environment.ProcessorCount, Seed = 1 };
string dataset = "beauty", python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
string? data = null;
var repeats = 3;
var lastItems = ItemVectors.DefaultScorerItems;
var validate = false;
var gensim = true;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--dataset": dataset = Next(); break;
        case "--data": data = Next(); break;
        case "--threads": options = options with { Threads = Int() }; break;
        case "--seed": options = options with { Seed = Int() }; break;
        case "--dim": options = options with { Dimensions = Int() }; break;
        case "--window": options = options with { Window = Int() }; break;
        case "--negatives": options = options with { Negatives = Int() }; break;
        case "--sample": options = options with { Subsample = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--epochs": options = options with { Epochs = Int() }; break;
        case "--init-scale": options = options with { InitialScale = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--min-count": options = options with { MinCount = Int() }; break;
        case "--repeats": repeats = Int(); break;
        case "--last-items": lastItems = Int(); break;
        case "--validate": validate = true; break;
        case "--python": python = Next(); break;
        case "--no-gensim": gensim = false; break;
        default: throw new ArgumentException($"unknown option {args[i]}");
    }
}
options.Validate();
ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
var relative = dataset switch
{
    "beauty" => Path.Combine("amazon-sequences", "beauty.txt"),
    "ml-100k" => Path.Combine("movielens-100k", "ml-100k.sasrec.txt"),
    _ => throw new ArgumentException($"--dataset is beauty or ml-100k, not {dataset}"),
};
data ??= Path.Combine(Up(d => File.Exists(Path.Combine(d, "shared", "data", relative)), $"../shared/data/{relative} beside the repository"), "shared", "data", relative);

Console.WriteLine($"bench-item2vec: {data}; {Environment.ProcessorCount} cores; {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; .NET {Environment.Version}");
var set = SequenceDataset.Load(data);
var prefixes = set.TrainingPrefixes().Where(p => p.Length > 0).ToList();
long tokens = prefixes.Sum(p => (long)p.Length);
Console.WriteLine($"data: {set.Sequences.Count:N0} users, {set.ItemCount:N0} items, {set.InteractionCount:N0} interactions; training on the leave-one-out " +
    $"prefixes (all but the last two items): {prefixes.Count:N0} sequences, {tokens:N0} tokens");
Console.WriteLine($"settings (both): skip-gram, negative sampling, dim {options.Dimensions}, window {options.Window}, negatives {options.Negatives}, " +
    $"ns exponent {options.NegativeExponent}, sample {options.Subsample}, min count {options.MinCount}, epochs {options.Epochs}, alpha {options.StartLearningRate} → " +
    $"{options.MinLearningRate}, threads {options.Threads}, seed {options.Seed}; best of {repeats} training runs each");

// Ours: the whole Train call is timed (vocabulary, subsampling and alias tables, initialisation and training).
var ourSeconds = new List<double>();
ItemVectors? ours = null;
for (var r = 0; r < repeats; r++)
{
    var watch = Stopwatch.StartNew();
    var trained = Item2VecTrainer.Train(prefixes, set.ItemCount, options);
    ourSeconds.Add(watch.Elapsed.TotalSeconds);
    ours ??= trained;
    Console.WriteLine($"  ours run {r + 1}: {watch.Elapsed.TotalSeconds:F3} s (training passes {trained.Training!.Elapsed.TotalSeconds:F3} s), " +
        $"{trained.Training.TokensTrained:N0} tokens kept by subsampling");
}

ItemVectors? peer = null;
var peerSeconds = new List<double>();
string peerName = "gensim";
if (gensim)
{
    var dir = Directory.CreateTempSubdirectory("bench-item2vec-");
    try
    {
        var corpus = Path.Combine(dir.FullName, "corpus.txt");
        File.WriteAllLines(corpus, prefixes.Select(p => string.Join(' ', p)));
        var output = Path.Combine(dir.FullName, "gensim.vectors");
        var script = Path.Combine(AppContext.BaseDirectory, "gensim_peer.py");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            script, "--corpus", corpus, "--out", output, "--threads", Str(options.Threads), "--seed", Str(options.Seed), "--dim", Str(options.Dimensions),
            "--window", Str(options.Window), "--negatives", Str(options.Negatives), "--ns-exponent", Str(options.NegativeExponent),
            "--sample", Str(options.Subsample), "--min-count", Str(options.MinCount), "--epochs", Str(options.Epochs),
            "--alpha", Str(options.StartLearningRate), "--min-alpha", Str(options.MinLearningRate), "--repeats", Str(repeats),
        })
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["PYTHONHASHSEED"] = "0"; // gensim seeds each initial vector from hash(word + seed)
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {python}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{python} {script} failed with exit code {process.ExitCode}:\n{await stderr}");
        }
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var root = json.RootElement;
        peerSeconds.AddRange(root.GetProperty("seconds").EnumerateArray().Select(e => e.GetDouble()));
        peerName = $"gensim {root.GetProperty("gensim").GetString()}";
        Console.WriteLine($"  {peerName} (python {root.GetProperty("python").GetString()}, FAST_VERSION {root.GetProperty("fast_version").GetInt32()}): " +
            $"runs {string.Join(", ", peerSeconds.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)))} s; last run trained " +
            $"{root.GetProperty("trained_words").GetInt64():N0} effective words of {root.GetProperty("raw_words").GetInt64():N0} raw");
        peer = ReadGensimVectors(output, set.ItemCount);
    }
    finally
    {
        dir.Delete(recursive: true);
    }
}

var threads = options.Threads;
if (validate)
{
    Console.WriteLine();
    Console.WriteLine("validation holdout (second-to-last item), HR@10 / NDCG@10 by the scorer's lastItems:");
    Console.WriteLine("| lastItems | ours pop-neg HR@10 | ours uni-neg HR@10 | ours pop-neg NDCG@10 | peer pop-neg HR@10 | peer uni-neg HR@10 |");
    Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
    foreach (var n in new[] { 1, 2, 3, 5, 10, 20, 1000 })
    {
        var pop = NextItemEvaluator.Evaluate(set, ours!.ToScorer(n), CandidateSet.PopularityNegatives, Holdout.Validation, threads: threads);
        var uni = NextItemEvaluator.Evaluate(set, ours.ToScorer(n), CandidateSet.UniformNegatives, Holdout.Validation, threads: threads);
        var peerPop = peer is null ? null : NextItemEvaluator.Evaluate(set, peer.ToScorer(n), CandidateSet.PopularityNegatives, Holdout.Validation, threads: threads);
        var peerUni = peer is null ? null : NextItemEvaluator.Evaluate(set, peer.ToScorer(n), CandidateSet.UniformNegatives, Holdout.Validation, threads: threads);
        Console.WriteLine($"| {n} | {pop.HitRate10:F4} | {uni.HitRate10:F4} | {pop.Ndcg10:F4} | {peerPop?.HitRate10.ToString("F4", CultureInfo.InvariantCulture) ?? "-"} | " +
            $"{peerUni?.HitRate10.ToString("F4", CultureInfo.InvariantCulture) ?? "-"} |");
    }
}

Console.WriteLine();
Console.WriteLine($"test holdout (last item), 100 negatives, scorer = cosine to the mean of the last {lastItems} history items' unit vectors:");
var rows = new List<(string Name, double? Seconds, RankingMetrics Pop, RankingMetrics Uni)>
{
    ("ours (C#)", ourSeconds.Min(), Eval(ours!.ToScorer(lastItems), CandidateSet.PopularityNegatives), Eval(ours.ToScorer(lastItems), CandidateSet.UniformNegatives)),
};
if (peer is not null)
{
    rows.Add((peerName, peerSeconds.Min(), Eval(peer.ToScorer(lastItems), CandidateSet.PopularityNegatives), Eval(peer.ToScorer(lastItems), CandidateSet.UniformNegatives)));
}
var popular = new MostPopularScorer(set);
rows.Add(("most popular (reference)", null, Eval(popular, CandidateSet.PopularityNegatives), Eval(popular, CandidateSet.UniformNegatives)));

Console.WriteLine("| model | train s (best) | tokens×epochs / s | HR@10 pop-neg | NDCG@10 pop-neg | HR@10 uni-neg | NDCG@10 uni-neg |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
var work = tokens * options.Epochs;
foreach (var row in rows)
{
    var speed = row.Seconds is { } s ? (work / s).ToString("N0", CultureInfo.InvariantCulture) : "-";
    Console.WriteLine($"| {row.Name} | {row.Seconds?.ToString("F3", CultureInfo.InvariantCulture) ?? "-"} | {speed} | {row.Pop.HitRate10:F4} | {row.Pop.Ndcg10:F4} | {row.Uni.HitRate10:F4} | {row.Uni.Ndcg10:F4} |");
}
if (peer is not null)
{
    var (o, g) = (rows[0], rows[1]);
    Console.WriteLine($"| ratio ours / {peerName} | | {g.Seconds!.Value / o.Seconds!.Value:F2}x (goal >= 0.5x) | {o.Pop.HitRate10 / g.Pop.HitRate10:F3} | " +
        $"{o.Pop.Ndcg10 / g.Pop.Ndcg10:F3} | {o.Uni.HitRate10 / g.Uni.HitRate10:F3} | {o.Uni.Ndcg10 / g.Uni.Ndcg10:F3} |");
    Console.WriteLine($"speed = {tokens:N0} tokens × {options.Epochs} epochs / training wall seconds, the same count for both (ours: the whole Train call; " +
        "gensim: model.train only). HR goal: ours within 5 % of gensim's.");
}
Console.WriteLine($"users evaluated: {rows[0].Pop.Users:N0}");

RankingMetrics Eval(INextItemScorer scorer, CandidateSet candidates) => NextItemEvaluator.Evaluate(set, scorer, candidates, Holdout.Test, threads: threads);

static string Str(double value) => value.ToString(CultureInfo.InvariantCulture);

// Format of gensim_peer.py: int32 count, int32 dim, then per item int32 id and float32[dim], little-endian.
static ItemVectors ReadGensimVectors(string path, int itemCount)
{
    using var reader = new BinaryReader(File.OpenRead(path));
    var count = reader.ReadInt32();
    var dim = reader.ReadInt32();
    var values = new float[(itemCount + 1) * dim];
    var known = new bool[itemCount + 1];
    for (var i = 0; i < count; i++)
    {
        var item = reader.ReadInt32();
        if (item < 1 || item > itemCount || known[item])
        {
            throw new InvalidDataException($"gensim vectors: bad or repeated item {item}");
        }
        known[item] = true;
        for (var d = 0; d < dim; d++)
        {
            values[item * dim + d] = reader.ReadSingle();
        }
    }
    return new ItemVectors(itemCount, dim, values, known);
}

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
