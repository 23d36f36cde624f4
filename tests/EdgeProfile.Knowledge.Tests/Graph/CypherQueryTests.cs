using EdgeProfile.Knowledge.Graph;

namespace EdgeProfile.Knowledge.Tests.Graph;

public sealed class CypherQueryTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TripleStore _store;
    private readonly QueryEngine _engine;

    public CypherQueryTests()
    {
        _store = TripleStore.Open(_dir.File("products.db"));
        var category = Vocabulary.CategoryClass;
        var product = Vocabulary.ProductClass;
        var t = new List<Triple>();
        void Category(string id, string name, string? parent)
        {
            t.Add(new(Term.Name(id), Vocabulary.Type, category));
            t.Add(new(Term.Name(id), Vocabulary.NameProperty, Term.Text(name)));
            if (parent is not null)
            {
                t.Add(new(Term.Name(id), Vocabulary.SubClassOf, Term.Name(parent)));
            }
        }

        void Product(string id, string name, double price, string cat, bool inStock)
        {
            t.Add(new(Term.Name(id), Vocabulary.Type, product));
            t.Add(new(Term.Name(id), Vocabulary.NameProperty, Term.Text(name)));
            t.Add(new(Term.Name(id), Term.Name("price"), Term.Number(price)));
            t.Add(new(Term.Name(id), Term.Name("inStock"), Term.Boolean(inStock)));
            t.Add(new(Term.Name(id), Vocabulary.InCategory, Term.Name(cat)));
        }

        Category("Baby", "Baby", null);
        Category("BabyTransport", "Baby Transport", "Baby");
        Category("Strollers", "Strollers", "BabyTransport");
        Category("JoggingStrollers", "Jogging Strollers", "Strollers");
        Category("Nursing", "Nursing", "Baby");
        Category("Electronics", "Electronics", null);
        Category("Phones", "Phones", "Electronics");
        Category("PhoneCases", "Phone Cases", "Electronics");
        Product("p1", "City stroller", 249, "Strollers", true);
        Product("p2", "Trail jogger", 499, "JoggingStrollers", false);
        Product("p3", "Bottle set", 19.9, "Nursing", true);
        Product("p4", "Pixel", 599, "Phones", true);
        Product("p5", "Clear case", 15, "PhoneCases", true);
        t.Add(Triple.Of("Phones", "complementedBy", "PhoneCases"));
        t.Add(Triple.Of("Strollers", "needs", "CarSeatSafetyInfo"));
        t.Add(new(Term.Name("p1"), Term.Name("released"), Term.DateTime(new DateTimeOffset(2023, 3, 1, 0, 0, 0, TimeSpan.Zero))));
        t.Add(new(Term.Name("p2"), Term.Name("released"), Term.DateTime(new DateTimeOffset(2024, 6, 1, 0, 0, 0, TimeSpan.Zero))));
        _store.AddRange(t);
        _engine = new QueryEngine(_store);
    }

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private List<string> Names(string query, string column) => [.. _engine.Execute(query).Column(column).Select(v => v?.Lexical ?? "null")];

    [Fact]
    public void ProductsUnderACategory_ThroughInAndABoundedSubclassPath()
    {
        // the query users try first
        var result = _engine.Execute("MATCH (p:Product)-[:IN]->(c)-[:SUBCLASS_OF*1..3]->(:Category {name:'Baby'}) RETURN p.name, c.name");
        Assert.Equal(["p.name", "c.name"], result.Columns);
        Assert.Equal(["Bottle set", "City stroller", "Trail jogger"], result.Column("p.name").Select(v => v!.Lexical));
        Assert.Equal(["Nursing", "Strollers", "Jogging Strollers"], result.Column("c.name").Select(v => v!.Lexical));

        // *1..2 stops before the jogging strollers (3 hops from Baby)
        Assert.Equal(["Bottle set", "City stroller"], Names("MATCH (p:Product)-[:IN]->(c)-[:SUBCLASS_OF*1..2]->(:Category {name:'Baby'}) RETURN p.name", "p.name"));

        // *0.. includes products directly in the category
        Assert.Equal(["Pixel"], Names("MATCH (p:Product)-[:IN_CATEGORY]->(c)-[:SUBCLASS_OF*0..]->(:Category {name:'Phones'}) RETURN p.name", "p.name"));
    }

    [Fact]
    public void Where_OnNumbersBooleansDatesAndStrings()
    {
        Assert.Equal(["Clear case", "Bottle set", "City stroller"], Names("MATCH (p:Product) WHERE p.price < 300 RETURN p.price, p.name", "p.name"));
        Assert.Equal(["Trail jogger"], Names("MATCH (p:Product) WHERE p.inStock = false RETURN p.name", "p.name"));
        Assert.Equal(["Trail jogger"], Names("MATCH (p:Product) WHERE p.released > datetime('2024-01-01T00:00:00Z') RETURN p.name", "p.name"));
        Assert.Equal(["Pixel", "Trail jogger"], Names("MATCH (p:Product) WHERE p.price >= 499 AND p.name <> 'x' RETURN p.name", "p.name"));
        Assert.Equal(["City stroller"], Names("MATCH (p:Product)-[:IN]->(c) WHERE c.name CONTAINS 'troll' AND p.inStock = true RETURN p.name", "p.name"));
        Assert.Equal(["Clear case"], Names("MATCH (p:Product {price: 15}) RETURN p.name", "p.name"));
        Assert.Empty(_engine.Execute("MATCH (p:Product) WHERE p.price < -1 RETURN p").Rows);
        Assert.Empty(_engine.Execute("MATCH (p:Product) WHERE p.name = 15 RETURN p").Rows); // different kinds never equal
    }

    [Fact]
    public void IdNamesAConstantNode_AndDomainRelationsMapToCamelCase()
    {
        Assert.Equal(["PhoneCases"], Names("MATCH ({id:'Phones'})-[:COMPLEMENTED_BY]->(x) RETURN x", "x"));
        Assert.Equal(["CarSeatSafetyInfo"], Names("MATCH (p:Product {name:'Trail jogger'})-[:IN]->(c)-[:SUBCLASS_OF*0..]->(s)-[:NEEDS]->(info) RETURN info", "info"));
        Assert.Equal("complementedBy", CypherParser.PredicateFor("COMPLEMENTED_BY").Lexical);
        Assert.Equal("subClassOf", CypherParser.PredicateFor("SUBCLASS_OF").Lexical);
        Assert.Equal("inCategory", CypherParser.PredicateFor("IN").Lexical);
        Assert.Equal("interestedIn", CypherParser.PredicateFor("INTERESTED_IN").Lexical);
        Assert.Equal("partOf", CypherParser.PredicateFor("partOf").Lexical);
    }

    [Fact]
    public void Results_AreDistinctSortedAndLimited()
    {
        // two products under Electronics share the root: one row per distinct value
        Assert.Equal(["Electronics"], Names("MATCH (p:Product)-[:IN]->(c)-[:SUBCLASS_OF]->(r) WHERE r.name = 'Electronics' RETURN r", "r"));
        var all = Names("MATCH (p:Product) RETURN p.name", "p.name");
        Assert.Equal(all.Order(StringComparer.Ordinal), all);
        Assert.Equal(all.Take(2), Names("MATCH (p:Product) RETURN p.name LIMIT 2", "p.name"));
        Assert.Empty(_engine.Execute("MATCH (p:Product) RETURN p LIMIT 0").Rows);
        Assert.Equal(["null"], Names("MATCH (c:Category {name:'Baby'}) RETURN c.price", "c.price"));
        Assert.Empty(_engine.Execute("MATCH (p:Product {name:'No such product'}) RETURN p").Rows);
    }

    [Fact]
    public void CommaSeparatedPatternsJoinOnSharedVariables()
    {
        var rows = _engine.Execute("MATCH (a:Product)-[:IN]->(c), (b:Product)-[:IN]->(c) WHERE a.name < b.name RETURN a.name, b.name").Rows;
        Assert.Empty(rows); // every category holds one product
        var cross = _engine.Execute("MATCH (a:Product)-[:IN]->(:Category {name:'Phones'}), (b:Product)-[:IN]->(:Category {name:'Phone Cases'}) RETURN a.name, b.name");
        var row = Assert.Single(cross.Rows);
        Assert.Equal("Pixel", row[0]!.Lexical);
        Assert.Equal("Clear case", row[1]!.Lexical);
    }

    [Theory]
    [InlineData("MATCH (a:Product-[:IN]->(b) RETURN a", "-[", "Expected ')'")]
    [InlineData("MATCH (a)-[:IN]->(b) RETURN c", "c", "Unknown variable c")]
    [InlineData("MATCH (a)-[:IN]-(b) RETURN a", "-(b", "Undirected")]
    [InlineData("MATCH (a)-[r:IN]->(b) RETURN a", "r:IN", "Relationship variables")]
    [InlineData("OPTIONAL MATCH (a) RETURN a", "OPTIONAL", "OPTIONAL is not supported")]
    [InlineData("MATCH (a) WHERE a.x = 1 OR a.y = 2 RETURN a", "OR", "OR is not supported")]
    [InlineData("MATCH (a) RETURN a LIMIT many", "many", "non-negative integer")]
    [InlineData("MATCH (a {name:'open) RETURN a", "'open", "Unterminated string")]
    [InlineData("MATCH (a)-[:SUBCLASS_OF*3..1]->(b) RETURN a", "]->", "empty")]
    [InlineData("MATCH (a) RETURN a ORDER BY a", "ORDER", "ORDER is not supported")]
    [InlineData("MATCH (a) WHERE a.x ~ 1 RETURN a", "~", "Unexpected character")]
    public void SyntaxErrors_NameThePosition(string query, string at, string message)
    {
        var e = Assert.Throws<GraphQuerySyntaxException>(() => CypherParser.Parse(query));
        var position = query.IndexOf(at, StringComparison.Ordinal);
        Assert.Equal(position, e.Position);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Contains($"at position {position}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BgpApi_JoinsPatternsWithFiltersAndPaths()
    {
        var q = new GraphQuery { Limit = 5 };
        q.Patterns.Add(new TriplePattern(QueryTerm.Var("p"), QueryTerm.Const(Vocabulary.InCategory), QueryTerm.Var("c")));
        q.Patterns.Add(PathPattern.ZeroOrMore(QueryTerm.Var("c"), Vocabulary.SubClassOf, QueryTerm.Name("Baby")));
        q.Patterns.Add(new TriplePattern(QueryTerm.Var("p"), QueryTerm.Name("price"), QueryTerm.Var("price")));
        q.Filters.Add(new Filter(QueryTerm.Var("price"), FilterOperator.GreaterOrEqual, QueryTerm.Const(Term.Number(20))));
        var result = _engine.Execute(q);
        Assert.Equal(["c", "p", "price"], result.Columns);
        Assert.Equal([Term.Name("p2"), Term.Name("p1")], result.Column("p")); // sorted by c first: JoggingStrollers < Strollers

        // a variable in the predicate position, and a repeated variable
        var preds = new GraphQuery();
        preds.Patterns.Add(new TriplePattern(QueryTerm.Name("Phones"), QueryTerm.Var("pred"), QueryTerm.Var("o")));
        preds.Projections.Add(new Projection("pred", QueryTerm.Var("pred")));
        Assert.Equal(["complementedBy", "name", "subClassOf", "type"], _engine.Execute(preds).Column("pred").Select(v => v!.Lexical));

        var selfLoop = new GraphQuery();
        selfLoop.Patterns.Add(new TriplePattern(QueryTerm.Var("x"), QueryTerm.Var("p"), QueryTerm.Var("x")));
        Assert.Empty(_engine.Execute(selfLoop).Rows);

        var unbound = new GraphQuery();
        unbound.Patterns.Add(new TriplePattern(QueryTerm.Var("x"), QueryTerm.Var("p"), QueryTerm.Var("y")));
        unbound.Filters.Add(new Filter(QueryTerm.Var("z"), FilterOperator.Equal, QueryTerm.Var("x")));
        Assert.Throws<ArgumentException>(() => _engine.Execute(unbound));
    }

    [Fact]
    public void Paths_TerminateOnCycles()
    {
        _store.AddRange([Triple.Of("A", "next", "B"), Triple.Of("B", "next", "C"), Triple.Of("C", "next", "A"), Triple.Of("C", "next", "D")]);
        Assert.Equal(["A", "B", "C", "D"], Names("MATCH ({id:'A'})-[:next*]->(x) RETURN x", "x"));
        Assert.Equal(["A", "B", "C", "D"], Names("MATCH ({id:'A'})-[:next*0..]->(x) RETURN x", "x"));
        Assert.Equal(["A", "D"], Names("MATCH ({id:'A'})-[:next*3]->(x) RETURN x", "x"));
        Assert.Equal(["A", "B", "C"], Names("MATCH (x)-[:next*1..]->({id:'A'}) RETURN x", "x"));
        Assert.Equal(["A", "B", "C"], Names("MATCH (x)-[:next*]->(x) RETURN x", "x"));
    }
}
