namespace EdgeProfile.Training.Graph;

/// <summary>The three node types of the customer–product–category graph.</summary>
public enum GraphNodeType
{
    /// <summary>A customer (household).</summary>
    Customer = 0,

    /// <summary>A product.</summary>
    Product = 1,

    /// <summary>A product category.</summary>
    Category = 2,
}

/// <summary>
/// The customer–product–category graph, undirected, in one node-id space: customers are <c>[0, C)</c>, products
/// <c>[C, C+P)</c>, categories <c>[C+P, C+P+K)</c> (each block sorted by id, ordinal). Edges: customer–product (bought at
/// least once; one edge however many lines) and product–category (the product's category). There is no direct
/// customer–category edge: that link is what is predicted, and it is reached through the products. Adjacency is stored
/// as sorted CSR lists.
/// </summary>
public sealed class HeteroGraph
{
    private readonly int[] offsets;
    private readonly int[] neighbours;
    private readonly int[] productCategory;
    private readonly int[][] histories;
    private readonly Dictionary<string, int> customerIndex;
    private readonly Dictionary<string, int> categoryIndex;

    private HeteroGraph(string[] customers, string[] products, string[] categories, int[] productCategory, List<int>[] adjacency)
    {
        Customers = customers;
        Products = products;
        Categories = categories;
        this.productCategory = productCategory;
        offsets = new int[adjacency.Length + 1];
        for (var v = 0; v < adjacency.Length; v++)
        {
            adjacency[v].Sort();
            offsets[v + 1] = offsets[v] + adjacency[v].Count;
        }
        neighbours = new int[offsets[^1]];
        for (var v = 0; v < adjacency.Length; v++)
        {
            adjacency[v].CopyTo(neighbours, offsets[v]);
        }

        histories = new int[customers.Length][];
        for (var c = 0; c < customers.Length; c++)
        {
            histories[c] = [.. adjacency[c].Select(p => productCategory[p - customers.Length]).Distinct().Order()];
        }
        customerIndex = customers.Select((id, i) => (id, i)).ToDictionary(t => t.id, t => t.i, StringComparer.Ordinal);
        categoryIndex = categories.Select((id, i) => (id, i)).ToDictionary(t => t.id, t => t.i, StringComparer.Ordinal);
    }

    /// <summary>Customer ids, by customer index.</summary>
    public IReadOnlyList<string> Customers { get; }

    /// <summary>Product ids, by product index.</summary>
    public IReadOnlyList<string> Products { get; }

    /// <summary>Category ids, by category index.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>Customers (C).</summary>
    public int CustomerCount => Customers.Count;

    /// <summary>Products (P).</summary>
    public int ProductCount => Products.Count;

    /// <summary>Categories (K).</summary>
    public int CategoryCount => Categories.Count;

    /// <summary>All nodes (C + P + K).</summary>
    public int NodeCount => CustomerCount + ProductCount + CategoryCount;

    /// <summary>Undirected edges (customer–product plus product–category).</summary>
    public int EdgeCount => neighbours.Length / 2;

    /// <summary>Node id of customer index <paramref name="customer"/>.</summary>
    public int CustomerNode(int customer) => customer;

    /// <summary>Node id of product index <paramref name="product"/>.</summary>
    public int ProductNode(int product) => CustomerCount + product;

    /// <summary>Node id of category index <paramref name="category"/>.</summary>
    public int CategoryNode(int category) => CustomerCount + ProductCount + category;

    /// <summary>The type of node <paramref name="node"/>.</summary>
    public GraphNodeType TypeOf(int node) =>
        node < CustomerCount ? GraphNodeType.Customer : node < CustomerCount + ProductCount ? GraphNodeType.Product : GraphNodeType.Category;

    /// <summary>Type of every node, by node id.</summary>
    public GraphNodeType[] NodeTypes() => [.. Enumerable.Range(0, NodeCount).Select(TypeOf)];

    /// <summary>Category index of product index <paramref name="product"/>.</summary>
    public int CategoryOfProduct(int product) => productCategory[product];

    /// <summary>Neighbours of <paramref name="node"/> (node ids, ascending).</summary>
    public ReadOnlySpan<int> Neighbours(int node) => neighbours.AsSpan(offsets[node], offsets[node + 1] - offsets[node]);

    /// <summary>Number of neighbours of <paramref name="node"/>.</summary>
    public int Degree(int node) => offsets[node + 1] - offsets[node];

