using System.Diagnostics;
using System.Globalization;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Recommending;
using EdgeProfile.Models.Scoring;
using EdgeProfile.Semantic.Item2Vec;
using EdgeProfile.Semantic.Sequences;
using EdgeProfile.Semantic.Text;
using EdgeProfile.Training.Sequences;

namespace EdgeProfile.Training.Recommending;

/// <summary>What a recommender is built from: customers' product sequences (oldest first) and product names.</summary>
/// <param name="Sequences">One sequence of SKUs per customer (no customer ids needed).</param>
/// <param name="Products">Product names by SKU, including products nobody interacted with yet (cold products).</param>
/// <param name="Source">Where they came from, in words (kept in the bundle).</param>
public sealed record RecommenderTrainingData(IReadOnlyList<IReadOnlyList<string>> Sequences, IReadOnlyDictionary<string, string?> Products, string Source);

/// <summary>How <see cref="RecommenderBuilder"/> trains.</summary>
public sealed record RecommenderBuildOptions
{
    /// <summary>The bundle's version.</summary>
    public required string Version { get; init; }

    /// <summary>Train SASRec (needs enough customers with three or more products). Default true.</summary>
    public bool TrainSasRec { get; init; } = true;

    /// <summary>SASRec's settings.</summary>
    public SasRecOptions SasRec { get; init; } = new() { MaxEpochs = 40, Patience = 3, Dropout = 0.2, ValidationUsers = 2000 };

    /// <summary>Ship SASRec as int8 (weights ≈ 4× smaller). Default true.</summary>
    public bool Quantize { get; init; } = true;

    /// <summary>Train item2vec (similar products; the ranking when SASRec is off). Default true.</summary>
    public bool TrainItem2Vec { get; init; } = true;

    /// <summary>item2vec's settings.</summary>
    public Item2VecOptions Item2Vec { get; init; } = new();

    /// <summary>Products need this many interactions to enter the models' vocabulary (others are cold). Default 1.</summary>
    public int MinInteractions { get; init; } = 1;

    /// <summary>Customers the offline metrics are measured on (leave-one-out, 100 uniform negatives). Default 5000.</summary>
    public int EvaluationUsers { get; init; } = 5000;

    /// <summary>Fewest customers with three or more products SASRec is trained on (fewer: item2vec only). Default 50.</summary>
    public int MinSasRecUsers { get; init; } = 50;
}

/// <summary>
/// Builds a <see cref="RecommenderBundle"/>: a vocabulary of the products with interactions (most frequent first), SASRec
/// trained with full cross-entropy and exported to ONNX (int8 by default), item2vec, text embeddings of every named
/// product (so products without interactions can be recommended), and offline metrics of each model under the
/// leave-one-out protocol — the models train on each customer's sequence without its last two products, which the
/// metrics then predict. Models that cannot be trained on the data (too few sequences) are left out and said so.
/// </summary>
public static class RecommenderBuilder
{
    /// <summary>
    /// The cosine a new product's name needs with a customer's recent products to be recommended: what only 5 % of
    /// random pairs of catalogue products reach (at least 0.1), so the bar follows the embedder's own scale (hashed
    /// vectors of short names score lower than MiniLM's).
    /// </summary>
    public static double ColdThreshold(EmbeddingTable text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var keys = text.Keys;
        if (keys.Count < 2)
        {
            return 0.35;
        }

        var rng = new Random(11);
        var sims = new List<double>(2000);
        for (var i = 0; i < 2000; i++)
        {
            var a = keys[rng.Next(keys.Count)];
            var b = keys[rng.Next(keys.Count)];
            if (a == b || !text.TryGet(a, out var x) || !text.TryGet(b, out var y))
            {
                continue;
            }

            double dot = 0;
            for (var d = 0; d < x.Length; d++)
            {
                dot += x[d] * y[d];
            }

            sims.Add(dot);
        }

        if (sims.Count == 0)
        {
            return 0.35;
        }

        sims.Sort();
        return Math.Max(0.1, sims[(int)(0.95 * (sims.Count - 1))]);
    }

    /// <summary>Builds the bundle; <paramref name="log"/> receives one line per step.</summary>
    public static RecommenderBundle Build(RecommenderTrainingData data, RecommenderBuildOptions options, ITextEmbedder? embedder, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (RecommenderBundle.CheckVersion(options.Version) is { } versionProblem)
        {
            throw new ArgumentException(versionProblem, nameof(options));
        }

        log ??= _ => { };
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var sequence in data.Sequences)
        {
            foreach (var sku in sequence)
            {
                if (!string.IsNullOrEmpty(sku))
                {
                    counts[sku] = counts.GetValueOrDefault(sku) + 1;
                }
            }
        }

