namespace EdgeProfile.Training.Graph;

/// <summary>Scores every category for a customer of a <see cref="HeteroGraph"/> (higher = more likely to be bought next).</summary>
public interface ICategoryScorer
{
    /// <summary>Name in reports.</summary>
    string Name { get; }

    /// <summary>One score per category index for customer index <paramref name="customer"/>.</summary>
    float[] Score(int customer);
}

/// <summary>Ranks categories by the dot product of customer and category embeddings.</summary>
public sealed class EmbeddingScorer : ICategoryScorer
{
    private readonly float[][] customers;
    private readonly float[][] categories;

    /// <summary>A scorer over <paramref name="customers"/> and <paramref name="categories"/> (rows of equal width, by index).</summary>
    public EmbeddingScorer(string name, float[][] customers, float[][] categories)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(customers);
        ArgumentNullException.ThrowIfNull(categories);
        Name = name;
        this.customers = customers;
        this.categories = categories;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public float[] Score(int customer)
    {
        var u = customers[customer];
        var scores = new float[categories.Length];
        for (var k = 0; k < categories.Length; k++)
        {
            var v = categories[k];
            double dot = 0;
            for (var i = 0; i < u.Length; i++)
            {
                dot += u[i] * v[i];
            }
            scores[k] = (float)dot;
        }
        return scores;
    }
}

/// <summary>
/// Popularity baseline: every customer gets the same ranking, score(k) = share of the graph's customers who bought
/// category k.
/// </summary>
public sealed class PopularityBaseline : ICategoryScorer
{
    private readonly float[] scores;

    /// <summary>Counts the buyers of each category in <paramref name="graph"/>.</summary>
    public PopularityBaseline(HeteroGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var buyers = new int[graph.CategoryCount];
        for (var c = 0; c < graph.CustomerCount; c++)
        {
            foreach (var k in graph.History(c))
            {
                buyers[k]++;
            }
        }
        scores = [.. buyers.Select(b => graph.CustomerCount == 0 ? 0f : (float)b / graph.CustomerCount)];
    }

    /// <inheritdoc/>
    public string Name => "popularity";

    /// <inheritdoc/>
    public float[] Score(int customer) => (float[])scores.Clone();
}

/// <summary>
/// Co-purchase baseline (item-to-item collaborative filtering on categories): cooc(j, k) = number of customers whose
/// history holds both j and k (j ≠ k); normalised by the buyers of j, P(k | j) ≈ cooc(j, k) / n_j; a customer's score of
/// k is the mean over the categories j of its history of P(k | j), i.e.
/// <c>score(c, k) = (1 / |H(c)|) · Σ_{j ∈ H(c)} cooc(j, k) / n_j</c> (0 for a customer with no history).
/// </summary>
public sealed class CoPurchaseBaseline : ICategoryScorer
{
    private readonly HeteroGraph graph;
    private readonly float[,] conditional;

    /// <summary>Counts category co-occurrence over the customers' histories in <paramref name="graph"/>.</summary>
    public CoPurchaseBaseline(HeteroGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        this.graph = graph;
        var k = graph.CategoryCount;
        var cooc = new int[k, k];
        var buyers = new int[k];
        for (var c = 0; c < graph.CustomerCount; c++)
        {
            var h = graph.History(c);
            foreach (var a in h)
            {
                buyers[a]++;
                foreach (var b in h)
                {
                    if (a != b)
                    {
                        cooc[a, b]++;
                    }
                }
            }
        }
        conditional = new float[k, k];
        for (var a = 0; a < k; a++)
        {
            for (var b = 0; b < k; b++)
            {
                conditional[a, b] = buyers[a] == 0 ? 0f : (float)cooc[a, b] / buyers[a];
            }
        }
    }

    /// <inheritdoc/>
    public string Name => "co-purchase";

    /// <summary>P(k | j) estimate: the share of category <paramref name="j"/>'s buyers who also bought <paramref name="k"/>.</summary>
    public float Conditional(int j, int k) => conditional[j, k];

    /// <inheritdoc/>
    public float[] Score(int customer)
    {
        var scores = new float[graph.CategoryCount];
        var history = graph.History(customer);
        if (history.Count == 0)
        {
            return scores;
        }
        var sums = new double[graph.CategoryCount];
        foreach (var j in history)
        {
            for (var k = 0; k < sums.Length; k++)
            {
                sums[k] += conditional[j, k];
            }
        }
        for (var k = 0; k < sums.Length; k++)
        {
            scores[k] = (float)(sums[k] / history.Count);
        }
        return scores;
    }
}
