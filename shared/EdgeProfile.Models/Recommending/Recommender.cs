using EdgeProfile.Models.Scoring;
using EdgeProfile.Semantic.Item2Vec;
using EdgeProfile.Semantic.Text;

namespace EdgeProfile.Models.Recommending;

/// <summary>
/// Serves next-item recommendations from a <see cref="RecommenderBundle"/>: SASRec over the customer's recent products
/// when the bundle has it (the reason names the history product the model attended to most, weighted by how alike the
/// two products are), item2vec neighbours otherwise, and popular products for a customer with no usable history.
/// New products without interactions (cold) take up to <see cref="RecommenderOptions.ColdSlots"/> places when their
/// names are close to the customer's recent products' names; a customer whose products the models do not know (a new
/// product, a first event) gets text-similar products. Thread-safe.
/// </summary>
public sealed class Recommender : IDisposable
{
    /// <summary>The bundle metric holding the calibrated cosine a cold product needs (see <see cref="RecommenderOptions.MinColdSimilarity"/>).</summary>
    public const string ColdThresholdMetric = "text.cold_threshold";

    private readonly RecommenderBundle bundle;
    private readonly RecommenderOptions options;
    private readonly ITextEmbedder? embedder;
    private readonly SasRecOnnxScorer? sasrec;
    private readonly float[]? itemVectors; // (V + 1) × dims, normalised, row 0 unused
    private readonly int itemDims;
    private readonly Dictionary<string, int> index = new(StringComparer.Ordinal); // sku → item index (0-based in Items)
    private readonly int[] popular; // item indexes by interactions, descending
    private readonly int[] cold; // item indexes with no interactions (or outside the vocabulary) that have text vectors
    private readonly float coldThreshold;

    /// <summary>
    /// Loads the bundle's models. <paramref name="embedder"/> embeds names of products the bundle does not know; it must
    /// be the embedder the bundle's text vectors came from (same <see cref="ITextEmbedder.Name"/>) or it is not used.
    /// </summary>
    /// <exception cref="InvalidDataException">A model inside the bundle does not load or does not fit its vocabulary.</exception>
    public Recommender(RecommenderBundle bundle, ITextEmbedder? embedder = null, RecommenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        bundle.Validate();
        this.bundle = bundle;
        this.options = options ?? new RecommenderOptions();
        this.options.Validate();
        coldThreshold = this.options.MinColdSimilarity
            ?? (bundle.Metrics.TryGetValue(ColdThresholdMetric, out var calibrated) && calibrated is >= -1 and <= 1 ? (float)calibrated : 0.35f);
        this.embedder = embedder is not null && bundle.TextVectors is { } t && t.Name == embedder.Name && t.Dimensions == embedder.Dimensions ? embedder : null;
        for (var i = 0; i < bundle.Items.Count; i++)
        {
            index[bundle.Items[i].Sku] = i;
        }

        var v = bundle.VocabularySize;
        if (bundle.SasRecOnnx is { } onnx)
        {
            sasrec = SasRecOnnxScorer.Load(onnx, $"recommender {bundle.Version} sasrec.onnx");
            if (sasrec.ItemCount != v)
            {
                sasrec.Dispose();
                throw new InvalidDataException($"recommender {bundle.Version}: SASRec knows {sasrec.ItemCount} items, the vocabulary has {v}");
            }
        }

        if (bundle.Item2Vec is { } bytes)
        {
            ItemVectors vectors;
            using (var stream = new MemoryStream(bytes, writable: false))
            {
                vectors = ItemVectors.Load(stream);
            }

            if (vectors.ItemCount != v)
            {
                sasrec?.Dispose();
                throw new InvalidDataException($"recommender {bundle.Version}: item2vec knows {vectors.ItemCount} items, the vocabulary has {v}");
            }

            itemDims = vectors.Dimensions;
            itemVectors = new float[(v + 1) * itemDims];
            for (var item = 1; item <= v; item++)
            {
                var row = itemVectors.AsSpan(item * itemDims, itemDims);
                vectors[item].CopyTo(row);
                Normalise(row);
            }
        }

        popular = [.. Enumerable.Range(0, bundle.Items.Count).Where(i => bundle.Items[i].Interactions > 0).OrderByDescending(i => bundle.Items[i].Interactions).ThenBy(i => i)];
        cold = bundle.TextVectors is { } text
            ? [.. Enumerable.Range(0, bundle.Items.Count).Where(i => (i >= v || bundle.Items[i].Interactions == 0) && text.Contains(bundle.Items[i].Sku))]
            : [];
    }

