using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeProfile.Models;
using EdgeProfile.Semantic.Sequences;
using EdgeProfile.Training;
using EdgeProfile.Training.Sequences;

namespace EdgeProfile.Bench.Fusion;

/// <summary>The input modalities of a variant.</summary>
[Flags]
internal enum Modality
{
    /// <summary>No input.</summary>
    None = 0,

    /// <summary>RFM-style tabular features (<see cref="CustomerRows.FeatureNames"/>).</summary>
    Tabular = 1,

    /// <summary>The SASRec hidden state of the customer's pre-cutoff product sequence.</summary>
    SasRec = 2,

    /// <summary>The PCA-reduced mean MiniLM embedding of the descriptions of the products bought before the cutoff.</summary>
    Text = 4,
}

/// <summary>Settings of a run (see Program.cs for the command-line names and README.md for the choices).</summary>
internal sealed record FusionSettings
{
    /// <summary>Training seeds (MMoE initialisation and shuffling, SASRec initialisation, dropout and shuffling).</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3];

    /// <summary>Seed of the customer split, the category k-means and the PCA start (fixed across training seeds).</summary>
    public int SplitSeed { get; init; } = 20261130;

    /// <summary>MMoE experts.</summary>
    public int Experts { get; init; } = 4;

    /// <summary>Width of each expert's hidden layer.</summary>
    public int ExpertWidth { get; init; } = 32;

    /// <summary>Width of each tower's hidden layer.</summary>
    public int TowerWidth { get; init; } = 32;

    /// <summary>Weight of the category task's loss (the repurchase task has 1).</summary>
    public float CategoryWeight { get; init; } = 30;

    /// <summary>MMoE optimisation (the seed is set per run).</summary>
    public TrainingOptions Mmoe { get; init; } = new() { Epochs = 60, BatchSize = 128, LearningRate = 2e-3, Patience = 8, Dropout = 0.2, WeightDecay = 1e-4, Threads = 2 };

    /// <summary>SASRec settings (the seed is set per run).</summary>
    public SasRecOptions SasRec { get; init; } = new();

    /// <summary>Bootstrap resamples of the paired differences.</summary>
    public int Resamples { get; init; } = 1000;
}

/// <summary>
/// The fusion ablation: for every seed, SASRec is trained on the pre-cutoff sequences, the MMoE is trained on each
/// early-fusion input set (two heads: repurchase in 30 days, multi-label categories bought in 90 days), the late-fusion
/// variants combine the single-modality models, and test AUC / HR@10 are tabulated as mean ± sd over the seeds.
/// </summary>
internal static class FusionExperiment
{
    /// <summary>Early-fusion input sets, in table order (the single-modality ones also feed late fusion).</summary>
    private static readonly (string Name, Modality Inputs)[] EarlyVariants =
    [
        ("tabular", Modality.Tabular),
        ("tabular + sasrec", Modality.Tabular | Modality.SasRec),
        ("tabular + text", Modality.Tabular | Modality.Text),
        ("tabular + sasrec + text", Modality.Tabular | Modality.SasRec | Modality.Text),
        ("sasrec + text", Modality.SasRec | Modality.Text),
        ("sasrec only", Modality.SasRec),
        ("text only", Modality.Text),
    ];

    private const string LateMean = "late: mean(tabular, sasrec, text)";
    private const string LateStacked = "late: stacked(tabular, sasrec, text)";

