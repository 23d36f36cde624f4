using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace EdgeProfile.Knowledge.Graph;

/// <summary>A catalogue product before import.</summary>
/// <param name="Id">The catalogue's product id.</param>
/// <param name="Department">Department (top level of the catalogue), or null.</param>
/// <param name="Commodity">Commodity / product category, or null.</param>
public sealed record CatalogueProduct(string Id, string? Department, string? Commodity);

/// <summary>What a catalogue import wrote.</summary>
/// <param name="Products">Products read.</param>
/// <param name="ProductsMatched">Products mapped onto a taxonomy node.</param>
/// <param name="Names">Distinct department/commodity names seen.</param>
/// <param name="NamesMatched">Distinct names that matched a taxonomy node.</param>
/// <param name="TriplesAdded">New triples written.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record CatalogueImportResult(int Products, int ProductsMatched, int Names, int NamesMatched, int TriplesAdded, TimeSpan Elapsed)
{
    /// <summary>Share of products mapped onto the taxonomy.</summary>
    public double MatchedShare => Products == 0 ? 0 : (double)ProductsMatched / Products;
}

/// <summary>
/// Maps catalogue category names onto taxonomy categories by name. The rule:
/// <list type="number">
/// <item>A name becomes a set of tokens: lower-cased, split at every character that is not a letter or digit, stop
/// words dropped (<see cref="StopWords"/>), each token singularised (<c>-ies</c> → <c>-y</c> for tokens over 4
/// letters; <c>-ches -shes -sses -xes -oes</c> lose <c>-es</c>; otherwise a final <c>s</c> is dropped from tokens over 3
/// letters not ending in <c>ss</c>). <c>"BEERS/ALES"</c> → {beer, ale}; <c>"Liquor &amp; Spirits"</c> → {liquor, spirit}.</item>
/// <item>The score of a taxonomy category is the Jaccard similarity of its own name's tokens (last path segment)
/// and the catalogue name's tokens.</item>
/// <item>The best category is the one with the highest score, ties going to the shallower category and then to the
/// lower Google id; it matches if its score is at least <see cref="Threshold"/> (0.5).</item>
/// <item>A product is mapped through its commodity; if that does not match, through its department.</item>
/// </list>
/// It is a lexical heuristic: abbreviations (<c>FRZN</c>, <c>PNT BTR</c>) do not match, and a one-word name can land
/// in a far subtree (<c>SQUASH</c> → <c>Racquetball &amp; Squash</c>).
/// </summary>
public sealed class CategoryMatcher
{
    /// <summary>The minimum Jaccard score of a match.</summary>
    public const double Threshold = 0.5;

    /// <summary>Tokens ignored when comparing names.</summary>
    public static readonly IReadOnlySet<string> StopWords = new HashSet<string>(StringComparer.Ordinal)
    {
        "and", "or", "the", "of", "a", "an", "for", "with", "misc", "other", "others", "all",
        "product", "products", "item", "items", "supply", "supplies", "accessory", "accessories",
    };

    private readonly List<(Term Node, int Depth, double GoogleId, HashSet<string> Tokens)> _nodes = [];
    private readonly Dictionary<string, Term?> _memo = new(StringComparer.Ordinal);

    /// <summary>A matcher over the taxonomy categories in a store (nodes with <c>type Category</c>, a <c>name</c>,
    /// <c>depth</c> and <c>googleId</c>).</summary>
    /// <param name="store">The store holding an imported taxonomy.</param>
    public CategoryMatcher(TripleStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        foreach (var t in store.Match(null, Vocabulary.Type, Vocabulary.CategoryClass))
        {
            var node = t.Subject;
            var name = store.Match(node, Vocabulary.NameProperty, null).Select(m => m.Object).FirstOrDefault(o => o.Kind == TermKind.Text);
            var depth = store.Match(node, Vocabulary.Depth, null).Select(m => m.Object).FirstOrDefault(o => o.Kind == TermKind.Number);
            var id = store.Match(node, Vocabulary.GoogleId, null).Select(m => m.Object).FirstOrDefault(o => o.Kind == TermKind.Number);
            if (name is null || depth is null || id is null)
            {
                continue; // the root and foreign categories
            }

            var tokens = Tokens(name.Lexical);
            if (tokens.Count > 0)
            {
                _nodes.Add((node, (int)depth.AsNumber(), id.AsNumber(), tokens));
            }
        }
    }

