using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeProfile.Bench.Fusion;
using EdgeProfile.Semantic.MiniLm;
using EdgeProfile.Semantic.Text;
using EdgeProfile.Training;

// Fused customer representation (issue 9): does a SASRec customer embedding and the mean MiniLM embedding of the
// descriptions of the products a customer bought help the MMoE? Point-in-time rows of UCI Online Retail at one cutoff
// (inputs strictly before it, labels from it), customers split 70/10/20; early fusion (concatenated inputs) and late
// fusion (one MMoE per modality, averaged or stacked), seeds 1, 2, 3; repurchase-in-30-days AUC and next-category HR@10.
// See README.md. Usage:
//   dotnet run -c Release --project bench/EdgeProfile.Bench.Fusion [-- --seeds 1,2,3 --cutoff 2011-09-10 --categories 50
//       --text-dim 32 --embedder minilm|hashed --category-weight 30 --dropout 0.2 --weight-decay 0.0001 --sasrec-epochs 200
//       --sasrec-minutes 5 --sasrec-dropout 0.2 --sasrec-lr 0.002 --countries 4 --threads 2 --cache DIR --data FILE]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
TorchEnvironment.Prepare();

var settings = new FusionSettings();
var cutoff = new DateTime(2011, 9, 10, 0, 0, 0, DateTimeKind.Utc);
int categories = 50, textDimensions = 32, countries = 4, threads = 2;
var embedderKind = TextEmbedderFactory.MiniLmKind;
var cache = Path.GetTempPath();
string? data = null;
var sasrec = new EdgeProfile.Training.Sequences.SasRecOptions
{
    MaxLength = 50,
    Dimensions = 64,
    Blocks = 2,
    Heads = 1,
    Dropout = 0.2,
    LearningRate = 2e-3,
    BatchSize = 128,
    MaxEpochs = 200,
    Patience = 3,
    ValidateEvery = 1,
    ValidationUsers = 5000,
    TimeLimit = TimeSpan.FromMinutes(5),
    Threads = 2,
};
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
    double Real() => double.Parse(Next(), CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--seeds": settings = settings with { Seeds = [.. Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))] }; break;
        case "--cutoff": cutoff = DateTime.SpecifyKind(DateTime.ParseExact(Next(), "yyyy-MM-dd", CultureInfo.InvariantCulture), DateTimeKind.Utc); break;
        case "--categories": categories = Int(); break;
        case "--text-dim": textDimensions = Int(); break;
        case "--embedder": embedderKind = Next(); break;
        case "--category-weight": settings = settings with { CategoryWeight = (float)Real() }; break;
        case "--sasrec-epochs": sasrec = sasrec with { MaxEpochs = Int() }; break;
        case "--sasrec-minutes": sasrec = sasrec with { TimeLimit = TimeSpan.FromMinutes(Real()) }; break;
        case "--sasrec-dropout": sasrec = sasrec with { Dropout = Real() }; break;
        case "--sasrec-lr": sasrec = sasrec with { LearningRate = Real() }; break;
        case "--dropout": settings = settings with { Mmoe = settings.Mmoe with { Dropout = Real() } }; break;
        case "--weight-decay": settings = settings with { Mmoe = settings.Mmoe with { WeightDecay = Real() } }; break;
        case "--countries": countries = Int(); break;
        case "--threads": threads = Int(); break;
        case "--cache": cache = Next(); break;
        case "--data": data = Next(); break;
        default: throw new ArgumentException($"unknown option {args[i]}");
    }
}
sasrec = sasrec with { Threads = threads };
settings = settings with { SasRec = sasrec, Mmoe = settings.Mmoe with { Threads = threads } };
settings.Mmoe.Validate();
sasrec.Validate();
data ??= Path.Combine(Up(d => File.Exists(Path.Combine(d, "shared", "data", "online-retail", RetailLines.FileName)),
    $"../shared/data/online-retail/{RetailLines.FileName} beside the repository"), "shared", "data", "online-retail", RetailLines.FileName);

