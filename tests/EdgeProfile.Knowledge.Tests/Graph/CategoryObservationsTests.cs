using EdgeProfile.Knowledge.Graph;

namespace EdgeProfile.Knowledge.Tests.Graph;

/// <summary>Customer → category interest edges from the stores' deltas: path resolution, counting once per event, erasure.</summary>
public sealed class CategoryObservationsTests
{
    private const string Taxonomy = """
        # Google_Product_Taxonomy_Version: test
        537 - Baby & Toddler
        568 - Baby & Toddler > Baby Transport
        5859 - Baby & Toddler > Baby Transport > Baby Strollers
        222 - Electronics
        """;

    [Fact]
    public void Paths_resolve_to_the_taxonomy_node_or_its_deepest_known_ancestor_or_a_top_level_name()
    {
        using var store = Load();
        Assert.Equal(TaxonomyImporter.Node(5859), CategoryObservations.Resolve(store, "Baby & Toddler > Baby Transport > Baby Strollers"));
        Assert.Equal(TaxonomyImporter.Node(568), CategoryObservations.Resolve(store, "Baby & Toddler > Baby Transport > Prams of the future"));
        Assert.Equal(TaxonomyImporter.Node(222), CategoryObservations.Resolve(store, "Electronics"));
        Assert.Equal(TaxonomyImporter.Node(222), CategoryObservations.Resolve(store, "Electronics>Gadgets"));
        Assert.Null(CategoryObservations.Resolve(store, "Garden > Hoses"));
    }

    [Fact]
    public void Each_event_counts_once_re_sent_views_do_not_and_unknown_categories_are_counted_apart()
    {
        using var store = Load();
        var result = CategoryObservations.Record(store,
        [
            new("ep:a", "Baby & Toddler > Baby Transport > Baby Strollers", 1000),
            new("ep:a", "Baby & Toddler > Baby Transport > Baby Strollers", 1000), // the same view again (retag, retry)
            new("ep:a", "Baby & Toddler > Baby Transport > Baby Strollers", 2000),
            new("ep:a", "Electronics", 3000),
            new("ep:b", "Baby & Toddler", 1500),
            new("ep:b", "Garden > Hoses", 1600),
        ]);
        Assert.Equal(new CategoryObservationResult(4, 1, 1), result);

        var strollers = InterestEdges.InterestNode("ep:a", TaxonomyImporter.Node(5859));
        Assert.Equal(2, store.Match(strollers, Vocabulary.Count, null).Single().Object.AsNumber());
        Assert.Equal(2000, store.Match(strollers, Vocabulary.LastSeen, null).Single().Object.AsNumber());
        Assert.Equal(
            new[] { TaxonomyImporter.Node(222), TaxonomyImporter.Node(5859) }.Select(t => t.Lexical).Order(StringComparer.Ordinal),
            store.Match(InterestEdges.CustomerNode("ep:a"), Vocabulary.InterestedIn, null).Select(t => t.Object.Lexical).Order(StringComparer.Ordinal));

        // Who is interested in something below Baby & Toddler (a subclass path), and in Baby & Toddler itself.
        var engine = new QueryEngine(store);
        var below = engine.Execute(CypherParser.Parse(
            "MATCH (c:Customer)-[:INTERESTED_IN]->(k)-[:SUBCLASS_OF*1..5]->(:Category {name:'Baby & Toddler'}) RETURN DISTINCT c")).Rows;
        Assert.Equal(["customer:ep:a"], below.Select(r => r.Values[0]!.Lexical));
        var direct = engine.Execute(CypherParser.Parse("MATCH (c:Customer)-[:INTERESTED_IN]->(:Category {name:'Baby & Toddler'}) RETURN c")).Rows;
        Assert.Equal(["customer:ep:b"], direct.Select(r => r.Values[0]!.Lexical));

        // Erasure takes the customer and their interest nodes away, and nothing else.
        var before = store.Count();
        var removed = CategoryObservations.Forget(store, "ep:a");
        Assert.Equal(before - removed, store.Count());
        Assert.Empty(store.Match(InterestEdges.CustomerNode("ep:a"), null, null));
        Assert.Empty(store.Match(strollers, null, null));
        Assert.NotEmpty(store.Match(InterestEdges.CustomerNode("ep:b"), null, null));
        Assert.NotEmpty(store.Match(TaxonomyImporter.Node(5859), null, null));
    }

    private static TripleStore Load()
    {
        var store = TripleStore.CreateInMemory();
        TaxonomyImporter.Import(store, new StringReader(Taxonomy));
        return store;
    }
}