    /// <summary>The number of taxonomy categories the matcher compares against.</summary>
    public int CategoryCount => _nodes.Count;

    /// <summary>The token set of a name (see the class summary).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The tokens.</returns>
    public static HashSet<string> Tokens(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var result = new HashSet<string>(StringComparer.Ordinal);
        var current = new StringBuilder();
        foreach (var ch in name.ToLowerInvariant().Append(' '))
        {
            if (char.IsLetterOrDigit(ch))
            {
                current.Append(ch);
                continue;
            }

            if (current.Length > 0)
            {
                var token = current.ToString();
                current.Clear();
                if (!StopWords.Contains(token))
                {
                    result.Add(Singular(token));
                }
            }
        }

        return result;
    }

    /// <summary>The taxonomy node a catalogue name maps onto, or null.</summary>
    /// <param name="name">The catalogue name.</param>
    /// <returns>The node or null.</returns>
    public Term? Match(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        if (_memo.TryGetValue(name, out var memo))
        {
            return memo;
        }

        var tokens = Tokens(name);
        Term? best = null;
        (double Score, int Depth, double Id) bestKey = (0, 0, 0);
        if (tokens.Count > 0)
        {
            foreach (var (node, depth, id, nodeTokens) in _nodes)
            {
                var shared = nodeTokens.Count(tokens.Contains);
                if (shared == 0)
                {
                    continue;
                }

                var score = (double)shared / (nodeTokens.Count + tokens.Count - shared);
                if (score < Threshold)
                {
                    continue;
                }

                if (best is null || score > bestKey.Score || (score == bestKey.Score && (depth < bestKey.Depth || (depth == bestKey.Depth && id < bestKey.Id))))
                {
                    best = node;
                    bestKey = (score, depth, id);
                }
            }
        }

        _memo[name] = best;
        return best;
    }

    /// <summary>The node of a product: its commodity's match, else its department's.</summary>
    /// <param name="product">The product.</param>
    /// <returns>The node or null.</returns>
    public Term? Match(CatalogueProduct product)
    {
        ArgumentNullException.ThrowIfNull(product);
        return Match(product.Commodity) ?? Match(product.Department);
    }

    private static string Singular(string t)
    {
        if (t.Length > 4 && t.EndsWith("ies", StringComparison.Ordinal))
        {
            return t[..^3] + "y";
        }

        if (t.Length > 4 && (t.EndsWith("ches", StringComparison.Ordinal) || t.EndsWith("shes", StringComparison.Ordinal)
            || t.EndsWith("sses", StringComparison.Ordinal) || t.EndsWith("xes", StringComparison.Ordinal) || t.EndsWith("oes", StringComparison.Ordinal)))
        {
            return t[..^2];
        }

        return t.Length > 3 && t.EndsWith('s') && !t.EndsWith("ss", StringComparison.Ordinal) ? t[..^1] : t;
    }
}

/// <summary>
/// Imports product catalogues. Each product becomes the node <c>PREFIX:product:ID</c> with <c>type Product</c>,
/// <c>department</c> and <c>commodity</c> (strings, when present) and <c>inCategory</c> the taxonomy node that
/// <see cref="CategoryMatcher"/> maps it onto (when one matches).
/// </summary>
public static class CatalogueImporter
{
    /// <summary>The node of a catalogue product.</summary>
    /// <param name="prefix">The catalogue prefix (e.g. <c>cj</c>, <c>olist</c>).</param>
    /// <param name="productId">The product id.</param>
    /// <returns>The node.</returns>
    public static Term ProductNode(string prefix, string productId) => Term.Name(prefix + ":product:" + productId);

    /// <summary>Reads completejourney <c>products.csv</c> (header <c>product_id, manufacturer_id, department, brand,
    /// product_category, product_type, package_size</c>); department and product_category become department and commodity.</summary>
    /// <param name="path">The CSV file.</param>
    /// <returns>The products.</returns>
    public static IReadOnlyList<CatalogueProduct> ReadCompleteJourney(string path)
    {
        var rows = Csv.Read(path);
        var header = rows.Count > 0 ? rows[0] : throw new FormatException($"{path} is empty.");
        int id = Column(header, "product_id", path), dep = Column(header, "department", path), cat = Column(header, "product_category", path);
        return [.. rows.Skip(1).Select(r => new CatalogueProduct(r[id], NullIfEmpty(r[dep]), NullIfEmpty(r[cat])))];
    }

