using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeProfile.Models;
using EdgeProfile.Training;
using EdgeProfile.Training.Graph;

namespace EdgeProfile.Bench.GraphEmbeddings;

/// <summary>
/// Do GraphSAGE customer embeddings help the MMoE as features? Point-in-time rows per household at the graph's cutoff:
/// tabular features from the lines strictly before the cutoff, two binary labels from the lines at or after it
/// (<c>repurchase_30d</c>: any line in the 30 days from the cutoff; <c>new_category_60d</c>: a line in the 60 days from
/// the cutoff of a category the household had not bought before it). The MMoE is trained with identical options and
/// seeds on the tabular columns only, on the tabular columns plus the embedding columns, and (for reference) on the
/// embedding columns only, on a 60/20/20 train/validation/test split of the households by a hash of their id; test AUC
/// is reported per task (mean ± sd over the seeds) with a paired bootstrap over test households of the difference of
/// the seed-averaged predictions.
/// </summary>
internal static class Ablation
{
    /// <summary>Tabular feature names, in column order (counts and amounts are on the log1p scale).</summary>
    internal static readonly string[] TabularFeatures =
    [
        "days_since_last", "days_since_first", "mean_days_between_baskets",
        "log_lines_30d", "log_lines_90d", "log_lines_all",
        "log_baskets_30d", "log_baskets_90d", "log_baskets_all",
        "log_spend_30d", "log_spend_90d", "log_spend_all",
        "log_discount_all", "log_categories_all", "log_categories_90d", "log_products_all", "log_stores_all",
    ];

    /// <summary>Task names, in label order.</summary>
    internal static readonly string[] TaskNames = ["repurchase_30d", "new_category_60d"];

    /// <summary>Seed of the household split (fixed, independent of the training seeds).</summary>
    private const int SplitSeed = 20261130;

    /// <summary>Label windows from the cutoff, in days.</summary>
    private const int RepurchaseDays = 30, NewCategoryDays = 60;

    /// <summary>Household splits of the robustness check (the first is the main split).</summary>
    private const int RobustnessSplits = 5;

    /// <summary>Bootstrap resamples of the paired AUC difference.</summary>
    private const int Resamples = 2000;

