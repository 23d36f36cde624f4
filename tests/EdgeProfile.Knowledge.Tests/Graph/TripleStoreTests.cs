using System.Diagnostics;
using EdgeProfile.Knowledge.Graph;
using Xunit.Abstractions;

namespace EdgeProfile.Knowledge.Tests.Graph;

public sealed class TripleStoreTests(ITestOutputHelper output)
{
    private static readonly Triple[] Sample =
    [
        Triple.Of("Strollers", "needs", "CarSeatSafetyInfo"),
        Triple.Of("Strollers", "subClassOf", "BabyTransport"),
        Triple.Of("CarSeats", "subClassOf", "BabyTransport"),
        Triple.Of("CarSeats", "needs", "CarSeatSafetyInfo"),
        Triple.Of("Phones", "complementedBy", "PhoneCases"),
        Triple.Of("Phones", "complementedBy", "Chargers"),
        Triple.Of("PhoneCases", "subClassOf", "Accessories"),
        new(Term.Name("Phones"), Term.Name("name"), Term.Text("Mobile phones")),
        new(Term.Name("Phones"), Term.Name("price"), Term.Number(199.5)),
    ];

    [Fact]
    public void Match_UsesEveryIndexCombination_AndAgreesWithAScan()
    {
        using var dir = new TempDir();
        using var store = TripleStore.Open(dir.File("store.db"));
        Assert.Equal(Sample.Length, store.AddRange(Sample));
        foreach (var probe in Sample)
        {
            for (var mask = 0; mask < 8; mask++)
            {
                var s = (mask & 4) != 0 ? probe.Subject : null;
                var p = (mask & 2) != 0 ? probe.Predicate : null;
                var o = (mask & 1) != 0 ? probe.Object : null;
                var expected = Sample.Where(t => (s is null || t.Subject == s) && (p is null || t.Predicate == p) && (o is null || t.Object == o)).ToHashSet();
                var actual = store.Match(s, p, o);
                Assert.Equal(expected.Count, actual.Count);
                Assert.True(expected.SetEquals(actual), $"mask {mask} for {probe}");
                Assert.Equal(expected.Count, store.Count(s, p, o));
            }
        }

        Assert.Empty(store.Match(Term.Name("Nobody"), null, null));
        Assert.Equal(0, store.Count(null, Term.Name("unknownPredicate"), null));
    }

    [Theory]
    [InlineData(false, false, false, "SCAN triples")]
    [InlineData(true, false, false, "PRIMARY KEY (s=?)")]
    [InlineData(true, true, false, "PRIMARY KEY (s=? AND p=?)")]
    [InlineData(true, true, true, "PRIMARY KEY (s=? AND p=? AND o=?)")]
    [InlineData(false, true, false, "triples_pos (p=?)")]
    [InlineData(false, true, true, "triples_pos (p=? AND o=?)")]
    [InlineData(false, false, true, "triples_osp (o=?)")]
    [InlineData(true, false, true, "triples_osp (o=? AND s=?)")]
    public void Match_SearchesTheIndexOfItsBoundPositions(bool s, bool p, bool o, string expected)
    {
        using var store = TripleStore.CreateInMemory();
        store.AddRange(Sample);
        var plan = store.MatchPlan(s, p, o);
        output.WriteLine(plan);
        Assert.Contains(expected, plan, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal); // the order comes from the index, no sort
    }

    [Fact]
    public void Match_ReturnsTheIndexOrder()
    {
        using var store = TripleStore.CreateInMemory();
        store.AddRange(Sample);
        var bySubject = store.Match(Term.Name("Phones"), null, null);
        var ids = bySubject.Select(t => (Id(store, t.Predicate), Id(store, t.Object))).ToList();
        Assert.Equal(ids.Order().ToList(), ids);
        var byObject = store.Match(null, null, Term.Name("BabyTransport"));
        var subjects = byObject.Select(t => Id(store, t.Subject)).ToList();
        Assert.Equal(subjects.Order().ToList(), subjects);
    }

    [Fact]
    public void AddingTwice_KeepsOneTriple()
    {
        using var store = TripleStore.CreateInMemory();
        Assert.True(store.Add(Term.Name("a"), Term.Name("p"), Term.Name("b")));
        Assert.False(store.Add(Term.Name("a"), Term.Name("p"), Term.Name("b")));
        Assert.Equal(2, store.AddRange([Triple.Of("a", "p", "b"), Triple.Of("a", "p", "c"), Triple.Of("a", "p", "c"), Triple.Of("a", "q", "c")]));
        Assert.Equal(3, store.Count());
    }

    [Fact]
    public void TypedLiterals_RoundTripThroughTheFile_AndStayDistinct()
    {
        using var dir = new TempDir();
        var path = dir.File("literals.db");
        var when = new DateTimeOffset(2024, 5, 1, 12, 30, 15, TimeSpan.FromHours(2));
        var s = Term.Name("x");
        var literals = new[]
        {
            Term.Text("Crème brûlée 'quoted' \"double\" \\ back"),
            Term.Text(""),
            Term.Text("42"),
            Term.Name("42"),
            Term.Number(42),
            Term.Number(-0.1),
            Term.Number(1e300),
            Term.Boolean(true),
            Term.Boolean(false),
            Term.DateTime(when),
        };
        using (var store = TripleStore.Open(path))
        {
            Assert.Equal(literals.Length, store.AddRange(literals.Select(l => new Triple(s, Term.Name("v"), l))));
        }

        using (var store = TripleStore.Open(path))
        {
            var read = store.Match(s, Term.Name("v"), null).Select(t => t.Object).ToHashSet();
            Assert.True(read.SetEquals(literals));
            Assert.Contains(read, t => t.Kind == TermKind.Number && t.AsNumber() == -0.1);
            Assert.Contains(read, t => t.Kind == TermKind.Number && t.AsNumber() == 1e300);
            Assert.Contains(read, t => t.Kind == TermKind.Boolean && t.AsBoolean());
            Assert.Contains(read, t => t.Kind == TermKind.DateTime && t.AsDateTime() == when && t.AsDateTime().Offset == TimeSpan.Zero);
            Assert.Contains(read, t => t.Kind == TermKind.Text && t.Lexical == "Crème brûlée 'quoted' \"double\" \\ back");
            Assert.Equal(1, store.Count(s, Term.Name("v"), Term.Number(42.0)));
            Assert.Equal(1, store.Count(s, Term.Name("v"), Term.Text("42")));
            Assert.Equal(1, store.Count(s, Term.Name("v"), Term.Name("42")));
        }
    }

