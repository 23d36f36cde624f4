using EdgeProfile.Semantic.Vectors;

namespace EdgeProfile.Semantic.Tests.Vectors;

public sealed class ExactVectorIndexTests
{
    [Fact]
    public void Returns_the_most_similar_vectors_best_first_with_cosine_similarity()
    {
        using var index = new ExactVectorIndex(3);
        index.Upsert(1, [1, 0, 0]);
        index.Upsert(2, [0, 1, 0]);
        index.Upsert(3, [10, 10, 0]);   // normalised on insert: cosine to (1,0,0) is 0.7071
        index.Upsert(4, [-1, 0, 0]);

        var hits = index.Search([2, 0, 0], 3);

        Assert.Equal([1L, 3L, 2L], hits.Select(h => h.Key));
        Assert.Equal(1f, hits[0].Similarity, 5);
        Assert.Equal(MathF.Sqrt(0.5f), hits[1].Similarity, 5);
        Assert.Equal(0f, hits[2].Similarity, 5);
        Assert.Equal(4, index.Count);
    }

    [Fact]
    public void Upsert_replaces_and_remove_excludes()
    {
        using var index = new ExactVectorIndex(2);
        index.Upsert(1, [1, 0]);
        index.Upsert(2, [0, 1]);
        index.Upsert(3, [1, 1]);
        index.Upsert(1, [0, 5]);

        Assert.Equal(3, index.Count);
        Assert.Equal(1f, index.Search([0, 1], 1)[0].Similarity, 5);
        Assert.Contains(index.Search([0, 1], 2), h => h.Key == 1);

        Assert.True(index.Remove(2));
        Assert.False(index.Remove(2));
        Assert.False(index.Contains(2));
        Assert.True(index.Contains(3));
        var hits = index.Search([0, 1], 10);
        Assert.Equal([1L, 3L], hits.Select(h => h.Key));
    }

    [Fact]
    public void Filter_is_honoured()
    {
        using var index = new ExactVectorIndex(2);
        for (var i = 0; i < 100; i++)
        {
            index.Upsert(i, [MathF.Cos(i * 0.01f), MathF.Sin(i * 0.01f)]);
        }

        var hits = index.Search([1, 0], 5, key => key % 2 == 1);

        Assert.Equal([1L, 3L, 5L, 7L, 9L], hits.Select(h => h.Key));
    }

    [Fact]
    public void Parallel_scan_of_a_large_set_equals_the_single_threaded_scan()
    {
        var vectors = TestVectors.Clustered(20_000, 64, 20, seed: 3);   // 1.28M floats: above the parallel threshold
        using var parallel = new ExactVectorIndex(64);
        using var single = new ExactVectorIndex(64, maxDegreeOfParallelism: 1);
        for (var i = 0; i < vectors.Length; i++)
        {
            parallel.Upsert(i, vectors[i]);
            single.Upsert(i, vectors[i]);
        }

        var queries = TestVectors.Clustered(20, 64, 20, seed: 4);
        foreach (var query in queries)
        {
            Assert.Equal(single.Search(query, 10).Select(h => h.Key), parallel.Search(query, 10).Select(h => h.Key));
        }
    }

    [Fact]
    public void Wrong_dimensions_and_zero_vectors_are_refused()
    {
        using var index = new ExactVectorIndex(3);
        var wrong = Assert.Throws<ArgumentException>(() => index.Upsert(1, [1, 2]));
        Assert.Contains("2 dimensions", wrong.Message);
        var zero = Assert.Throws<ArgumentException>(() => index.Upsert(1, [0, 0, 0]));
        Assert.Contains("zero vector", zero.Message);
        Assert.Throws<ArgumentException>(() => index.Search([1, 2, 3, 4], 1));
        Assert.Empty(index.Search([1, 2, 3], 5));
    }
}