    /// <summary>
    /// Builds the rows, trains the three variants for every seed in <paramref name="seeds"/> and prints the table.
    /// <paramref name="purchases"/> are the categorised purchase lines the graph was built from (for each product's
    /// category); <paramref name="embeddings"/> are the customer embeddings of the GraphSAGE model trained on
    /// <paramref name="split"/>'s graph (purchases before the cutoff only).
    /// </summary>
    public static void Run(string directory, IReadOnlyList<GraphPurchase> purchases, TemporalLinkSplit split, GraphEmbeddingTable embeddings, IReadOnlyList<int> seeds, int threads)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(purchases);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(seeds);
        var watch = Stopwatch.StartNew();
        var categoryOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in purchases)
        {
            categoryOf[p.Product] = p.Category;
        }
        var lines = ReadLines(Path.Combine(directory, CompleteJourneyPurchases.TransactionsFile));
        var cutoff = split.Cutoff;
        var end = lines.Max(l => l.Time);
        if (cutoff.AddDays(NewCategoryDays) > end)
        {
            throw new InvalidDataException($"the data end {end:yyyy-MM-dd HH:mm} is before the end of the {NewCategoryDays}-day label window from {cutoff:yyyy-MM-dd HH:mm}");
        }

        // Households of the graph (at least one categorised line before the cutoff): every one has an embedding.
        var byHousehold = lines.GroupBy(l => l.Household, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var households = split.Graph.Customers.Order(StringComparer.Ordinal).ToArray();
        var tabular = new float[households.Length][];
        var labels = TaskNames.Select(_ => new float[households.Length][]).ToArray();
        for (var h = 0; h < households.Length; h++)
        {
            var all = byHousehold[households[h]];
            var before = all.Where(l => l.Time < cutoff).ToList();
            var after = all.Where(l => l.Time >= cutoff).ToList();
            tabular[h] = Features(before, cutoff, categoryOf);
            var known = before.Select(l => categoryOf.GetValueOrDefault(l.Product)).OfType<string>().ToHashSet(StringComparer.Ordinal);
            var repurchase = after.Any(l => l.Time < cutoff.AddDays(RepurchaseDays));
            var newCategory = after.Any(l => l.Time < cutoff.AddDays(NewCategoryDays) && categoryOf.GetValueOrDefault(l.Product) is { } c && !known.Contains(c));
            labels[0][h] = [repurchase ? 1f : 0f];
            labels[1][h] = [newCategory ? 1f : 0f];
        }
        var withEmbeddings = households.Select((id, h) => (float[])[.. tabular[h], .. embeddings.For(id)]).ToArray();
        var embeddingOnly = households.Select(embeddings.For).ToArray();
        var missing = households.Count(id => !embeddings.Contains(id));

        var parts = households.Select(h => Part(h, SplitSeed)).ToArray();
        int[] Rows(int part) => [.. Enumerable.Range(0, households.Length).Where(h => parts[h] == part)];
        int[] trainRows = Rows(0), validationRows = Rows(1), testRows = Rows(2);
        Console.WriteLine();
        Console.WriteLine($"ABLATION: embeddings as MMoE features. Rows: {households.Length:N0} households of the graph at the cutoff {cutoff:yyyy-MM-dd HH:mm} " +
            $"({missing} without an embedding); features from the {lines.Count(l => l.Time < cutoff):N0} lines before it (all {lines.Count:N0} lines read, categorised or not), " +
            $"labels from the lines after it (data to {end:yyyy-MM-dd HH:mm})");
        Console.WriteLine($"split by hash of household id (seed {SplitSeed}): train {trainRows.Length:N0}, validation {validationRows.Length:N0}, test {testRows.Length:N0}; " +
            $"{TabularFeatures.Length} tabular columns, {embeddings.Dimension} embedding columns");
        for (var t = 0; t < TaskNames.Length; t++)
        {
            Console.WriteLine($"  {TaskNames[t]}: positive rate all {Rate(labels[t], Enumerable.Range(0, households.Length)):F3}, train {Rate(labels[t], trainRows):F3}, " +
                $"validation {Rate(labels[t], validationRows):F3}, test {Rate(labels[t], testRows):F3}");
        }

        var embeddingNames = Enumerable.Range(0, embeddings.Dimension).Select(i => GraphEmbeddingFeatures.Prefix + i).ToArray();
        Variant[] variants =
        [
            new("tabular", TabularFeatures, tabular),
            new("tabular+embeddings", [.. TabularFeatures, .. embeddingNames], withEmbeddings),
            new("embeddings only", embeddingNames, embeddingOnly),
        ];
        var options = new TrainingOptions { Epochs = 60, BatchSize = 128, LearningRate = 2e-3, Patience = 8, Threads = threads };
        Console.WriteLine($"MMoE: 4 experts [32], towers [16]; epochs ≤ {options.Epochs}, batch {options.BatchSize}, lr {options.LearningRate}, patience {options.Patience}; seeds {string.Join(',', seeds)}, the same for every variant");

        var main = Fit(variants, labels, trainRows, validationRows, testRows, seeds, options, log: true);
        var report = new StringBuilder();
        report.AppendLine().AppendLine($"Test split ({testRows.Length:N0} households), AUC mean ± sd over seeds {string.Join(", ", seeds)}; difference = tabular+embeddings − tabular per seed:").AppendLine()
            .AppendLine("| task | positive rate (test) | AUC tabular | AUC tabular+embeddings | difference | AUC embeddings only |")
            .AppendLine("|---|---:|---:|---:|---:|---:|");
        for (var t = 0; t < TaskNames.Length; t++)
        {
            var difference = main.Auc[1][t].Zip(main.Auc[0][t], (a, b) => a - b);
            report.AppendLine(CultureInfo.InvariantCulture, $"| {TaskNames[t]} | {main.Labels[t].Average(l => (double)l):F3} | {Stat(main.Auc[0][t])} | {Stat(main.Auc[1][t])} | {Stat(difference, signed: true)} | {Stat(main.Auc[2][t])} |");
        }
        report.AppendLine().AppendLine($"Seed-averaged predictions, paired bootstrap over test households ({Resamples:N0} resamples, 95% percentile interval):");
        for (var t = 0; t < TaskNames.Length; t++)
        {
            var (a0, a1, d, lo, hi) = PairedBootstrap(main.Averaged[0][t], main.Averaged[1][t], main.Labels[t], seed: SplitSeed + t);
            report.AppendLine(CultureInfo.InvariantCulture, $"  {TaskNames[t]}: AUC tabular {a0:F4}, tabular+embeddings {a1:F4}, difference {Signed(d)} [{Signed(lo)}, {Signed(hi)}]");
        }
        Console.Write(report);

        // Robustness: the same comparison on other household splits (the test households differ, so this measures how
        // much the single split's difference depends on which households are in test).
        var splitSeeds = Enumerable.Range(SplitSeed, RobustnessSplits).ToArray();
        var differences = TaskNames.Select(_ => new List<double>()).ToArray();
        var splitDifferences = TaskNames.Select(_ => new List<double>()).ToArray();
        foreach (var splitSeed in splitSeeds)
        {
            var p = households.Select(h => Part(h, splitSeed)).ToArray();
            int[] R(int part) => [.. Enumerable.Range(0, households.Length).Where(h => p[h] == part)];
            var fit = splitSeed == SplitSeed ? main : Fit(variants[..2], labels, R(0), R(1), R(2), seeds, options, log: false);
            for (var t = 0; t < TaskNames.Length; t++)
            {
                differences[t].AddRange(fit.Auc[1][t].Zip(fit.Auc[0][t], (a, b) => a - b));
                splitDifferences[t].Add(Metrics.RocAuc(fit.Averaged[1][t], fit.Labels[t]) - Metrics.RocAuc(fit.Averaged[0][t], fit.Labels[t]));
            }
        }
        Console.WriteLine();
        Console.WriteLine($"Robustness over {RobustnessSplits} household splits (seeds {splitSeeds[0]}…{splitSeeds[^1]}) × training seeds {string.Join(", ", seeds)}, tabular+embeddings − tabular test AUC:");
        for (var t = 0; t < TaskNames.Length; t++)
        {
            Console.WriteLine($"  {TaskNames[t]}: mean {Signed(differences[t].Average())} ± {StandardDeviation(differences[t]):F4} (sd over {differences[t].Count} runs); " +
                $"seed-averaged per split {string.Join(", ", splitDifferences[t].Select(Signed))}; embeddings ahead on {splitDifferences[t].Count(d => d > 0)} of {RobustnessSplits} splits");
        }
        Console.WriteLine($"ablation took {watch.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>
    /// Trains every variant for every seed on <paramref name="train"/> (early stopping on <paramref name="validation"/>) and
    /// scores <paramref name="test"/>: AUC <c>[variant][task][seed]</c>, test predictions averaged over the seeds
    /// <c>[variant][task][row]</c>, and the test labels <c>[task][row]</c>.
    /// </summary>
    private static Fitted Fit(Variant[] variants, float[][][] labels, int[] train, int[] validation, int[] test, IReadOnlyList<int> seeds, TrainingOptions options, bool log)
    {
        var tasks = TaskNames.Select(n => new TaskSpec(n, TaskKind.Binary)).ToArray();
        var auc = variants.Select(_ => TaskNames.Select(_ => new double[seeds.Count]).ToArray()).ToArray();
        var averaged = variants.Select(_ => TaskNames.Select(_ => new float[test.Length]).ToArray()).ToArray();
        var testLabels = TaskNames.Select((_, t) => test.Select(h => labels[t][h][0]).ToArray()).ToArray();
        for (var s = 0; s < seeds.Count; s++)
        {
            var line = new StringBuilder($"seed {seeds[s]}:");
            for (var v = 0; v < variants.Length; v++)
            {
                var (name, features, x) = variants[v];
                TrainingData Data(int[] rows) => new([.. rows.Select(h => x[h])], [.. labels.Select(l => rows.Select(h => l[h]).ToArray())]);
                var spec = new ModelSpec(features, 4, [32], [16], tasks);
                var step = Stopwatch.StartNew();
                using var result = MmoeTrainer.Train(spec, Data(train), Data(validation), options with { Seed = seeds[s] });
                var predictions = result.Model.Predict([.. test.Select(h => x[h])]);
                for (var t = 0; t < TaskNames.Length; t++)
                {
                    var scores = predictions[t].Select(r => r[0]).ToArray();
                    auc[v][t][s] = Metrics.RocAuc(scores, testLabels[t]);
                    for (var i = 0; i < scores.Length; i++)
                    {
                        averaged[v][t][i] += scores[i] / seeds.Count;
                    }
                }
                line.Append(CultureInfo.InvariantCulture, $" {name} best epoch {result.BestEpoch} ({step.Elapsed.TotalSeconds:F1} s) AUC {string.Join(" / ", TaskNames.Select((_, t) => auc[v][t][s].ToString("F4", CultureInfo.InvariantCulture)))};");
            }
            if (log)
            {
                Console.WriteLine(line.ToString().TrimEnd(';'));
            }
        }
        return new Fitted(auc, averaged, testLabels);
    }

    /// <summary>One household's tabular features from its lines before <paramref name="cutoff"/> (at least one).</summary>
    private static float[] Features(List<Line> before, DateTimeOffset cutoff, Dictionary<string, string> categoryOf)
    {
        double Days(DateTimeOffset t) => (cutoff - t).TotalDays;
        var last30 = before.Where(l => Days(l.Time) <= 30).ToList();
        var last90 = before.Where(l => Days(l.Time) <= 90).ToList();
        var first = before.Min(l => l.Time);
        var last = before.Max(l => l.Time);
        var baskets = before.Select(l => l.Basket).Distinct(StringComparer.Ordinal).Count();
        static float Log(double x) => (float)Math.Log(1 + Math.Max(x, 0));
        int Baskets(List<Line> ls) => ls.Select(l => l.Basket).Distinct(StringComparer.Ordinal).Count();
        int Categories(List<Line> ls) => ls.Select(l => categoryOf.GetValueOrDefault(l.Product)).OfType<string>().Distinct(StringComparer.Ordinal).Count();
        return
        [
            (float)Days(last), (float)Days(first), (float)((last - first).TotalDays / Math.Max(baskets - 1, 1)),
            Log(last30.Count), Log(last90.Count), Log(before.Count),
            Log(Baskets(last30)), Log(Baskets(last90)), Log(baskets),
            Log(last30.Sum(l => l.Sales)), Log(last90.Sum(l => l.Sales)), Log(before.Sum(l => l.Sales)),
            Log(before.Sum(l => l.Discount)), Log(Categories(before)), Log(Categories(last90)),
            Log(before.Select(l => l.Product).Distinct(StringComparer.Ordinal).Count()), Log(before.Select(l => l.Store).Distinct(StringComparer.Ordinal).Count()),
        ];
    }

    /// <summary>0 = train (60%), 1 = validation (20%), 2 = test (20%), from an FNV-1a hash of the seeded household id.</summary>
    private static int Part(string household, int seed)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(seed.ToString(CultureInfo.InvariantCulture) + ":" + household))
        {
            hash = unchecked((hash ^ b) * 16777619u);
        }
        var bucket = hash % 100;
        return bucket < 60 ? 0 : bucket < 80 ? 1 : 2;
    }

    private static double Rate(float[][] labels, IEnumerable<int> rows) => rows.Average(h => (double)labels[h][0]);

    /// <summary>AUC of both score sets, their difference (b − a) and its percentile interval over resampled rows.</summary>
    private static (double A, double B, double Difference, double Low, double High) PairedBootstrap(float[] a, float[] b, float[] labels, int seed)
    {
        var aucA = Metrics.RocAuc(a, labels);
        var aucB = Metrics.RocAuc(b, labels);
        var random = new Random(seed);
        var differences = new List<double>(Resamples);
        var index = new int[labels.Length];
        for (var r = 0; r < Resamples; r++)
        {
            for (var i = 0; i < index.Length; i++)
            {
                index[i] = random.Next(labels.Length);
            }
            var l = index.Select(i => labels[i]).ToArray();
            var d = Metrics.RocAuc([.. index.Select(i => b[i])], l) - Metrics.RocAuc([.. index.Select(i => a[i])], l);
            if (!double.IsNaN(d))
            {
                differences.Add(d);
            }
        }
        differences.Sort();
        return (aucA, aucB, aucB - aucA, differences[(int)(0.025 * (differences.Count - 1))], differences[(int)Math.Ceiling(0.975 * (differences.Count - 1))]);
    }

    private static string Signed(double x) => x.ToString("+0.0000;−0.0000;0.0000", CultureInfo.InvariantCulture);

    private static double StandardDeviation(IReadOnlyCollection<double> v)
    {
        var mean = v.Average();
        return v.Count > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1)) : 0;
    }

    private static string Stat(IEnumerable<double> values, bool signed = false)
    {
        var v = values.ToArray();
        var mean = v.Average();
        var sd = StandardDeviation(v);
        var m = signed ? Signed(mean) : mean.ToString("F4", CultureInfo.InvariantCulture);
        return v.Length > 1 ? $"{m} ± {sd.ToString("F4", CultureInfo.InvariantCulture)}" : m;
    }

    /// <summary>Reads every line of the transactions file (categorised or not): household, basket, product, store, sales, discount, time.</summary>
    private static List<Line> ReadLines(string path)
    {
        var result = new List<Line>();
        using var reader = new StreamReader(path);
        var header = EdgeProfile.Knowledge.CsvLine.Split(reader.ReadLine() ?? throw new InvalidDataException($"{path} is empty"));
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new InvalidDataException($"{path}: no column '{name}'");
        int household = Column("household_id"), basket = Column("basket_id"), product = Column("product_id"), store = Column("store_id"),
            sales = Column("sales_value"), retail = Column("retail_disc"), coupon = Column("coupon_disc"), time = Column("transaction_timestamp");
        var number = 1;
        while (reader.ReadLine() is { } text)
        {
            number++;
            if (text.Length == 0)
            {
                continue;
            }
            var f = EdgeProfile.Knowledge.CsvLine.Split(text);
            if (f.Length != header.Length)
            {
                throw new InvalidDataException($"{path}:{number}: {f.Length} fields, the header has {header.Length}");
            }
            if (!DateTimeOffset.TryParseExact(f[time], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                throw new InvalidDataException($"{path}:{number}: transaction_timestamp '{f[time]}' is not yyyy-MM-dd HH:mm:ss");
            }
            result.Add(new Line(f[household], f[basket], f[product], f[store], Number(f[sales]), Math.Abs(Number(f[retail])) + Math.Abs(Number(f[coupon])), at));
        }
        return result;

        double Number(string s) => s.Length == 0 ? 0 : double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>Splits one CSV line (RFC 4180 quoting, no line breaks inside fields).</summary>

    /// <summary>A feature set: its name, column names and rows (by household index).</summary>
    private sealed record Variant(string Name, string[] Features, float[][] X);

    /// <summary>What <see cref="Fit"/> returns.</summary>
    private sealed record Fitted(double[][][] Auc, float[][][] Averaged, float[][] Labels);

    /// <summary>One transaction line.</summary>
    private sealed record Line(string Household, string Basket, string Product, string Store, double Sales, double Discount, DateTimeOffset Time);
}