        var vocabulary = counts.Where(kv => kv.Value >= options.MinInteractions)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).ToList();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < vocabulary.Count; i++)
        {
            ids[vocabulary[i]] = i + 1;
        }

        var items = vocabulary.Select(s => new BundleItem(s, data.Products.GetValueOrDefault(s), counts[s])).ToList();
        foreach (var (sku, name) in data.Products.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!ids.ContainsKey(sku) && !string.IsNullOrEmpty(sku))
            {
                items.Add(new BundleItem(sku, name, counts.GetValueOrDefault(sku)));
            }
        }

        if (items.Count == 0)
        {
            throw new ArgumentException("no products: the sequences are empty and no product is named", nameof(data));
        }

        var sequences = data.Sequences
            .Select(s => s.Where(ids.ContainsKey).Select(sku => ids[sku]).ToArray())
            .Where(s => s.Length > 0)
            .ToList();
        log(string.Create(CultureInfo.InvariantCulture,
            $"{data.Sequences.Count} sequences, {counts.Values.Sum()} interactions, {vocabulary.Count} products in the vocabulary, {items.Count - vocabulary.Count} cold products"));
        var dataset = SequenceDataset.FromSequences(sequences, Math.Max(1, vocabulary.Count));
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var evaluable = sequences.Count(s => s.Length >= 3);
        metrics["customers"] = sequences.Count;
        metrics["evaluated_customers"] = Math.Min(evaluable, options.EvaluationUsers);

        // SASRec's protocol: the held-out last product against 100 uniformly drawn products the customer never touched
        // (fewer in a small catalogue: half of it).
        var negatives = Math.Min(100, vocabulary.Count / 2);
        metrics["evaluation.negatives"] = negatives;
        void Measure(string name, INextItemScorer scorer)
        {
            if (evaluable == 0 || negatives < 10)
            {
                return;
            }

            var m = NextItemEvaluator.Evaluate(dataset, scorer, CandidateSet.UniformNegatives, negatives: negatives, maxUsers: options.EvaluationUsers);
            metrics[$"{name}.hr10"] = m.HitRate10;
            metrics[$"{name}.ndcg10"] = m.Ndcg10;
            log(string.Create(CultureInfo.InvariantCulture, $"{name}: HR@10 {m.HitRate10:F4}, NDCG@10 {m.Ndcg10:F4} ({m.Protocol}, {m.Users} customers)"));
        }

        Measure("popular", new MostPopularScorer(dataset));

        byte[]? item2vecBytes = null;
        if (options.TrainItem2Vec && vocabulary.Count > 1)
        {
            var watch = Stopwatch.StartNew();
            var prefixes = dataset.TrainingPrefixes().Select((p, u) => p.Length > 0 ? p : dataset.Sequences[u]).ToList();
            var vectors = Item2VecTrainer.Train(prefixes, vocabulary.Count, options.Item2Vec with { MinCount = 1 });
            using var stream = new MemoryStream();
            vectors.Save(stream);
            item2vecBytes = stream.ToArray();
            log(string.Create(CultureInfo.InvariantCulture, $"item2vec: {vectors.KnownCount} products, {options.Item2Vec.Dimensions} dimensions, {watch.Elapsed.TotalSeconds:F1} s"));
            Measure("item2vec", vectors.ToScorer());
        }

        byte[]? sasrec = null;
        if (options.TrainSasRec && evaluable >= options.MinSasRecUsers && vocabulary.Count > 1)
        {
            using var result = SasRecTrainer.Train(dataset, options.SasRec);
            sasrec = SasRecOnnxExporter.Export(result.Weights, options.Quantize);
            log(string.Create(CultureInfo.InvariantCulture,
                $"SASRec: {result.EpochsRun} epochs (best {result.BestEpoch}), {result.TrainingTime.TotalSeconds:F1} s, ONNX {(options.Quantize ? "int8" : "fp32")} {sasrec.Length / 1024.0:F0} KiB"));
            metrics["sasrec.epochs"] = result.EpochsRun;
            using var scorer = SasRecOnnxScorer.Load(sasrec, "the new SASRec model");
            Measure("sasrec", scorer);
        }
        else if (options.TrainSasRec)
        {
            log($"SASRec not trained: {evaluable} customers with three or more products, {options.MinSasRecUsers} needed");
        }

        EmbeddingTable? text = null;
        if (embedder is not null)
        {
            var named = items.Where(i => !string.IsNullOrWhiteSpace(i.Name)).Select(i => (i.Sku, i.Name!)).ToList();
            if (named.Count > 0)
            {
                var watch = Stopwatch.StartNew();
                text = EmbeddingTable.Build(embedder, named);
                var threshold = ColdThreshold(text);
                metrics[Recommender.ColdThresholdMetric] = threshold;
                log(string.Create(CultureInfo.InvariantCulture,
                    $"text: {named.Count} product names embedded with {embedder.Name} in {watch.Elapsed.TotalSeconds:F1} s; new products need a cosine of {threshold:F3}"));
            }
        }

        return new RecommenderBundle
        {
            Version = options.Version,
            CreatedAt = DateTimeOffset.UtcNow,
            Items = items,
            VocabularySize = vocabulary.Count,
            SasRecOnnx = sasrec,
            Item2Vec = item2vecBytes,
            TextVectors = text,
            Metrics = metrics,
            Source = data.Source,
        };
    }
}
