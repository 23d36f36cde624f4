using EdgeProfile.Semantic.MiniLm;
using EdgeProfile.Semantic.Text;
using Xunit.Abstractions;

namespace EdgeProfile.Semantic.Tests.Text;

/// <summary>One MiniLM model for the whole class (loading takes ≈ 0.5 s and ≈ 350 MB).</summary>
public sealed class MiniLmFixture : IDisposable
{
    /// <summary>The shared embedder (batches of 8, so the batching path is exercised with small inputs).</summary>
    public MiniLmTextEmbedder Embedder { get; } = new(batchSize: 8);

    /// <inheritdoc />
    public void Dispose() => Embedder.Dispose();
}

public class MiniLmTextEmbedderTests(MiniLmFixture fixture, ITestOutputHelper output) : IClassFixture<MiniLmFixture>
{
    private static readonly string[] Products =
    [
        "business backpack",
        "laptop bag for work",
        "baby stroller",
        "Stainless steel water bottle, 750 ml, keeps drinks cold for 24 hours",
        "wireless mouse",
        "婴儿推车",
        "Great value. The zipper broke after two weeks though, and customer service never answered my emails.",
        "usb-c charging cable 2m",
        "organic green tea",
        "kids' winter jacket with hood",
    ];

    private MiniLmTextEmbedder Embedder => fixture.Embedder;

    [Fact]
    public void Name_and_dimensions()
    {
        Assert.Equal("all-MiniLM-L6-v2", Embedder.Name);
        Assert.Equal(384, Embedder.Dimensions);
        Assert.Equal(384, Embedder.Embed("laptop bag").Length);
    }

    [Fact]
    public void Meaning_is_closer_than_unrelated_products()
    {
        var v = Embedder.Embed(["business backpack", "laptop bag for work", "baby stroller"]);
        float related = VectorAssert.Dot(v[0], v[1]);
        float unrelated = VectorAssert.Dot(v[0], v[2]);
        output.WriteLine($"business backpack ~ laptop bag for work {related:F3}, ~ baby stroller {unrelated:F3}");
        Assert.True(related > unrelated + 0.1f, $"related {related}, unrelated {unrelated}");
    }

    [Fact]
    public void Vectors_have_unit_length() => Assert.All(Embedder.Embed(Products), v => VectorAssert.UnitLength(v));

    [Fact]
    public void Blank_texts_give_the_zero_vector()
    {
        var v = Embedder.Embed(["", "laptop bag", "   ", null!]);
        VectorAssert.Zero(v[0]);
        VectorAssert.UnitLength(v[1]);
        VectorAssert.Zero(v[2]);
        VectorAssert.Zero(v[3]);
        Assert.All(Embedder.Embed(["", " "]), VectorAssert.Zero);
        Assert.Empty(Embedder.Embed([]));
    }

    [Fact]
    public void Batch_equals_one_by_one()
    {
        var batch = Embedder.Embed(Products);
        for (int i = 0; i < Products.Length; i++)
        {
            VectorAssert.Close(Embedder.Embed(Products[i]), batch[i], 1e-5f);
        }
    }

    [Fact]
    public void Long_texts_are_truncated_not_refused()
    {
        string review = string.Join(' ', Enumerable.Repeat("The backpack is comfortable and the laptop sleeve fits a fifteen inch notebook.", 45));
        var v = Embedder.Embed(review);
        VectorAssert.UnitLength(v);
        // Only the first 512 word pieces count (45 × 14 > 512), so a longer repetition gives the same vector.
        string longer = review + " " + string.Join(' ', Enumerable.Repeat("Terrible stroller.", 20));
        VectorAssert.Close(v, Embedder.Embed(longer), 1e-5f);
    }