    /// <summary>
    /// Runs the ablation and prints the log and the table. <paramref name="part"/>: 0 train, 1 validation, 2 test per
    /// row; <paramref name="text"/>: the text modality per row; <paramref name="categoryOf"/>: category of every catalogue
    /// product (<paramref name="categories"/> in all).
    /// </summary>
    public static string Run(CustomerRows rows, int[] part, float[][] text, int[] categoryOf, int categories, FusionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(part);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(categoryOf);
        ArgumentNullException.ThrowIfNull(settings);
        var n = rows.Count;
        int[] Rows(int p) => [.. Enumerable.Range(0, n).Where(r => part[r] == p)];
        int[] train = Rows(0), validation = Rows(1), test = Rows(2);

        // Labels.
        var repurchase = rows.Repurchase;
        var categoryLabels = new float[n][];
        var labelled = new bool[n];
        var target = new int[n];
        for (var r = 0; r < n; r++)
        {
            categoryLabels[r] = new float[categories];
            foreach (var p in rows.LinesAfter[r])
            {
                categoryLabels[r][categoryOf[p]] = 1;
            }
            labelled[r] = rows.LinesAfter[r].Length > 0;
            target[r] = FirstCategory(rows.FirstInvoiceAfter[r], categoryOf);
        }
        int[] WithTarget(int[] rs) => [.. rs.Where(r => target[r] >= 0)];
        var testTargets = WithTarget(test);
        var validationTargets = WithTarget(validation);
        Console.WriteLine($"split (hash of customer id, seed {settings.SplitSeed}): train {train.Length:N0}, validation {validation.Length:N0}, test {test.Length:N0} customers");
        Console.WriteLine($"  repurchase_{CustomerRows.RepurchaseDays}d positive rate: train {train.Average(r => repurchase[r] ? 1.0 : 0):F3}, validation {validation.Average(r => repurchase[r] ? 1.0 : 0):F3}, test {test.Average(r => repurchase[r] ? 1.0 : 0):F3}");
        Console.WriteLine($"  bought in the {CustomerRows.CategoryDays} days (category task labelled): train {train.Count(r => labelled[r]):N0}, validation {validation.Count(r => labelled[r]):N0}, test {test.Count(r => labelled[r]):N0} " +
            $"(mean categories per labelled customer {train.Where(r => labelled[r]).Average(r => categoryLabels[r].Sum()):F1} of {categories})");

        // Seed-independent baselines.
        var popularity = new float[categories];
        foreach (var r in train.Where(r => labelled[r]))
        {
            for (var c = 0; c < categories; c++)
            {
                popularity[c] += categoryLabels[r][c];
            }
        }
        var popularityScores = Enumerable.Repeat(popularity, n).ToArray();
        var historyScores = new float[n][];
        for (var r = 0; r < n; r++)
        {
            // The customer's own pre-cutoff line count per category, ties (and unseen categories) by popularity.
            historyScores[r] = [.. popularity.Select(p => p / (popularity.Max() + 1))];
            foreach (var p in rows.LinesBefore[r])
            {
                historyScores[r][categoryOf[p]] += 1;
            }
        }
        var recency = rows.Tabular.Select(t => -t[0]).ToArray();
        var popularityHr = Scoring.HitRate(popularityScores, target, testTargets);

        var watch = Stopwatch.StartNew();
        var names = EarlyVariants.Select(v => v.Name).Concat([LateMean, LateStacked]).ToArray();
        var auc = names.ToDictionary(v => v, _ => new List<double>(), StringComparer.Ordinal);
        var hr = names.ToDictionary(v => v, _ => new List<double>(), StringComparer.Ordinal);
        var averaged = names.ToDictionary(v => v, _ => (Repurchase: new float[n], Categories: Enumerable.Range(0, n).Select(_ => new float[categories]).ToArray()), StringComparer.Ordinal);
        var tasks = new TaskSpec[]
        {
            new($"repurchase_{CustomerRows.RepurchaseDays}d", TaskKind.Binary),
            new($"categories_{CustomerRows.CategoryDays}d", TaskKind.MultiLabel, [.. Enumerable.Range(0, categories).Select(c => $"c{c:00}")]),
        };
        var sasrecSummary = new List<string>();
        foreach (var seed in settings.Seeds)
        {
            var sasrec = SasRecEmbeddings(rows, settings.SasRec with { Seed = seed }, out var summary);
            sasrecSummary.Add(summary);
            Console.WriteLine($"seed {seed}: {summary}");
            var predictions = new Dictionary<string, (float[] Repurchase, float[][] Categories)>(StringComparer.Ordinal);
            foreach (var (name, inputs) in EarlyVariants)
            {
                var step = Stopwatch.StartNew();
                var (features, x) = Inputs(inputs, rows, sasrec, text);
                var oneHot = inputs.HasFlag(Modality.Tabular) ? rows.OneHotColumns : null;
                var spec = new ModelSpec(features, settings.Experts, [settings.ExpertWidth], [settings.TowerWidth], tasks);
                TrainingData Data(int[] rs) => new(
                    [.. rs.Select(r => x[r])],
                    [[.. rs.Select(r => new[] { repurchase[r] ? 1f : 0f })], [.. rs.Select(r => categoryLabels[r])]],
                    [null, [.. rs.Select(r => labelled[r])]]);
                var options = settings.Mmoe with { Seed = seed, UnscaledFeatures = oneHot, TaskWeights = [1f, settings.CategoryWeight] };
                using var result = MmoeTrainer.Train(spec, Data(train), Data(validation), options);
                var p = result.Model.Predict(x);
                var scores = (Repurchase: p[0].Select(o => o[0]).ToArray(), Categories: p[1]);
                predictions[name] = scores;
                Record(name, scores);
                Console.WriteLine($"  {name,-24} {features.Count,3} inputs, best epoch {result.BestEpoch,2} ({step.Elapsed.TotalSeconds:F1} s): " +
                    $"validation AUC {Scoring.Auc(scores.Repurchase, repurchase, validation):F4} HR@10 {Scoring.HitRate(scores.Categories, target, validationTargets):F4}; " +
                    $"test AUC {auc[name][^1]:F4} HR@10 {hr[name][^1]:F4}");
            }

            // Late fusion of the three single-modality models.
            var parts = new[] { predictions["tabular"], predictions["sasrec only"], predictions["text only"] };
            var mean = (Repurchase: Enumerable.Range(0, n).Select(r => parts.Average(q => q.Repurchase[r])).ToArray(),
                Categories: Enumerable.Range(0, n).Select(r => Enumerable.Range(0, categories).Select(c => parts.Average(q => q.Categories[r][c])).ToArray()).ToArray());
            Record(LateMean, mean);
            var repurchaseWeights = Scoring.FitLogistic([.. validation.Select(r => parts.Select(q => Scoring.Logit(q.Repurchase[r])).ToArray())], [.. validation.Select(r => repurchase[r])]);
            var pairs = validation.Where(r => labelled[r]).SelectMany(r => Enumerable.Range(0, categories).Select(c => (r, c))).ToArray();
            var categoryWeights = Scoring.FitLogistic([.. pairs.Select(rc => parts.Select(q => Scoring.Logit(q.Categories[rc.r][rc.c])).ToArray())], [.. pairs.Select(rc => categoryLabels[rc.r][rc.c] > 0)]);
            float Stack(double[] w, Func<(float[] Repurchase, float[][] Categories), float> pick) =>
                (float)(1 / (1 + Math.Exp(-(w[^1] + parts.Select((q, i) => w[i] * Scoring.Logit(pick(q))).Sum()))));
            var stacked = (Repurchase: Enumerable.Range(0, n).Select(r => Stack(repurchaseWeights, q => q.Repurchase[r])).ToArray(),
                Categories: Enumerable.Range(0, n).Select(r => Enumerable.Range(0, categories).Select(c => Stack(categoryWeights, q => q.Categories[r][c])).ToArray()).ToArray());
            Record(LateStacked, stacked);
            Console.WriteLine($"  {LateMean}: test AUC {auc[LateMean][^1]:F4} HR@10 {hr[LateMean][^1]:F4}");
            Console.WriteLine($"  {LateStacked}: test AUC {auc[LateStacked][^1]:F4} HR@10 {hr[LateStacked][^1]:F4} " +
                $"(validation logistic regression on logits, weights tabular/sasrec/text: repurchase {string.Join('/', repurchaseWeights[..3].Select(w => w.ToString("F2", CultureInfo.InvariantCulture)))}, " +
                $"categories {string.Join('/', categoryWeights[..3].Select(w => w.ToString("F2", CultureInfo.InvariantCulture)))})");
        }

        void Record(string name, (float[] Repurchase, float[][] Categories) scores)
        {
            auc[name].Add(Scoring.Auc(scores.Repurchase, repurchase, test));
            hr[name].Add(Scoring.HitRate(scores.Categories, target, testTargets));
            var (ar, ac) = averaged[name];
            for (var r = 0; r < n; r++)
            {
                ar[r] += scores.Repurchase[r] / settings.Seeds.Count;
                for (var c = 0; c < categories; c++)
                {
                    ac[r][c] += scores.Categories[r][c] / settings.Seeds.Count;
                }
            }
        }

        // The table.
        var report = new StringBuilder();
        var seeds = string.Join(", ", settings.Seeds);
        report.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"Test split: {test.Length:N0} customers for repurchase AUC, {testTargets.Length:N0} with a purchase in the {CustomerRows.CategoryDays} days for HR@10; mean ± sd over seeds {seeds}; Δ = variant − tabular, paired per seed; ratio = HR@10 ÷ the popularity baseline's.").AppendLine()
            .AppendLine("| variant | fusion | repurchase AUC | Δ AUC | next-category HR@10 | Δ HR@10 | HR@10 ÷ popularity |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|");
        report.AppendLine(CultureInfo.InvariantCulture, $"| popularity (train customers' {CustomerRows.CategoryDays}-day categories) | baseline | – | – | {popularityHr:F4} | – | 1.00 |");
        var historyHr = Scoring.HitRate(historyScores, target, testTargets);
        report.AppendLine(CultureInfo.InvariantCulture, $"| own pre-cutoff category counts, then popularity | baseline | – | – | {historyHr:F4} | – | {historyHr / popularityHr:F2} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| recency (−days since last invoice) | baseline | {Scoring.Auc(recency, repurchase, test):F4} | – | – | – | – |");
        foreach (var name in names)
        {
            var fusion = name.StartsWith("late", StringComparison.Ordinal) ? "late" : name.Contains('+', StringComparison.Ordinal) ? "early" : "single";
            var dAuc = auc[name].Zip(auc["tabular"], (a, b) => a - b).ToArray();
            var dHr = hr[name].Zip(hr["tabular"], (a, b) => a - b).ToArray();
            var isTabular = name == "tabular";
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {fusion} | {Scoring.Stat(auc[name])} | {(isTabular ? "–" : Scoring.Stat(dAuc, signed: true))} | {Scoring.Stat(hr[name])} | {(isTabular ? "–" : Scoring.Stat(dHr, signed: true))} | {hr[name].Average() / popularityHr:F2} |");
        }