    /// <summary>Reads olist <c>olist_products_dataset.csv</c> with <c>product_category_name_translation.csv</c>: the
    /// English category name (underscores as spaces) becomes the commodity; olist has no department.</summary>
    /// <param name="productsPath">The products CSV.</param>
    /// <param name="translationPath">The translation CSV.</param>
    /// <returns>The products.</returns>
    public static IReadOnlyList<CatalogueProduct> ReadOlist(string productsPath, string translationPath)
    {
        var translation = Csv.Read(translationPath);
        var english = new Dictionary<string, string>(StringComparer.Ordinal);
        if (translation.Count > 0)
        {
            int pt = Column(translation[0], "product_category_name", translationPath), en = Column(translation[0], "product_category_name_english", translationPath);
            foreach (var r in translation.Skip(1))
            {
                english[r[pt]] = r[en];
            }
        }

        var rows = Csv.Read(productsPath);
        var header = rows.Count > 0 ? rows[0] : throw new FormatException($"{productsPath} is empty.");
        int id = Column(header, "product_id", productsPath), cat = Column(header, "product_category_name", productsPath);
        return [.. rows.Skip(1).Select(r =>
        {
            var name = english.GetValueOrDefault(r[cat], r[cat]);
            return new CatalogueProduct(r[id], null, NullIfEmpty(name.Replace('_', ' ')));
        })];
    }

    /// <summary>Imports products in one transaction, mapping them onto the taxonomy already in the store.</summary>
    /// <param name="store">The store (with an imported taxonomy for any matches).</param>
    /// <param name="prefix">Catalogue prefix of the product nodes.</param>
    /// <param name="products">The products.</param>
    /// <returns>What was imported.</returns>
    public static CatalogueImportResult Import(TripleStore store, string prefix, IEnumerable<CatalogueProduct> products)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        ArgumentNullException.ThrowIfNull(products);
        var watch = Stopwatch.StartNew();
        var matcher = new CategoryMatcher(store);
        var triples = new List<Triple>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int count = 0, matched = 0;
        foreach (var p in products)
        {
            count++;
            var node = ProductNode(prefix, p.Id);
            triples.Add(new(node, Vocabulary.Type, Vocabulary.ProductClass));
            if (p.Department is not null)
            {
                triples.Add(new(node, Vocabulary.Department, Term.Text(p.Department)));
                names.Add(p.Department);
            }

            if (p.Commodity is not null)
            {
                triples.Add(new(node, Vocabulary.Commodity, Term.Text(p.Commodity)));
                names.Add(p.Commodity);
            }

            if (matcher.Match(p) is { } category)
            {
                triples.Add(new(node, Vocabulary.InCategory, category));
                matched++;
            }
        }

        var added = store.AddRange(triples);
        return new CatalogueImportResult(count, matched, names.Count, names.Count(n => matcher.Match(n) is not null), added, watch.Elapsed);
    }

    /// <summary>Reads completejourney transactions (<c>household_id, …, product_id, quantity, sales_value, …</c>) as
    /// interest events: customer = household, product = <c>cj:product:ID</c>, weight = sales value.</summary>
    /// <param name="path">The transactions CSV.</param>
    /// <returns>The events.</returns>
    public static IReadOnlyList<InterestEvent> ReadCompleteJourneyTransactions(string path)
    {
        var rows = Csv.Read(path);
        var header = rows.Count > 0 ? rows[0] : throw new FormatException($"{path} is empty.");
        int household = Column(header, "household_id", path), product = Column(header, "product_id", path), sales = Column(header, "sales_value", path);
        return [.. rows.Skip(1).Select(r => new InterestEvent(
            r[household],
            ProductNode("cj", r[product]),
            double.TryParse(r[sales], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0))];
    }

    private static int Column(string[] header, string name, string path)
    {
        var i = Array.IndexOf(header, name);
        return i >= 0 ? i : throw new FormatException($"{path}: no column '{name}'.");
    }

    private static string? NullIfEmpty(string s) => string.IsNullOrWhiteSpace(s) ? null : s;
}

/// <summary>An aggregation input: a customer's interaction with a product, weighted.</summary>
/// <param name="CustomerId">The customer.</param>
/// <param name="Product">The product node.</param>
/// <param name="Weight">The weight (e.g. sales value, 1 per view).</param>
public sealed record InterestEvent(string CustomerId, Term Product, double Weight);

