namespace EdgeProfile.Training.Graph;

/// <summary>
/// A split of purchases by time for "which category will this customer need next": the message-passing graph is built
/// from the purchases strictly before the cutoff only; the held-out positives are the customer–category pairs first
/// bought at or after the cutoff, for customers in that graph and categories in it, that the customer had not bought
/// before the cutoff. Nothing bought at or after the cutoff (no product edge, no customer–category link) is in
/// <see cref="Graph"/>.
/// </summary>
public sealed class TemporalLinkSplit
{
    private TemporalLinkSplit(HeteroGraph graph, DateTimeOffset cutoff, IReadOnlyDictionary<int, int[]> heldOut, int newCustomerPairs, int newCategoryPairs, int trainPurchases, int testPurchases)
    {
        Graph = graph;
        Cutoff = cutoff;
        HeldOut = heldOut;
        NewCustomerPairs = newCustomerPairs;
        NewCategoryPairs = newCategoryPairs;
        TrainPurchases = trainPurchases;
        TestPurchases = testPurchases;
    }

    /// <summary>The graph of the purchases before <see cref="Cutoff"/>.</summary>
    public HeteroGraph Graph { get; }

    /// <summary>Purchases at or after this time are held out.</summary>
    public DateTimeOffset Cutoff { get; }

    /// <summary>Held-out positives: customer index → category indices (ascending) the customer first bought after the cutoff.</summary>
    public IReadOnlyDictionary<int, int[]> HeldOut { get; }

    /// <summary>Held-out positive pairs in all.</summary>
    public int HeldOutPairs => HeldOut.Values.Sum(v => v.Length);

    /// <summary>New pairs after the cutoff left out because the customer has no purchase before it (cold start).</summary>
    public int NewCustomerPairs { get; }

    /// <summary>New pairs after the cutoff left out because the category does not occur before it (no node to score).</summary>
    public int NewCategoryPairs { get; }

    /// <summary>Purchase lines before the cutoff (in the graph).</summary>
    public int TrainPurchases { get; }

    /// <summary>Purchase lines at or after the cutoff.</summary>
    public int TestPurchases { get; }

    /// <summary>Splits at the time <paramref name="testFraction"/> of the way from the end of the purchases' time range.</summary>
    public static TemporalLinkSplit ByFraction(IReadOnlyList<GraphPurchase> purchases, double testFraction = 0.2)
    {
        ArgumentNullException.ThrowIfNull(purchases);
        if (purchases.Count == 0)
        {
            throw new ArgumentException("no purchases", nameof(purchases));
        }
        if (testFraction is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "the held-out fraction must be in (0, 1)");
        }
        var first = purchases.Min(p => p.Time);
        var last = purchases.Max(p => p.Time);
        return At(purchases, first + (last - first) * (1 - testFraction));
    }

    /// <summary>Splits at <paramref name="cutoff"/>.</summary>
    public static TemporalLinkSplit At(IReadOnlyList<GraphPurchase> purchases, DateTimeOffset cutoff)
    {
        ArgumentNullException.ThrowIfNull(purchases);
        var before = purchases.Where(p => p.Time < cutoff).ToList();
        if (before.Count == 0)
        {
            throw new ArgumentException($"no purchase before the cutoff {cutoff:O}", nameof(cutoff));
        }
        var graph = HeteroGraph.Build(before);
        var heldOut = new Dictionary<int, SortedSet<int>>();
        var seen = new HashSet<(string, string)>();
        int newCustomer = 0, newCategory = 0, after = 0;
        foreach (var p in purchases.Where(p => p.Time >= cutoff))
        {
            after++;
            if (!seen.Add((p.Customer, p.Category)))
            {
                continue;
            }
            var c = graph.CustomerIndex(p.Customer);
            var k = graph.CategoryIndex(p.Category);
            if (c >= 0 && k >= 0 && graph.History(c).Contains(k))
            {
                continue; // bought before the cutoff: not "next"
            }
            if (c < 0)
            {
                newCustomer++;
            }
            else if (k < 0)
            {
                newCategory++;
            }
            else
            {
                if (!heldOut.TryGetValue(c, out var set))
                {
                    heldOut[c] = set = [];
                }
                set.Add(k);
            }
        }
        return new TemporalLinkSplit(graph, cutoff, heldOut.ToDictionary(e => e.Key, e => e.Value.ToArray()), newCustomer, newCategory, before.Count, after);
    }
}