    /// <summary>Whether nodes <paramref name="a"/> and <paramref name="b"/> are joined by an edge.</summary>
    public bool HasEdge(int a, int b) => Neighbours(a).BinarySearch(b) >= 0;

    /// <summary>Category indices customer <paramref name="customer"/> bought (through its products), ascending.</summary>
    public IReadOnlyList<int> History(int customer) => histories[customer];

    /// <summary>Index of customer id <paramref name="id"/>, or -1 when it is not in the graph.</summary>
    public int CustomerIndex(string id) => customerIndex.TryGetValue(id, out var i) ? i : -1;

    /// <summary>Index of category id <paramref name="id"/>, or -1 when it is not in the graph.</summary>
    public int CategoryIndex(string id) => categoryIndex.TryGetValue(id, out var i) ? i : -1;

    /// <summary>Key of the customer–category pair (<paramref name="customer"/>, <paramref name="category"/>) in an exclusion set.</summary>
    public long PairKey(int customer, int category) => (long)customer * CategoryCount + category;

    /// <summary>
    /// Whether the edge <paramref name="a"/>–<paramref name="b"/> is a customer–product edge whose (customer, product
    /// category) pair is in <paramref name="excludedPairs"/> (keys from <see cref="PairKey"/>). Such edges are the
    /// paths that carry a target customer–category link, and are hidden while that link is being predicted.
    /// </summary>
    public bool IsExcluded(int a, int b, IReadOnlySet<long> excludedPairs)
    {
        ArgumentNullException.ThrowIfNull(excludedPairs);
        var ta = TypeOf(a);
        var tb = TypeOf(b);
        if (ta == GraphNodeType.Customer && tb == GraphNodeType.Product)
        {
            return excludedPairs.Contains(PairKey(a, productCategory[b - CustomerCount]));
        }
        if (ta == GraphNodeType.Product && tb == GraphNodeType.Customer)
        {
            return excludedPairs.Contains(PairKey(b, productCategory[a - CustomerCount]));
        }
        return false;
    }

    /// <summary>
    /// Builds the graph of <paramref name="purchases"/>: every customer, product and category that occurs in them. A
    /// product's category is the one on its first line in input order (the catalogue gives each product one).
    /// </summary>
    public static HeteroGraph Build(IEnumerable<GraphPurchase> purchases)
    {
        ArgumentNullException.ThrowIfNull(purchases);
        var customerProducts = new HashSet<(string Customer, string Product)>();
        var categoryOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in purchases)
        {
            if (string.IsNullOrEmpty(p.Customer) || string.IsNullOrEmpty(p.Product) || string.IsNullOrEmpty(p.Category))
            {
                throw new ArgumentException("a purchase has an empty customer, product or category", nameof(purchases));
            }
            customerProducts.Add((p.Customer, p.Product));
            categoryOf.TryAdd(p.Product, p.Category);
        }

        string[] customers = [.. customerProducts.Select(e => e.Customer).Distinct().Order(StringComparer.Ordinal)];
        string[] products = [.. categoryOf.Keys.Order(StringComparer.Ordinal)];
        string[] categories = [.. categoryOf.Values.Distinct().Order(StringComparer.Ordinal)];
        var c = customers.Select((id, i) => (id, i)).ToDictionary(t => t.id, t => t.i, StringComparer.Ordinal);
        var p2 = products.Select((id, i) => (id, i)).ToDictionary(t => t.id, t => t.i, StringComparer.Ordinal);
        var k = categories.Select((id, i) => (id, i)).ToDictionary(t => t.id, t => t.i, StringComparer.Ordinal);
        var adjacency = new List<int>[customers.Length + products.Length + categories.Length];
        for (var v = 0; v < adjacency.Length; v++)
        {
            adjacency[v] = [];
        }

        foreach (var (customer, product) in customerProducts)
        {
            var a = c[customer];
            var b = customers.Length + p2[product];
            adjacency[a].Add(b);
            adjacency[b].Add(a);
        }
        var productCategory = new int[products.Length];
        for (var i = 0; i < products.Length; i++)
        {
            productCategory[i] = k[categoryOf[products[i]]];
            var a = customers.Length + i;
            var b = customers.Length + products.Length + productCategory[i];
            adjacency[a].Add(b);
            adjacency[b].Add(a);
        }
        return new HeteroGraph(customers, products, categories, productCategory, adjacency);
    }
}