var total = Stopwatch.StartNew();
Console.WriteLine($"bench-fusion: {data}; {Environment.ProcessorCount} cores, {threads} threads; {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
var (lines, withoutCustomer) = RetailLines.Read(data);
var end = lines[^1].At;
if (cutoff.AddDays(CustomerRows.CategoryDays) > end)
{
    throw new InvalidDataException($"the data ends {end:yyyy-MM-dd HH:mm}, before the {CustomerRows.CategoryDays}-day label window from {cutoff:yyyy-MM-dd} does");
}
Console.WriteLine($"lines: {lines.Count:N0} with a customer ({withoutCustomer:N0} without one skipped), {lines[0].At:yyyy-MM-dd} .. {end:yyyy-MM-dd HH:mm}; " +
    $"cutoff {cutoff:yyyy-MM-dd}: {lines.Count(l => l.At < cutoff):N0} lines before, {lines.Count(l => l.At >= cutoff && l.At < cutoff.AddDays(CustomerRows.CategoryDays)):N0} in the {CustomerRows.CategoryDays} days from it");

// Product descriptions → text embeddings (cached) → categories (spherical k-means on the products sold before the cutoff).
var catalogue = Catalogue.Build(lines, cutoff);
var step = Stopwatch.StartNew();
using var embedder = embedderKind == TextEmbedderFactory.MiniLmKind ? new MiniLmTextEmbedder(batchSize: 128, intraOpThreads: threads) : null;
ITextEmbedder textEmbedder = embedder ?? TextEmbedderFactory.Create(embedderKind);
var productVectors = catalogue.Embed(textEmbedder, cache, out var fromCache);
Console.WriteLine($"catalogue: {catalogue.Count:N0} products ({catalogue.SoldBefore.Count(b => b):N0} sold before the cutoff), {catalogue.Descriptions.Distinct(StringComparer.Ordinal).Count():N0} distinct descriptions " +
    $"embedded with {textEmbedder.Name} ({textEmbedder.Dimensions}-d) in {step.Elapsed.TotalSeconds:F1} s{(fromCache ? " (read from the cache in " + cache + ")" : "")}");
var soldBefore = Enumerable.Range(0, catalogue.Count).Where(p => catalogue.SoldBefore[p]).ToArray();
step.Restart();
var centroids = VectorTools.SphericalKMeans([.. soldBefore.Select(p => productVectors[p])], categories, settings.SplitSeed);
var categoryOf = productVectors.Select(v => VectorTools.Nearest(centroids, v)).ToArray();
Console.WriteLine($"categories: spherical k-means (k = {categories}, seed {settings.SplitSeed}) of the {soldBefore.Length:N0} pre-cutoff products' description embeddings in {step.Elapsed.TotalSeconds:F1} s; " +
    "every product (post-cutoff ones too) goes to its nearest centroid. Examples (size: the three descriptions nearest the centroid):");
for (var c = 0; c < categories; c++)
{
    var members = soldBefore.Where(p => categoryOf[p] == c).ToArray();
    var central = members.OrderByDescending(p => VectorTools.Dot(productVectors[p], centroids[c])).Select(p => catalogue.Descriptions[p]).Distinct(StringComparer.Ordinal).Take(3);
    Console.WriteLine($"  c{c:00} ({members.Length,3}): {string.Join(" | ", central)}");
}

// Point-in-time rows and the customer split.
var topCountries = CustomerRows.TopCountries(lines, cutoff, countries);
var rows = CustomerRows.Build(lines, catalogue, cutoff, topCountries);
Console.WriteLine($"rows: {rows.Count:N0} customers with a line before the cutoff; {rows.FeatureNames.Length} tabular columns (one-hot countries: {string.Join(", ", topCountries)}); " +
    $"SASRec items {rows.ItemCount:N0}, sequence length mean {rows.Sequences.Average(s => s.Length):F1} (median {Median(rows.Sequences.Select(s => s.Length))})");
var part = rows.Customers.Select(c => Part(c, settings.SplitSeed)).ToArray();

// Text modality: mean of the bought products' description embeddings (distinct products), unit length, PCA (train rows).
var mean = new float[rows.Count][];
for (var r = 0; r < rows.Count; r++)
{
    mean[r] = new float[textEmbedder.Dimensions];
    foreach (var p in rows.ProductsBefore[r])
    {
        for (var j = 0; j < mean[r].Length; j++)
        {
            mean[r][j] += productVectors[p][j];
        }
    }
    VectorTools.Normalize(mean[r]);
}
float[][] text = mean;
if (textDimensions > 0 && textDimensions < textEmbedder.Dimensions)
{
    step.Restart();
    var pca = VectorTools.FitPca([.. Enumerable.Range(0, rows.Count).Where(r => part[r] == 0).Select(r => mean[r])], textDimensions, settings.SplitSeed);
    text = [.. mean.Select(pca.Project)];
    Console.WriteLine($"text: mean of {textEmbedder.Name} description embeddings per customer, normalised, PCA to {textDimensions} (fitted on the training customers, {pca.ExplainedShare:P1} of the variance) in {step.Elapsed.TotalSeconds:F1} s");
}
else
{
    Console.WriteLine($"text: mean of {textEmbedder.Name} description embeddings per customer, normalised, {textEmbedder.Dimensions}-d (no PCA)");
}
Console.WriteLine($"MMoE: {settings.Experts} experts [{settings.ExpertWidth}], towers [{settings.TowerWidth}]; epochs ≤ {settings.Mmoe.Epochs}, batch {settings.Mmoe.BatchSize}, lr {settings.Mmoe.LearningRate}, patience {settings.Mmoe.Patience}, dropout {settings.Mmoe.Dropout}, weight decay {settings.Mmoe.WeightDecay}, " +
    $"task weights 1 / {settings.CategoryWeight}; SASRec L {sasrec.MaxLength}, d {sasrec.Dimensions}, {sasrec.Blocks} blocks, {sasrec.Heads} head, dropout {sasrec.Dropout}, lr {sasrec.LearningRate}, batch {sasrec.BatchSize}, " +
    $"epochs ≤ {sasrec.MaxEpochs} (validation every {sasrec.ValidateEvery}, patience {sasrec.Patience}, ≤ {sasrec.TimeLimit?.TotalMinutes:F1} min); seeds {string.Join(',', settings.Seeds)}");

var table = FusionExperiment.Run(rows, part, text, categoryOf, categories, settings);
Console.Write(table);
Console.WriteLine($"wall time {total.Elapsed.TotalSeconds:F0} s");
return 0;

// 0 = train (70%), 1 = validation (10%), 2 = test (20%), from an FNV-1a hash of the seeded customer id.
static int Part(string customer, int seed)
{
    var hash = 2166136261u;
    foreach (var b in Encoding.UTF8.GetBytes(seed.ToString(CultureInfo.InvariantCulture) + ":" + customer))
    {
        hash = unchecked((hash ^ b) * 16777619u);
    }
    var bucket = hash % 100;
    return bucket < 70 ? 0 : bucket < 80 ? 1 : 2;
}

static int Median(IEnumerable<int> values)
{
    var sorted = values.Order().ToArray();
    return sorted[sorted.Length / 2];
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
