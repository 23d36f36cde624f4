using System.Text.RegularExpressions;
using EdgeProfile.Knowledge.Graph;
using Xunit.Abstractions;

namespace EdgeProfile.Knowledge.Tests.Graph;

public sealed class ImportTests(TaxonomyFixture taxonomy, ITestOutputHelper output) : IClassFixture<TaxonomyFixture>
{
    private const string Knowledge = """
        # domain knowledge: Subject predicate Object
        Strollers needs CarSeatSafetyInfo
        Phones complementedBy PhoneCases   # trailing comment
        "Baby Strollers" needs "Car Seat Safety Info"

        Phones label 'Mobile phones # not a comment'
        Phones minPrice 99.5
        Phones discontinued false
        Phones launched @2024-05-01
        "Say \"hi\"" relatedTo Phones
        """;

    [Fact]
    public void DomainKnowledge_ParsesNamesLiteralsAndComments()
    {
        using var store = TripleStore.CreateInMemory();
        var result = DomainKnowledge.Import(store, new StringReader(Knowledge));
        Assert.Equal(8, result.Statements);
        Assert.Equal(8, result.TriplesAdded);
        Assert.True(store.Contains(Term.Name("Strollers"), Term.Name("needs"), Term.Name("CarSeatSafetyInfo")));
        Assert.True(store.Contains(Term.Name("Phones"), Term.Name("complementedBy"), Term.Name("PhoneCases")));
        Assert.True(store.Contains(Term.Name("Baby Strollers"), Term.Name("needs"), Term.Name("Car Seat Safety Info")));
        Assert.True(store.Contains(Term.Name("Phones"), Term.Name("label"), Term.Text("Mobile phones # not a comment")));
        Assert.True(store.Contains(Term.Name("Phones"), Term.Name("minPrice"), Term.Number(99.5)));
        Assert.True(store.Contains(Term.Name("Phones"), Term.Name("discontinued"), Term.Boolean(false)));
        Assert.True(store.Contains(Term.Name("Phones"), Term.Name("launched"), Term.DateTime(new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.Zero))));
        Assert.True(store.Contains(Term.Name("Say \"hi\""), Term.Name("relatedTo"), Term.Name("Phones")));
        var engine = new QueryEngine(store);
        Assert.Equal("PhoneCases", Assert.Single(engine.Execute("MATCH ({id:'Phones'})-[:COMPLEMENTED_BY]->(x) RETURN x").Rows)[0]!.Lexical);
    }

    [Fact]
    public void DomainKnowledge_FromAFile_ResolvesTaxonomyCategoryNames()
    {
        using var dir = new TempDir();
        var file = dir.File("knowledge.txt");
        File.WriteAllText(file, """
            "Baby Strollers" needs CarSeatSafetyInfo
            "Mobile Phones" complementedBy "Mobile Phone Cases"
            "No Such Category" needs Something
            """);
        var before = taxonomy.Store.Count();
        var result = DomainKnowledge.Import(taxonomy.Store, file, resolveCategoryNames: true);
        try
        {
            Assert.Equal(3, result.Statements);
            Assert.Equal(3, result.NamesResolvedToCategories); // Baby Strollers, Mobile Phones, Mobile Phone Cases
            var strollers = taxonomy.Store.Match(null, Vocabulary.NameProperty, Term.Text("Baby Strollers")).Single().Subject;
            Assert.True(taxonomy.Store.Contains(strollers, Term.Name("needs"), Term.Name("CarSeatSafetyInfo")));
            Assert.True(taxonomy.Store.Contains(Term.Name("No Such Category"), Term.Name("needs"), Term.Name("Something")));

            // everything under Baby & Toddler that needs something
            var rows = new QueryEngine(taxonomy.Store).Execute(
                "MATCH (c:Category)-[:SUBCLASS_OF*0..]->(:Category {name:'Baby & Toddler'}), (c)-[:NEEDS]->(x) RETURN c.name, x");
            var row = Assert.Single(rows.Rows);
            Assert.Equal("Baby Strollers", row["c.name"]!.Lexical);
        }
        finally
        {
            foreach (var t in DomainKnowledge.Parse(new StreamReader(file)))
            {
                taxonomy.Store.RemoveMatching(null, t.Predicate, null);
            }

            Assert.Equal(before, taxonomy.Store.Count());
        }
    }

    [Theory]
    [InlineData("Phones complementedBy", "line 1")]
    [InlineData("# ok\nPhones 'label' x", "line 2")]
    [InlineData("\"open quote needs x", "column 1")]
    [InlineData("Phones launched @yesterday", "not a date-time")]
    public void DomainKnowledge_ErrorsNameTheLine(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => DomainKnowledge.Parse(new StringReader(text)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CompleteJourney_MapsProductsOntoTaxonomyNodes_AsAnIndependentComputationDoes()
    {
        var products = CatalogueImporter.ReadCompleteJourney(GraphTestData.CompleteJourneyProducts);
        Assert.Equal(92_331, products.Count);
        using var dir = new TempDir();
        using var store = TripleStore.Open(dir.File("cj.db"));
        var tax = TaxonomyImporter.Import(store, GraphTestData.TaxonomyFile);
        var result = CatalogueImporter.Import(store, "cj", products);
        output.WriteLine($"taxonomy {tax.Elapsed.TotalMilliseconds:F0} ms; completejourney: {result.ProductsMatched}/{result.Products} products matched ({result.MatchedShare:P1}), {result.NamesMatched}/{result.Names} names, {result.TriplesAdded} triples in {result.Elapsed.TotalMilliseconds:F0} ms");

        var expected = IndependentMatchCount(out var cheese);
        Assert.Equal(expected, result.ProductsMatched);
        Assert.Equal(expected, store.Count(null, Vocabulary.InCategory, null));
        Assert.Equal(92_331, store.Count(null, Vocabulary.Type, Vocabulary.ProductClass));

        // spot checks of the rule: CHEESE lands on Cheese, DOG FOODS on Dog Food
        Assert.Equal(cheese, store.Match(CatalogueImporter.ProductNode("cj", ProductIdOf("CHEESE")), Vocabulary.InCategory, null).Single().Object);
        var dogFood = store.Match(CatalogueImporter.ProductNode("cj", ProductIdOf("DOG FOODS")), Vocabulary.InCategory, null).Single().Object;
        Assert.Equal("Dog Food", store.Match(dogFood, Vocabulary.NameProperty, null).Single().Object.Lexical);

        // products are reachable from the taxonomy by query: everything in the Food subtree
        var food = new QueryEngine(store).Execute("MATCH (p:Product)-[:IN]->(c)-[:SUBCLASS_OF*0..]->(:Category {name:'Food, Beverages & Tobacco'}) RETURN p");
        Assert.InRange(food.Rows.Count, 1, result.ProductsMatched);

        // interest edges aggregated from purchases
        var events = new[]
        {
            new InterestEvent("h1", CatalogueImporter.ProductNode("cj", ProductIdOf("CHEESE")), 2.5),
            new InterestEvent("h1", CatalogueImporter.ProductNode("cj", ProductIdOf("CHEESE")), 1.5),
            new InterestEvent("h1", CatalogueImporter.ProductNode("cj", ProductIdOf("DOG FOODS")), 10),
            new InterestEvent("h2", CatalogueImporter.ProductNode("cj", "no-such-product"), 1),
        };
        Assert.Equal(2, InterestEdges.Aggregate(store, events));
        Assert.Equal(1, InterestEdges.Aggregate(store, [events[0]]));
        var interest = InterestEdges.InterestNode("h1", cheese);
        Assert.Equal(Term.Number(6.5), store.Match(interest, Vocabulary.Weight, null).Single().Object);
        Assert.Equal(Term.Number(3), store.Match(interest, Vocabulary.Count, null).Single().Object);
        var interests = new QueryEngine(store).Execute("MATCH (u:Customer)-[:INTERESTED_IN]->(c)-[:SUBCLASS_OF*0..]->(:Category {name:'Food, Beverages & Tobacco'}) RETURN u, c.name");
        Assert.Equal("Cheese", Assert.Single(interests.Rows)["c.name"]!.Lexical);

        // the transaction sample: one interest node per (household, category), counts adding up to the mapped lines
        var transactions = CatalogueImporter.ReadCompleteJourneyTransactions(Path.Combine(GraphTestData.DataDir, "completejourney", "transactions_sample.csv"));
        Assert.Equal(75_000, transactions.Count);
        var mapped = transactions.Where(t => store.Count(t.Product, Vocabulary.InCategory, null) > 0).ToList();
        var pairs = mapped.Select(t => (t.CustomerId, store.Match(t.Product, Vocabulary.InCategory, null).Single().Object)).Distinct().Count();
        using (var batch = store.BeginBatch())
        {
            Assert.Equal(pairs, InterestEdges.Aggregate(store, transactions));
            batch.Commit();
        }

        var total = store.Match(null, Vocabulary.Count, null).Sum(t => t.Object.AsNumber());
        Assert.Equal(mapped.Count + 4, total); // + the 3 mapped events and the repeat aggregated above
        output.WriteLine($"interest edges: {pairs} (household, category) pairs from {mapped.Count}/{transactions.Count} mapped transaction lines");
    }

    [Fact]
    public void Olist_ProductsGetTheirEnglishCategory_AndMostMatchTheTaxonomy()
    {
        var dataDir = Path.Combine(GraphTestData.DataDir, "olist-partial");
        var products = CatalogueImporter.ReadOlist(Path.Combine(dataDir, "olist_products_dataset.csv"), Path.Combine(dataDir, "product_category_name_translation.csv"));
        Assert.Equal(32_951, products.Count);
        Assert.Equal(610, products.Count(p => p.Commodity is null));
        Assert.Contains(products, p => p.Commodity == "health beauty");
        using var dir = new TempDir();
        using var store = TripleStore.Open(dir.File("olist.db"));
        TaxonomyImporter.Import(store, GraphTestData.TaxonomyFile);
        var result = CatalogueImporter.Import(store, "olist", products);
        output.WriteLine($"olist: {result.ProductsMatched}/{result.Products} products matched ({result.MatchedShare:P1}), {result.NamesMatched}/{result.Names} names");
        var matcher = new CategoryMatcher(store);
        Assert.Equal(products.Count(p => matcher.Match(p) is not null), result.ProductsMatched);
        Assert.Equal(result.ProductsMatched, store.Count(null, Vocabulary.InCategory, null));
    }

    private static string ProductIdOf(string commodity) =>
        File.ReadLines(GraphTestData.CompleteJourneyProducts).Skip(1).Select(SplitCsv).First(f => f[4] == commodity)[0];

    private static string[] SplitCsv(string line) =>
        [.. Regex.Matches(line, "(?:^|,)(\"(?:[^\"]|\"\")*\"|[^,]*)").Select(m => m.Groups[1].Value.Trim('"').Replace("\"\"", "\"", StringComparison.Ordinal))];

    // The documented rule, written again from its description over the raw files (not through the store).
    private static int IndependentMatchCount(out Term cheese)
    {
        string[] stop = ["and", "or", "the", "of", "a", "an", "for", "with", "misc", "other", "others", "all", "product", "products", "item", "items", "supply", "supplies", "accessory", "accessories"];
        static string Sing(string t) =>
            t.Length > 4 && t.EndsWith("ies", StringComparison.Ordinal) ? t[..^3] + "y"
            : t.Length > 4 && Regex.IsMatch(t, "(ches|shes|sses|xes|oes)$") ? t[..^2]
            : t.Length > 3 && t.EndsWith('s') && !t.EndsWith("ss", StringComparison.Ordinal) ? t[..^1]
            : t;
        HashSet<string> Tokens(string s) => [.. Regex.Split(s.ToLowerInvariant(), "[^\\p{L}\\p{Nd}]+").Where(t => t.Length > 0 && !stop.Contains(t)).Select(Sing)];

        var nodes = GraphTestData.TaxonomyLines()
            .Select(l => (l.Id, Depth: GraphTestData.DepthOf(l.Path), Tokens: Tokens(l.Path.Split(" > ")[^1]), Name: l.Path.Split(" > ")[^1]))
            .Where(n => n.Tokens.Count > 0)
            .ToList();
        var memo = new Dictionary<string, long?>();
        long? Best(string name)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                return null;
            }

            if (memo.TryGetValue(name, out var m))
            {
                return m;
            }

            var c = Tokens(name);
            var best = nodes
                .Select(n => (n.Id, n.Depth, Score: c.Count == 0 ? 0 : (double)n.Tokens.Intersect(c).Count() / n.Tokens.Union(c).Count()))
                .Where(x => x.Score >= 0.5)
                .OrderByDescending(x => x.Score).ThenBy(x => x.Depth).ThenBy(x => x.Id)
                .Select(x => (long?)x.Id)
                .FirstOrDefault();
            memo[name] = best;
            return best;
        }

        var count = 0;
        foreach (var f in File.ReadLines(GraphTestData.CompleteJourneyProducts).Skip(1).Select(SplitCsv))
        {
            if (Best(f[4]) is not null || Best(f[2]) is not null)
            {
                count++;
            }
        }

        cheese = TaxonomyImporter.Node(Best("CHEESE")!.Value);
        return count;
    }
}
