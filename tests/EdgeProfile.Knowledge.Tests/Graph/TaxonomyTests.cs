using System.Globalization;
using EdgeProfile.Knowledge.Graph;
using Xunit.Abstractions;

namespace EdgeProfile.Knowledge.Tests.Graph;

public sealed class TaxonomyTests(TaxonomyFixture taxonomy, ITestOutputHelper output) : IClassFixture<TaxonomyFixture>
{
    private readonly TripleStore _store = taxonomy.Store;
    private readonly IReadOnlyList<(long Id, string Path)> _lines = GraphTestData.TaxonomyLines();

    [Fact]
    public void Import_Reads5595CategoriesOfDepthUpTo7()
    {
        var r = taxonomy.Result;
        output.WriteLine($"taxonomy import: {r.Categories} categories, {r.TriplesAdded} triples in {r.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(5595, r.Categories);
        Assert.Equal(7, r.MaxDepth);
        var expected = new Dictionary<int, int> { [1] = 21, [2] = 192, [3] = 1349, [4] = 2203, [5] = 1385, [6] = 397, [7] = 48 };
        Assert.Equal(expected, r.DepthCounts.ToDictionary(kv => kv.Key, kv => kv.Value));
        Assert.Equal(5595 + 1, _store.Count(null, Vocabulary.Type, Vocabulary.CategoryClass));
        Assert.Equal(5595, _store.Count(null, Vocabulary.SubClassOf, null));
        Assert.Equal(21, _store.Count(null, Vocabulary.SubClassOf, TaxonomyImporter.Root));
        Assert.Equal(48, _store.Count(null, Vocabulary.Depth, Term.Number(7)));
        var baby = TaxonomyImporter.Node(537);
        Assert.Equal(Term.Text("Baby & Toddler"), Assert.Single(_store.Match(baby, Vocabulary.NameProperty, null)).Object);
        Assert.Equal(Term.Number(537), Assert.Single(_store.Match(baby, Vocabulary.GoogleId, null)).Object);
    }

    [Fact]
    public void Import_IsIdempotent()
    {
        Assert.Equal(0, TaxonomyImporter.Import(_store, GraphTestData.TaxonomyFile).TriplesAdded);
    }

    [Fact]
    public void Descendants_ViaSubClassOfStar_AreTheLinesUnderThePath()
    {
        var expected = _lines.Where(l => l.Path.StartsWith("Baby & Toddler >", StringComparison.Ordinal)).Select(l => TaxonomyImporter.Node(l.Id)).ToHashSet();
        Assert.NotEmpty(expected);
        var query = new GraphQuery();
        query.Patterns.Add(new TriplePattern(QueryTerm.Var("b"), QueryTerm.Const(Vocabulary.NameProperty), QueryTerm.Const(Term.Text("Baby & Toddler"))));
        query.Patterns.Add(PathPattern.ZeroOrMore(QueryTerm.Var("c"), Vocabulary.SubClassOf, QueryTerm.Var("b")));
        query.Filters.Add(new Filter(QueryTerm.Var("c"), FilterOperator.NotEqual, QueryTerm.Var("b")));
        query.Projections.Add(new Projection("c", QueryTerm.Var("c")));
        var star = new QueryEngine(_store).Execute(query).Column("c").ToHashSet();
        Assert.True(expected.SetEquals(star!), $"expected {expected.Count}, got {star.Count}");

        var plus = new GraphQuery();
        plus.Patterns.Add(PathPattern.OneOrMore(QueryTerm.Var("c"), Vocabulary.SubClassOf, QueryTerm.Const(TaxonomyImporter.Node(537))));
        var viaPlus = new QueryEngine(_store).Execute(plus).Column("c").ToHashSet();
        Assert.True(expected.SetEquals(viaPlus!));

        var withSelf = new GraphQuery();
        withSelf.Patterns.Add(PathPattern.ZeroOrMore(QueryTerm.Var("c"), Vocabulary.SubClassOf, QueryTerm.Const(TaxonomyImporter.Node(537))));
        Assert.Equal(expected.Count + 1, new QueryEngine(_store).Execute(withSelf).Rows.Count);
    }

    [Fact]
    public void Ancestors_OfADepth7Node_AreItsPathPrefixes()
    {
        var byPath = _lines.ToDictionary(l => l.Path, l => l.Id, StringComparer.Ordinal);
        foreach (var deep in _lines.Where(l => GraphTestData.DepthOf(l.Path) == 7).Take(5))
        {
            var segments = deep.Path.Split(" > ");
            var expected = Enumerable.Range(1, 6).Select(n => TaxonomyImporter.Node(byPath[string.Join(" > ", segments.Take(n))])).Append(TaxonomyImporter.Root).ToHashSet();
            var query = new GraphQuery();
            query.Patterns.Add(PathPattern.OneOrMore(QueryTerm.Const(TaxonomyImporter.Node(deep.Id)), Vocabulary.SubClassOf, QueryTerm.Var("a")));
            var ancestors = new QueryEngine(_store).Execute(query).Column("a").ToHashSet();
            Assert.True(expected.SetEquals(ancestors!), deep.Path);

            // and the path literal of each ancestor is a prefix of the node's path
            var cypher = new QueryEngine(_store).Execute(
                $"MATCH (n {{id:'taxonomy:{deep.Id.ToString(CultureInfo.InvariantCulture)}'}})-[:SUBCLASS_OF*1..]->(a:Category) WHERE a.depth >= 1 RETURN a.path");
            var paths = cypher.Column("a.path").Select(t => t!.Lexical).ToList();
            Assert.Equal(6, paths.Count);
            Assert.All(paths, p => Assert.StartsWith(p + " > ", deep.Path + " > ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void BoundedPath_1To2_ReturnsChildrenAndGrandchildren()
    {
        foreach (var top in new[] { "Baby & Toddler", "Animals & Pet Supplies", "Home & Garden > Kitchen & Dining" })
        {
            var depth = GraphTestData.DepthOf(top);
            var expected = _lines
                .Where(l => l.Path.StartsWith(top + " > ", StringComparison.Ordinal) && GraphTestData.DepthOf(l.Path) <= depth + 2)
                .Select(l => TaxonomyImporter.Node(l.Id))
                .ToHashSet();
            var topId = _lines.Single(l => l.Path == top).Id;
            var query = new GraphQuery();
            query.Patterns.Add(new PathPattern(QueryTerm.Var("c"), Vocabulary.SubClassOf, QueryTerm.Const(TaxonomyImporter.Node(topId)), 1, 2));
            var found = new QueryEngine(_store).Execute(query).Column("c").ToHashSet();
            Assert.True(expected.SetEquals(found!), top);

            // *2..2 from the other end: exactly the grandchildren
            var grandchildren = _lines
                .Where(l => l.Path.StartsWith(top + " > ", StringComparison.Ordinal) && GraphTestData.DepthOf(l.Path) == depth + 2)
                .Select(l => TaxonomyImporter.Node(l.Id))
                .ToHashSet();
            var exactlyTwo = new QueryEngine(_store).Execute(
                $"MATCH (g)-[:SUBCLASS_OF*2]->(t {{id:'taxonomy:{topId.ToString(CultureInfo.InvariantCulture)}'}}) RETURN g");
            Assert.True(grandchildren.SetEquals(exactlyTwo.Column("g")!), top);
        }
    }

    [Fact]
    public void Cypher_DescendantsWithinThreeHops_MatchTheFile()
    {
        var expected = _lines
            .Where(l => l.Path.StartsWith("Baby & Toddler > ", StringComparison.Ordinal) && GraphTestData.DepthOf(l.Path) <= 4)
            .Select(l => l.Path[(l.Path.LastIndexOf(" > ", StringComparison.Ordinal) + 3)..])
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        var result = new QueryEngine(_store).Execute("MATCH (c:Category)-[:SUBCLASS_OF*1..3]->(:Category {name:'Baby & Toddler'}) RETURN c.name");
        Assert.Equal(["c.name"], result.Columns);
        Assert.Equal(expected, result.Column("c.name").Select(t => t!.Lexical).ToList());
    }

    [Fact]
    public void Cypher_WhereOnANumberAndLimit()
    {
        var engine = new QueryEngine(_store);
        var deepest = engine.Execute("MATCH (c:Category) WHERE c.depth = 7 RETURN c, c.name AS name");
        Assert.Equal(48, deepest.Rows.Count);
        var expectedNames = _lines.Where(l => GraphTestData.DepthOf(l.Path) == 7).Select(l => l.Path.Split(" > ")[^1]).ToHashSet();
        Assert.True(expectedNames.SetEquals(deepest.Column("name").Select(t => t!.Lexical)));

        var limited = engine.Execute("match (c:Category) where c.depth >= 6 and c.name STARTS WITH 'B' return c.name limit 10");
        var all = engine.Execute("MATCH (c:Category) WHERE c.depth >= 6 AND c.name STARTS WITH 'B' RETURN c.name");
        var expectedAll = _lines.Where(l => GraphTestData.DepthOf(l.Path) >= 6).Select(l => l.Path.Split(" > ")[^1]).Where(n => n.StartsWith('B')).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedAll, all.Column("c.name").Select(t => t!.Lexical).ToList());
        Assert.Equal(10, limited.Rows.Count);
        Assert.Equal(expectedAll.Take(10), limited.Column("c.name").Select(t => t!.Lexical));
    }

    [Fact]
    public void Cypher_ReverseArrowAndParentsOfALeaf()
    {
        // Baby & Toddler > Baby Transport > Baby Strollers: its parent and grandparent, written both ways
        var forward = new QueryEngine(_store).Execute("MATCH (s:Category {name:'Baby Strollers'})-[:SUBCLASS_OF]->(p)-[:SUBCLASS_OF]->(g) RETURN p.name, g.name");
        var reverse = new QueryEngine(_store).Execute("MATCH (g)<-[:SUBCLASS_OF]-(p)<-[:subClassOf]-(s:Category {name:'Baby Strollers'}) RETURN p.name, g.name");
        var row = Assert.Single(forward.Rows);
        Assert.Equal("Baby Transport", row["p.name"]!.Lexical);
        Assert.Equal("Baby & Toddler", row["g.name"]!.Lexical);
        Assert.Equal(forward.Rows.Select(r => r.ToString()), reverse.Rows.Select(r => r.ToString()));
    }
}