        report.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Seed-averaged predictions against tabular, paired bootstrap over test customers ({settings.Resamples:N0} resamples, 95% percentile interval):");
        var (baseRepurchase, baseCategories) = averaged["tabular"];
        foreach (var name in names.Where(v => v != "tabular"))
        {
            var (otherRepurchase, otherCategories) = averaged[name];
            var a = Scoring.PairedBootstrap(test, rs => Scoring.Auc(baseRepurchase, repurchase, rs), rs => Scoring.Auc(otherRepurchase, repurchase, rs), settings.Resamples, settings.SplitSeed);
            var h = Scoring.PairedBootstrap(testTargets, rs => Scoring.HitRate(baseCategories, target, rs), rs => Scoring.HitRate(otherCategories, target, rs), settings.Resamples, settings.SplitSeed + 1);
            report.AppendLine(CultureInfo.InvariantCulture, $"  {name,-38} ΔAUC {Scoring.Signed(a.Difference)} [{Scoring.Signed(a.Low)}, {Scoring.Signed(a.High)}]   ΔHR@10 {Scoring.Signed(h.Difference)} [{Scoring.Signed(h.Low)}, {Scoring.Signed(h.High)}]");
        }
        report.AppendLine(CultureInfo.InvariantCulture, $"training and evaluation took {watch.Elapsed.TotalSeconds:F0} s");
        return report.ToString();
    }

    /// <summary>
    /// The category of a first invoice: its most frequent category over its lines (ties: the one whose first line comes
    /// first); -1 for no invoice.
    /// </summary>
    public static int FirstCategory(int[] invoiceProducts, int[] categoryOf)
    {
        ArgumentNullException.ThrowIfNull(invoiceProducts);
        ArgumentNullException.ThrowIfNull(categoryOf);
        if (invoiceProducts.Length == 0)
        {
            return -1;
        }
        var order = invoiceProducts.Select(p => categoryOf[p]).ToArray();
        return order.GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => Array.IndexOf(order, g.Key)).First().Key;
    }

    /// <summary>Column names and rows of the modalities in <paramref name="inputs"/> (tabular, then SASRec, then text).</summary>
    private static (IReadOnlyList<string> Names, float[][] Rows) Inputs(Modality inputs, CustomerRows rows, float[][] sasrec, float[][] text)
    {
        var names = new List<string>();
        if (inputs.HasFlag(Modality.Tabular))
        {
            names.AddRange(rows.FeatureNames);
        }
        if (inputs.HasFlag(Modality.SasRec))
        {
            names.AddRange(Enumerable.Range(0, sasrec[0].Length).Select(i => $"sasrec_{i}"));
        }
        if (inputs.HasFlag(Modality.Text))
        {
            names.AddRange(Enumerable.Range(0, text[0].Length).Select(i => $"text_{i}"));
        }
        var x = new float[rows.Count][];
        for (var r = 0; r < rows.Count; r++)
        {
            IEnumerable<float> row = [];
            if (inputs.HasFlag(Modality.Tabular))
            {
                row = row.Concat(rows.Tabular[r]);
            }
            if (inputs.HasFlag(Modality.SasRec))
            {
                row = row.Concat(sasrec[r]);
            }
            if (inputs.HasFlag(Modality.Text))
            {
                row = row.Concat(text[r]);
            }
            x[r] = [.. row];
        }
        return (names, x);
    }

    /// <summary>
    /// Trains SASRec on every row's pre-cutoff sequence (its leave-one-out training prefix; early stopping on the
    /// second-to-last items) and returns each row's customer embedding: the hidden state of its whole pre-cutoff sequence.
    /// </summary>
    private static float[][] SasRecEmbeddings(CustomerRows rows, SasRecOptions options, out string summary)
    {
        var data = SequenceDataset.FromSequences(rows.Sequences, rows.ItemCount);
        using var result = SasRecTrainer.Train(data, options);
        var embeddings = result.Scorer().Embed(rows.Sequences);
        summary = $"SASRec {result.TrainingSequences:N0} training sequences, {result.TrainingPositions:N0} positions; {result.EpochsRun} epochs in {result.TrainingTime.TotalSeconds:F0} s, " +
            $"kept epoch {result.BestEpoch} (validation NDCG@10 {result.BestValidationNdcg10 ?? double.NaN:F4}, HR@10 {result.Epochs.First(e => e.Epoch == result.BestEpoch).ValidationHitRate10 ?? double.NaN:F4}, all items)";
        return embeddings;
    }
}