    /// <summary>The bundle's version.</summary>
    public string Version => bundle.Version;

    /// <summary>The bundle served.</summary>
    public RecommenderBundle Bundle => bundle;

    /// <summary>Whether a SASRec model ranks known products.</summary>
    public bool HasSasRec => sasrec is not null;

    /// <summary>The cosine a cold product's name needs with the customer's recent products.</summary>
    public float ColdThreshold => coldThreshold;

    /// <summary>How many products it can recommend (vocabulary and cold products).</summary>
    public int ItemCount => bundle.Items.Count;

    /// <summary>
    /// Up to <paramref name="k"/> products for a customer whose recent products are <paramref name="recent"/> (oldest
    /// first; may be empty), best first, each with its reason.
    /// </summary>
    public IReadOnlyList<Recommendation> Recommend(IReadOnlyList<RecentInteraction> recent, int k) => Recommend(recent, k, []);

    /// <summary>
    /// As <see cref="Recommend(IReadOnlyList{RecentInteraction}, int)"/>, with the customer's recent search queries
    /// (newest first) embedded here, at the store, as part of what their recent interest reads like: products whose
    /// names match a search can be recommended for it. The query text itself goes nowhere.
    /// </summary>
    public IReadOnlyList<Recommendation> Recommend(IReadOnlyList<RecentInteraction> recent, int k, IReadOnlyList<string> searches)
    {
        ArgumentNullException.ThrowIfNull(recent);
        ArgumentNullException.ThrowIfNull(searches);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var v = bundle.VocabularySize;
        var seen = new HashSet<int>();
        var history = new List<(int Item, int Recent)>(); // vocabulary ids (1-based) of the known recent products
        for (var r = 0; r < recent.Count; r++)
        {
            if (index.TryGetValue(recent[r].Sku, out var i))
            {
                seen.Add(i);
                if (i < v)
                {
                    history.Add((i + 1, r));
                }
            }
        }

        var taken = new HashSet<int>();
        var known = new List<Recommendation>(k);
        if (history.Count > 0 && sasrec is not null)
        {
            FromSasRec(recent, history, seen, taken, known, k);
        }
        else if (history.Count > 0 && itemVectors is not null)
        {
            FromItem2Vec(recent, history, seen, taken, known, k);
        }

        var profile = TextProfile(recent, searches);
        if (known.Count == 0 && profile is not null)
        {
            // Nothing the sequence models know: rank every product by how alike its name is to the recent ones.
            FromText(recent, searches, profile.Value.Vector, profile.Value.Vectors, seen, taken, known, k, coldOnly: false);
        }

        var coldPicks = new List<Recommendation>();
        if (profile is not null && options.ColdSlots > 0 && cold.Length > 0)
        {
            FromText(recent, searches, profile.Value.Vector, profile.Value.Vectors, seen, taken, coldPicks, Math.Min(options.ColdSlots, k), coldOnly: true);
        }

        // Cold products go to places 3, 6, 9, ... so the model's best picks stay on top.
        var result = new List<Recommendation>(k);
        var (a, b) = (0, 0);
        while (result.Count < k && (a < known.Count || b < coldPicks.Count))
        {
            var coldTurn = b < coldPicks.Count && (a >= known.Count || result.Count % 3 == 2);
            result.Add(coldTurn ? coldPicks[b++] : known[a++]);
        }

        if (result.Count < k)
        {
            foreach (var i in popular)
            {
                if (result.Count >= k)
                {
                    break;
                }

                if ((!options.ExcludeSeen || !seen.Contains(i)) && taken.Add(i))
                {
                    var item = bundle.Items[i];
                    result.Add(new Recommendation(item.Sku, item.Name, item.Interactions, "popular", null, null,
                        "Popular with other customers", "其他顾客常买"));
                }
            }
        }

        return result;
    }

    /// <summary>The length of <see cref="Embed"/>'s vectors (SASRec's hidden size), or 0 without SASRec.</summary>
    public int EmbeddingDimensions => sasrec?.Dimensions ?? 0;