/// <summary>
/// Aggregated customer → category interest edges. For each (customer, category) pair reached through the products'
/// <c>inCategory</c> edges, writes <c>customer:ID interestedIn CATEGORY</c> and an interest node
/// <c>interest:ID|CATEGORY</c> (<c>type Interest</c>, <c>customer</c>, <c>category</c>, <c>weight</c>, <c>count</c>).
/// Aggregating again adds to the weight and count already stored.
/// </summary>
public static class InterestEdges
{
    /// <summary>The node of a customer.</summary>
    /// <param name="customerId">The customer id.</param>
    /// <returns><c>customer:ID</c>.</returns>
    public static Term CustomerNode(string customerId) => Term.Name("customer:" + customerId);

    /// <summary>The interest node of a (customer, category) pair.</summary>
    /// <param name="customerId">The customer id.</param>
    /// <param name="category">The category node.</param>
    /// <returns><c>interest:ID|CATEGORY</c>.</returns>
    public static Term InterestNode(string customerId, Term category)
    {
        ArgumentNullException.ThrowIfNull(category);
        return Term.Name("interest:" + customerId + "|" + category.Lexical);
    }

    /// <summary>Aggregates events into interest edges in one transaction.</summary>
    /// <param name="store">The store (with products mapped by <c>inCategory</c>).</param>
    /// <param name="events">The events; those whose product has no category are skipped.</param>
    /// <returns>The number of (customer, category) pairs written.</returns>
    public static int Aggregate(TripleStore store, IEnumerable<InterestEvent> events)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(events);
        var categories = new Dictionary<Term, Term[]>();
        var sums = new SortedDictionary<(string Customer, Term Category), (double Weight, int Count)>(
            Comparer<(string Customer, Term Category)>.Create((a, b) =>
            {
                var c = string.CompareOrdinal(a.Customer, b.Customer);
                return c != 0 ? c : a.Category.CompareTo(b.Category);
            }));
        foreach (var e in events)
        {
            if (!categories.TryGetValue(e.Product, out var cats))
            {
                cats = [.. store.Match(e.Product, Vocabulary.InCategory, null).Select(t => t.Object)];
                categories[e.Product] = cats;
            }

            foreach (var c in cats)
            {
                var prev = sums.GetValueOrDefault((e.CustomerId, c));
                sums[(e.CustomerId, c)] = (prev.Weight + e.Weight, prev.Count + 1);
            }
        }

        using var batch = store.InBatch ? null : store.BeginBatch();
        foreach (var ((customer, category), (weight, count)) in sums)
        {
            var node = InterestNode(customer, category);
            Write(store, customer, category,
                (Vocabulary.Weight, weight + (Number(store, node, Vocabulary.Weight) ?? 0)),
                (Vocabulary.Count, count + (Number(store, node, Vocabulary.Count) ?? 0)));
        }

        batch?.Commit();
        return sums.Count;
    }

    /// <summary>The number a node holds for <paramref name="predicate"/>, or null.</summary>
    internal static double? Number(TripleStore store, Term node, Term predicate) =>
        store.Match(node, predicate, null).Select(t => t.Object).FirstOrDefault(t => t.Kind == TermKind.Number)?.AsNumber();

    /// <summary>
    /// Writes the edge <c>customer interestedIn category</c> and its interest node, replacing the node's
    /// <paramref name="values"/> (predicate, number).
    /// </summary>
    internal static void Write(TripleStore store, string customerId, Term category, params (Term Predicate, double Value)[] values)
    {
        var who = CustomerNode(customerId);
        var node = InterestNode(customerId, category);
        foreach (var (predicate, _) in values)
        {
            store.RemoveMatching(node, predicate, null);
        }

        store.AddRange(
        [
            new(who, Vocabulary.Type, Vocabulary.CustomerClass),
            new(who, Vocabulary.InterestedIn, category),
            new(node, Vocabulary.Type, Vocabulary.InterestClass),
            new(node, Vocabulary.Customer, who),
            new(node, Vocabulary.Category, category),
            .. values.Select(v => new Triple(node, v.Predicate, Term.Number(v.Value))),
        ]);
    }
}

/// <summary>A small RFC 4180 reader (quoted fields, doubled quotes, no line breaks inside fields).</summary>
internal static class Csv
{
    public static List<string[]> Read(string path)
    {
        var rows = new List<string[]>();
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                rows.Add(Split(line));
            }
        }

        return rows;
    }

    public static string[] Split(string line) => CsvLine.Split(line);
}