    [Fact]
    public void Terms_OrderByKindThenValue()
    {
        Assert.True(Term.Number(9) < Term.Number(10));
        Assert.True(Term.Text("10") < Term.Text("9"));
        Assert.True(Term.Name("z") < Term.Text("a"));
        Assert.True(Term.DateTime(DateTimeOffset.UnixEpoch) < Term.DateTime(DateTimeOffset.UnixEpoch.AddTicks(1)));
        Assert.Equal(Term.Number(0), Term.Number(-0.0));
    }

    [Fact]
    public void Store_PersistsAcrossReopen()
    {
        using var dir = new TempDir();
        var path = dir.File("persist.db");
        using (var store = TripleStore.Open(path))
        {
            store.AddRange(Sample);
        }

        using (var store = TripleStore.Open(path))
        {
            Assert.Equal(Sample.Length, store.Count());
            Assert.True(store.Match(null, null, null).ToHashSet().SetEquals(Sample));
            Assert.True(store.Add(Term.Name("new"), Term.Name("p"), Term.Name("Phones")));
        }

        using (var store = TripleStore.Open(path))
        {
            Assert.Equal(Sample.Length + 1, store.Count());
            Assert.Equal(1, store.Count(Term.Name("new"), Term.Name("p"), Term.Name("Phones")));
        }
    }

    [Fact]
    public void Remove_DeletesTriplesAndPersists()
    {
        using var dir = new TempDir();
        var path = dir.File("delete.db");
        using (var store = TripleStore.Open(path))
        {
            store.AddRange(Sample);
            Assert.True(store.Remove(Term.Name("Phones"), Term.Name("complementedBy"), Term.Name("Chargers")));
            Assert.False(store.Remove(Term.Name("Phones"), Term.Name("complementedBy"), Term.Name("Chargers")));
            Assert.False(store.Remove(Term.Name("Never"), Term.Name("seen"), Term.Name("before")));
            Assert.Equal(2, store.RemoveMatching(null, Term.Name("needs"), null));
            Assert.Equal(Sample.Length - 3, store.Count());
            Assert.Empty(store.Match(null, Term.Name("needs"), null));
        }

        using (var store = TripleStore.Open(path))
        {
            Assert.Equal(Sample.Length - 3, store.Count());
            Assert.False(store.Contains(Term.Name("Phones"), Term.Name("complementedBy"), Term.Name("Chargers")));
            Assert.True(store.Contains(Term.Name("Phones"), Term.Name("complementedBy"), Term.Name("PhoneCases")));
        }
    }

    [Fact]
    public void Batch_DisposedWithoutCommit_RollsBack()
    {
        using var store = TripleStore.CreateInMemory();
        store.Add(Term.Name("a"), Term.Name("p"), Term.Name("b"));
        using (var batch = store.BeginBatch())
        {
            store.AddRange([Triple.Of("c", "p", "d"), Triple.Of("e", "p", "f")]);
            Assert.Equal(3, store.Count());
        }

        Assert.Equal(1, store.Count());
        Assert.False(store.TryGetId(Term.Name("c"), out _));
        store.Add(Term.Name("c"), Term.Name("p"), Term.Name("d"));
        Assert.Equal(2, store.Count());
        Assert.Single(store.Match(Term.Name("c"), null, null));
    }

    [Fact]
    public void BulkInsert_OfManyTriples_IsCountedAndQueryable()
    {
        const int n = 300_000;
        using var dir = new TempDir();
        using var store = TripleStore.Open(dir.File("bulk.db"));
        var type = Term.Name("type");
        var interested = Term.Name("interestedIn");
        var categories = Enumerable.Range(0, 1000).Select(i => Term.Name("cat:" + i)).ToArray();
        var triples = Enumerable.Range(0, n).Select(i => i % 3 == 0
            ? new Triple(Term.Name("customer:" + (i / 3)), type, Term.Name("Customer"))
            : new Triple(Term.Name("customer:" + (i / 3)), interested, categories[i % 1000]));
        var watch = Stopwatch.StartNew();
        var added = store.AddRange(triples);
        watch.Stop();
        output.WriteLine($"bulk insert: {added} triples in {watch.ElapsedMilliseconds} ms = {added / watch.Elapsed.TotalSeconds:F0} triples/s");
        Assert.Equal(n, added);
        Assert.Equal(n, store.Count());
        Assert.Equal(n / 3, store.Count(null, type, Term.Name("Customer")));
        Assert.Equal(3, store.Count(Term.Name("customer:7"), null, null));
    }

    private static long Id(TripleStore store, Term term) => store.TryGetId(term, out var id) ? id : throw new InvalidOperationException();
}