    /// <summary>
    /// The customer embedding: SASRec's last hidden state over the customer's products known to the vocabulary (oldest
    /// first). Null without SASRec or when none of the products is known.
    /// </summary>
    public float[]? Embed(IReadOnlyList<RecentInteraction> recent)
    {
        ArgumentNullException.ThrowIfNull(recent);
        if (sasrec is null)
        {
            return null;
        }

        var ids = new List<int>(recent.Count);
        foreach (var r in recent)
        {
            if (index.TryGetValue(r.Sku, out var i) && i < bundle.VocabularySize)
            {
                ids.Add(i + 1);
            }
        }

        if (ids.Count == 0)
        {
            return null;
        }

        var hidden = new float[sasrec.Dimensions];
        sasrec.Infer(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids), [], hidden, []);
        return hidden;
    }

    /// <summary>Products like <paramref name="sku"/>: item2vec neighbours when it is in the vocabulary, else by name.</summary>
    public IReadOnlyList<Recommendation> SimilarProducts(string sku, int k)
    {
        ArgumentNullException.ThrowIfNull(sku);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (!index.TryGetValue(sku, out var self))
        {
            return [];
        }

        var item = bundle.Items[self];
        var v = bundle.VocabularySize;
        var result = new List<Recommendation>(k);
        if (itemVectors is not null && self < v)
        {
            var query = itemVectors.AsSpan((self + 1) * itemDims, itemDims).ToArray();
            foreach (var (id, score) in TopK(v, id => id == self + 1 ? float.NegativeInfinity : Dot(query, itemVectors.AsSpan(id * itemDims, itemDims)), k))
            {
                var other = bundle.Items[id - 1];
                result.Add(new Recommendation(other.Sku, other.Name, score, "item2vec", item.Sku, item.Name,
                    $"Often chosen together with {Label(item)}", $"常与{Label(item)}一起选购"));
            }

            return result;
        }

        if (bundle.TextVectors is { } text && text.TryGet(sku, out var vector))
        {
            foreach (var match in text.MostSimilar(vector, k + 1, key => key != sku).Take(k))
            {
                var other = bundle.Items[index[match.Key]];
                result.Add(new Recommendation(other.Sku, other.Name, match.Similarity, "text", item.Sku, item.Name,
                    $"Similar to {Label(item)}", $"与{Label(item)}相似"));
            }
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose() => sasrec?.Dispose();

    private void FromSasRec(IReadOnlyList<RecentInteraction> recent, List<(int Item, int Recent)> history, HashSet<int> seen, HashSet<int> taken, List<Recommendation> into, int k)
    {
        var v = bundle.VocabularySize;
        var ids = history.Select(h => h.Item).ToArray();
        var inference = sasrec!.Infer(ids);
        var scores = inference.Scores;
        var attention = inference.Attention;
        var length = sasrec.MaxLength;
        var used = Math.Min(ids.Length, length);
        foreach (var (id, score) in TopK(v, id => options.ExcludeSeen && seen.Contains(id - 1) ? float.NegativeInfinity : scores[id], k))
        {
            var i = id - 1;
            taken.Add(i);
            // The history product behind it: attention at its position, raised by how alike the two products are.
            var best = -1;
            var bestWeight = float.NegativeInfinity;
            for (var j = 0; j < used; j++)
            {
                var h = history[history.Count - used + j];
                var weight = attention[length - used + j] * (1f + Math.Max(0f, Similarity(h.Item - 1, i)));
                if (weight > bestWeight)
                {
                    (best, bestWeight) = (h.Recent, weight);
                }
            }

            into.Add(Because(bundle.Items[i], score, "sasrec", best >= 0 ? recent[best] : null));
        }
    }

    private void FromItem2Vec(IReadOnlyList<RecentInteraction> recent, List<(int Item, int Recent)> history, HashSet<int> seen, HashSet<int> taken, List<Recommendation> into, int k)
    {
        var v = bundle.VocabularySize;
        var query = new float[itemDims];
        var context = history.TakeLast(options.Item2VecContext).ToList();
        foreach (var (item, _) in context)
        {
            var row = itemVectors.AsSpan(item * itemDims, itemDims);
            for (var d = 0; d < itemDims; d++)
            {
                query[d] += row[d];
            }
        }

        Normalise(query);
        foreach (var (id, score) in TopK(v, id => options.ExcludeSeen && seen.Contains(id - 1) ? float.NegativeInfinity : Dot(query, itemVectors.AsSpan(id * itemDims, itemDims)), k))
        {
            var i = id - 1;
            taken.Add(i);
            var best = context.MaxBy(h => Dot(itemVectors.AsSpan(h.Item * itemDims, itemDims), itemVectors.AsSpan(id * itemDims, itemDims)));
            into.Add(Because(bundle.Items[i], score, "item2vec", recent[best.Recent]));
        }
    }

    private void FromText(IReadOnlyList<RecentInteraction> recent, IReadOnlyList<string> searches, float[] profile, List<(int Recent, float[] Vector)> vectors, HashSet<int> seen, HashSet<int> taken,
        List<Recommendation> into, int k, bool coldOnly)
    {
        var text = bundle.TextVectors!;
        var candidates = coldOnly ? cold : Enumerable.Range(0, bundle.Items.Count).ToArray();
        var scored = new List<(int Item, float Score)>();
        foreach (var i in candidates)
        {
            if ((options.ExcludeSeen && seen.Contains(i)) || taken.Contains(i) || !text.TryGet(bundle.Items[i].Sku, out var vector))
            {
                continue;
            }

            var s = Dot(profile, vector);
            if (!coldOnly || s >= coldThreshold)
            {
                scored.Add((i, s));
            }
        }

        foreach (var (i, s) in scored.OrderByDescending(x => x.Score).ThenBy(x => x.Item).Take(k))
        {
            taken.Add(i);
            text.TryGet(bundle.Items[i].Sku, out var vector);
            var best = vectors.MaxBy(x => Dot(x.Vector, vector!));
            var item = bundle.Items[i];
            var isCold = i >= bundle.VocabularySize || item.Interactions == 0;
            if (best.Recent < 0)
            {
                // Closest to one of the customer's searches (index -1 - j of the newest-first list).
                var query = searches[-1 - best.Recent];
                into.Add(new Recommendation(item.Sku, item.Name, s, "text", null, null,
                    isCold ? $"New product matching your search \u201c{query}\u201d" : $"Matches your search \u201c{query}\u201d",
                    isCold ? $"新品，符合您搜索的\u201c{query}\u201d" : $"符合您搜索的\u201c{query}\u201d"));
                continue;
            }

            var because = recent[best.Recent];
            var (en, zh) = isCold
                ? ($"New product, similar to {Label(because)}, which you {Verb(because.Type).En}", $"新品，与您{Verb(because.Type).Zh}的{Label(because)}相似")
                : ($"Similar to {Label(because)}, which you {Verb(because.Type).En}", $"与您{Verb(because.Type).Zh}的{Label(because)}相似");
            into.Add(new Recommendation(item.Sku, item.Name, s, "text", because.Sku, because.Name ?? NameOf(because.Sku), en, zh));
        }
    }

    /// <summary>
    /// The customer's recent products as text: each product's vector from the bundle, or its name embedded here when
    /// the bundle does not know it; the profile is their mean with newer products weighted higher. Null without text.
    /// </summary>
    private (float[] Vector, List<(int Recent, float[] Vector)> Vectors)? TextProfile(IReadOnlyList<RecentInteraction> recent, IReadOnlyList<string> searches)
    {
        if (bundle.TextVectors is not { } text || (recent.Count == 0 && (searches.Count == 0 || embedder is null)))
        {
            return null;
        }

        var vectors = new List<(int Recent, float[] Vector)>();
        var unknown = new List<int>();
        var start = Math.Max(0, recent.Count - 10);
        for (var r = start; r < recent.Count; r++)
        {
            if (text.TryGet(recent[r].Sku, out var vector))
            {
                vectors.Add((r, vector));
            }
            else if (embedder is not null && !string.IsNullOrWhiteSpace(recent[r].Name))
            {
                unknown.Add(r);
            }
        }

        if (unknown.Count > 0)
        {
            var embedded = embedder!.Embed([.. unknown.Select(r => recent[r].Name!)]);
            for (var u = 0; u < unknown.Count; u++)
            {
                if (embedded[u].Any(x => x != 0))
                {
                    vectors.Add((unknown[u], embedded[u]));
                }
            }
        }

        // Searches (newest first, at most 3) weigh like the newest product; they are stored as -1 - j.
        if (embedder is not null && searches.Count > 0)
        {
            var queries = searches.Take(3).ToList();
            var embedded = embedder.Embed(queries);
            for (var j = 0; j < queries.Count; j++)
            {
                if (embedded[j].Any(x => x != 0))
                {
                    vectors.Add((-1 - j, embedded[j]));
                }
            }
        }

        if (vectors.Count == 0)
        {
            return null;
        }

        var mean = new float[text.Dimensions];
        foreach (var (r, vector) in vectors)
        {
            var weight = r < 0 ? 1f / (1 - 1 - r) : 1f / (1 + recent.Count - 1 - r); // the newest counts 1, the one before 1/2, ...
            for (var d = 0; d < mean.Length; d++)
            {
                mean[d] += weight * vector[d];
            }
        }

        Normalise(mean);
        return (mean, vectors);
    }

    private float Similarity(int a, int b)
    {
        if (itemVectors is not null && a < bundle.VocabularySize && b < bundle.VocabularySize)
        {
            return Dot(itemVectors.AsSpan((a + 1) * itemDims, itemDims), itemVectors.AsSpan((b + 1) * itemDims, itemDims));
        }

        return bundle.TextVectors is { } text && text.TryGet(bundle.Items[a].Sku, out var x) && text.TryGet(bundle.Items[b].Sku, out var y) ? Dot(x, y) : 0f;
    }

    private Recommendation Because(BundleItem item, float score, string source, RecentInteraction? because)
    {
        if (because is null)
        {
            return new Recommendation(item.Sku, item.Name, score, source, null, null, "Likely next for you", "您可能接下来需要");
        }

        var (en, zh) = Verb(because.Type);
        var name = because.Name ?? NameOf(because.Sku);
        return new Recommendation(item.Sku, item.Name, score, source, because.Sku, name,
            $"Because you {en} {Label(because)}", $"因为您{zh}{Label(because)}");
    }

    private string? NameOf(string sku) => index.TryGetValue(sku, out var i) ? bundle.Items[i].Name : null;

    private string Label(RecentInteraction r) => r.Name ?? NameOf(r.Sku) ?? r.Sku;

    private static string Label(BundleItem item) => item.Name ?? item.Sku;

    private static (string En, string Zh) Verb(string type) => type switch
    {
        "purchase" => ("bought", "购买了"),
        "add_to_cart" => ("added to your cart", "加购了"),
        "review" => ("reviewed", "评价了"),
        "like" => ("liked", "喜欢了"),
        _ => ("viewed", "浏览了"),
    };

    /// <summary>The <paramref name="k"/> best of ids 1..<paramref name="count"/> (scores of −∞ never), best first.</summary>
    private static List<(int Id, float Score)> TopK(int count, Func<int, float> score, int k)
    {
        var heap = new PriorityQueue<int, (float, int)>(k + 1, Comparer<(float Score, int Id)>.Create((x, y) =>
            x.Score != y.Score ? x.Score.CompareTo(y.Score) : y.Id.CompareTo(x.Id)));
        for (var id = 1; id <= count; id++)
        {
            var s = score(id);
            if (float.IsNegativeInfinity(s) || float.IsNaN(s))
            {
                continue;
            }

            if (heap.Count < k)
            {
                heap.Enqueue(id, (s, id));
            }
            else if (heap.TryPeek(out _, out var worst) && (s > worst.Item1 || (s == worst.Item1 && id < worst.Item2)))
            {
                heap.EnqueueDequeue(id, (s, id));
            }
        }

        var result = new List<(int, float)>(heap.Count);
        while (heap.TryDequeue(out var id, out var p))
        {
            result.Add((id, p.Item1));
        }

        result.Reverse();
        return result;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var n = Math.Min(a.Length, b.Length);
        float s = 0;
        for (var i = 0; i < n; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }

    private static void Normalise(Span<float> v)
    {
        double sum = 0;
        foreach (var x in v)
        {
            sum += x * x;
        }

        if (sum > 0)
        {
            var scale = (float)(1 / Math.Sqrt(sum));
            for (var i = 0; i < v.Length; i++)
            {
                v[i] *= scale;
            }
        }
    }
}