    [Fact]
    public void Concurrent_calls_give_the_same_vectors()
    {
        var expected = Embedder.Embed(Products);
        var results = new float[4][][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            // Different batch compositions per thread: the vector of a text must not depend on its batch.
            var texts = Products.Skip(t).Concat(Products.Take(t)).ToArray();
            var vectors = Embedder.Embed(texts);
            results[t] = Enumerable.Range(0, Products.Length).Select(i => vectors[(i - t + Products.Length) % Products.Length]).ToArray();
        });
        foreach (var result in results)
        {
            for (int i = 0; i < Products.Length; i++)
            {
                VectorAssert.Close(expected[i], result[i], 1e-5f);
            }
        }
    }

    [Fact]
    public void Embedding_table_finds_the_nearest_product()
    {
        var table = EmbeddingTable.Build(Embedder, Products.Select((text, i) => ($"p{i}", text)), batchSize: 4);
        Assert.Equal("all-MiniLM-L6-v2", table.Name);
        var query = Embedder.Embed("bag to carry my notebook computer to the office");
        var best = table.MostSimilar(query, 2);
        Assert.Equal(["p0", "p1"], best.Select(m => m.Key).Order(StringComparer.Ordinal));
    }

    /// <summary>Shoppers' queries and the top-level Google product category they belong to.</summary>
    public static TheoryData<string, string> QueriesAndDepartments => new()
    {
        { "business backpack", "Luggage & Bags" },
        { "baby stroller", "Baby & Toddler" },
        { "gaming laptop 16gb ram", "Electronics" },
        { "organic green tea", "Food, Beverages & Tobacco" },
        { "kids winter jacket with hood", "Apparel & Accessories" },
        { "cordless drill", "Hardware" },
        { "cat litter box", "Animals & Pet Supplies" },
        { "garden hose 30m", "Home & Garden" },
    };

    [Fact]
    public void Maps_queries_to_real_product_categories()
    {
        // The 213 categories of the Google product taxonomy's first two levels (real data).
        var categories = TextTestData.TaxonomyCategories(maxDepth: 2);
        var table = EmbeddingTable.Build(Embedder, categories.Select(c => (c.Id, c.Path)));
        var hashedTable = EmbeddingTable.Build(new HashedTextEmbedder(), categories.Select(c => (c.Id, c.Path)));
        var paths = categories.ToDictionary(c => c.Id, c => c.Path);
        var hashed = new HashedTextEmbedder();

        int correct = 0, hashedCorrect = 0, total = 0;
        foreach (var row in QueriesAndDepartments)
        {
            string query = (string)row[0], department = (string)row[1];
            string best = paths[table.MostSimilar(Embedder.Embed(query), 1)[0].Key];
            var hashedMatches = hashedTable.MostSimilar(hashed.Embed(query), 1);
            string hashedBest = hashedMatches.Count > 0 ? paths[hashedMatches[0].Key] : "(none)";
            output.WriteLine($"{query,-32} minilm: {best,-55} hashed: {hashedBest}");
            correct += best.StartsWith(department, StringComparison.Ordinal) ? 1 : 0;
            hashedCorrect += hashedBest.StartsWith(department, StringComparison.Ordinal) ? 1 : 0;
            total++;
        }
        output.WriteLine($"right department: minilm {correct}/{total}, hashed {hashedCorrect}/{total}");
        Assert.True(correct >= total - 1, $"minilm put {correct} of {total} queries in the right department");
        Assert.True(correct > hashedCorrect);
    }

    [Fact]
    public void Disposed_embedder_refuses_work()
    {
        var embedder = new MiniLmTextEmbedder();
        Assert.False(embedder.IsLoaded);
        embedder.Dispose();
        embedder.Dispose();
        Assert.Throws<ObjectDisposedException>(() => embedder.Embed(["laptop"]));
    }
}

public class TextEmbedderFactoryTests
{
    [Fact]
    public void Creates_by_kind()
    {
        using (var minilm = (MiniLmTextEmbedder)TextEmbedderFactory.Create("minilm", null))
        {
            Assert.Equal("all-MiniLM-L6-v2", minilm.Name);
            Assert.Equal(384, minilm.Dimensions);
            Assert.False(minilm.IsLoaded); // lazy: creating it does not load the model
        }
        using (var minilm = (MiniLmTextEmbedder)TextEmbedderFactory.Create(" MiniLM ", 384))
        {
            Assert.Equal("all-MiniLM-L6-v2", minilm.Name);
        }
        Assert.Equal("hashed-384", TextEmbedderFactory.Create("hashed", null).Name);
        var hashed = TextEmbedderFactory.Create("HASHED", 128);
        Assert.IsType<HashedTextEmbedder>(hashed);
        Assert.Equal("hashed-128", hashed.Name);
        Assert.Equal(128, hashed.Dimensions);
    }

    [Fact]
    public void Refuses_unknown_kinds_and_impossible_dimensions()
    {
        var e = Assert.Throws<ArgumentException>(() => TextEmbedderFactory.Create("word2vec", null));
        Assert.Contains("minilm", e.Message, StringComparison.Ordinal);
        Assert.Contains("hashed", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => TextEmbedderFactory.Create("minilm", 256));
        Assert.Throws<ArgumentException>(() => TextEmbedderFactory.Create("hashed", 0));
    }

    [Fact]
    public void Recreates_by_name()
    {
        Assert.Equal("hashed-96", TextEmbedderFactory.FromName("hashed-96").Name);
        using (var minilm = (MiniLmTextEmbedder)TextEmbedderFactory.FromName("all-MiniLM-L6-v2"))
        {
            Assert.Equal("all-MiniLM-L6-v2", minilm.Name);
        }
        Assert.Throws<ArgumentException>(() => TextEmbedderFactory.FromName("hashed-"));
        Assert.Throws<ArgumentException>(() => TextEmbedderFactory.FromName("hashed-096"));
        Assert.Throws<ArgumentException>(() => TextEmbedderFactory.FromName("minilm"));
    }
}
