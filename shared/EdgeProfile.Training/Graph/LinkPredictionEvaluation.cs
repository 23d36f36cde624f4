using System.Globalization;
using System.Text;

namespace EdgeProfile.Training.Graph;

/// <summary>One scorer's held-out link-prediction figures.</summary>
/// <param name="Name">Scorer name.</param>
/// <param name="Auc">ROC AUC of the held-out positive pairs against as many sampled negative pairs (pooled over customers).</param>
/// <param name="HitsAtK">Share of test customers with at least one held-out category among their top K.</param>
/// <param name="RecallAtK">Mean over test customers of (held-out categories in the top K) / (held-out categories).</param>
/// <param name="K">The K of <paramref name="HitsAtK"/> and <paramref name="RecallAtK"/>.</param>
/// <param name="Customers">Test customers.</param>
/// <param name="Positives">Held-out positive pairs.</param>
/// <param name="Negatives">Sampled negative pairs.</param>
/// <param name="CustomerRecall">Recall@K of each test customer (ascending customer index), for paired comparisons; a hit is recall &gt; 0.</param>
public sealed record LinkPredictionResult(string Name, double Auc, double HitsAtK, double RecallAtK, int K, int Customers, int Positives, int Negatives, IReadOnlyList<double> CustomerRecall)
{
    /// <summary>
    /// Paired bootstrap over test customers of this result's mean recall@K (or hit rate, <paramref name="hits"/>) minus
    /// <paramref name="other"/>'s, on the same customers: the observed difference and a 95% percentile interval.
    /// </summary>
    public (double Difference, double Low, double High) PairedDifference(LinkPredictionResult other, bool hits, int resamples = 2000, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.CustomerRecall.Count != CustomerRecall.Count || CustomerRecall.Count == 0)
        {
            throw new ArgumentException("the results are not on the same (non-empty) customers", nameof(other));
        }
        var n = CustomerRecall.Count;
        var d = new double[n];
        for (var i = 0; i < n; i++)
        {
            d[i] = hits ? (CustomerRecall[i] > 0 ? 1 : 0) - (other.CustomerRecall[i] > 0 ? 1 : 0) : CustomerRecall[i] - other.CustomerRecall[i];
        }
        var random = new Random(seed);
        var means = new double[resamples];
        for (var r = 0; r < resamples; r++)
        {
            double sum = 0;
            for (var i = 0; i < n; i++)
            {
                sum += d[random.Next(n)];
            }
            means[r] = sum / n;
        }
        Array.Sort(means);
        return (d.Average(), means[(int)(0.025 * (resamples - 1))], means[(int)Math.Ceiling(0.975 * (resamples - 1))]);
    }
}

/// <summary>
/// Held-out evaluation of customer–category link prediction on a <see cref="TemporalLinkSplit"/>.
/// AUC: every held-out positive pair against as many negative pairs — for each test customer, as many categories as it
/// has positives, drawn uniformly (seeded, the same for every scorer) from the categories it never bought (neither before
/// nor after the cutoff). Hits@K and recall@K: all categories are ranked for each test customer, leaving out those it
/// bought before the cutoff (ties broken by category index); a hit when any held-out category is in the top K.
/// </summary>
public static class LinkPredictionEvaluation
{
    /// <summary>Evaluates every scorer of <paramref name="scorers"/> on <paramref name="split"/>'s held-out pairs.</summary>
    public static IReadOnlyList<LinkPredictionResult> Evaluate(TemporalLinkSplit split, IEnumerable<ICategoryScorer> scorers, int k = 10, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(split);
        return Evaluate(split.Graph, split.HeldOut, scorers, k, seed);
    }

    /// <summary>Evaluates every scorer of <paramref name="scorers"/> on the held-out pairs <paramref name="heldOut"/> (customer → categories) of <paramref name="graph"/>.</summary>
    public static IReadOnlyList<LinkPredictionResult> Evaluate(HeteroGraph graph, IReadOnlyDictionary<int, int[]> heldOut, IEnumerable<ICategoryScorer> scorers, int k = 10, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(heldOut);
        ArgumentNullException.ThrowIfNull(scorers);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var customers = heldOut.Where(e => e.Value.Length > 0).Select(e => e.Key).Order().ToArray();
        foreach (var c in customers)
        {
            foreach (var cat in heldOut[c])
            {
                if (graph.History(c).Contains(cat))
                {
                    throw new ArgumentException($"held-out pair ({graph.Customers[c]}, {graph.Categories[cat]}) is in the training graph", nameof(heldOut));
                }
            }
        }

        var random = new Random(seed);
        var negatives = new Dictionary<int, int[]>();
        foreach (var c in customers)
        {
            var bought = new HashSet<int>(graph.History(c));
            bought.UnionWith(heldOut[c]);
            var free = Enumerable.Range(0, graph.CategoryCount).Where(x => !bought.Contains(x)).ToArray();
            random.Shuffle(free);
            negatives[c] = free[..Math.Min(free.Length, heldOut[c].Length)];
        }

        var results = new List<LinkPredictionResult>();
        foreach (var scorer in scorers)
        {
            var scores = new List<float>();
            var labels = new List<float>();
            double hits = 0, recall = 0;
            var perCustomer = new double[customers.Length];
            var index = 0;
            foreach (var c in customers)
            {
                var s = scorer.Score(c);
                if (s.Length != graph.CategoryCount)
                {
                    throw new InvalidOperationException($"{scorer.Name} gave {s.Length} scores for {graph.CategoryCount} categories");
                }
                foreach (var p in heldOut[c])
                {
                    scores.Add(s[p]);
                    labels.Add(1f);
                }
                foreach (var n in negatives[c])
                {
                    scores.Add(s[n]);
                    labels.Add(0f);
                }
                var top = TopK(s, graph.History(c), k);
                var found = top.Count(heldOut[c].Contains);
                hits += found > 0 ? 1 : 0;
                perCustomer[index++] = (double)found / heldOut[c].Length;
                recall += perCustomer[index - 1];
            }
            var n0 = customers.Length;
            results.Add(new LinkPredictionResult(scorer.Name, Metrics.RocAuc(scores, labels),
                n0 == 0 ? double.NaN : hits / n0, n0 == 0 ? double.NaN : recall / n0, k, n0,
                labels.Count(l => l > 0.5f), labels.Count(l => l <= 0.5f), perCustomer));
        }
        return results;
    }

    /// <summary>
    /// The <paramref name="k"/> best category indices by <paramref name="scores"/> (descending; ties by lower index),
    /// leaving out <paramref name="exclude"/>.
    /// </summary>
    public static int[] TopK(IReadOnlyList<float> scores, IEnumerable<int> exclude, int k)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(exclude);
        var skip = new HashSet<int>(exclude);
        return [.. Enumerable.Range(0, scores.Count).Where(i => !skip.Contains(i)).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k)];
    }

    /// <summary>A fixed-width text table of <paramref name="results"/>.</summary>
    public static string ToTable(IEnumerable<LinkPredictionResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        var list = results.ToList();
        var k = list.Count > 0 ? list[0].K : 10;
        text.AppendLine(CultureInfo.InvariantCulture, $"{"model",-14} {"AUC",7} {$"Hits@{k}",8} {$"Recall@{k}",9}  customers positives negatives");
        foreach (var r in list)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{r.Name,-14} {r.Auc,7:F4} {r.HitsAtK,8:F4} {r.RecallAtK,9:F4}  {r.Customers,9} {r.Positives,9} {r.Negatives,9}");
        }
        return text.ToString();
    }
}
