using EdgeProfile.Semantic.Vectors;

namespace EdgeProfile.Semantic.Tests.Vectors;

public sealed class HnswRecallTests
{
    private const int Dimensions = 32;

    [Fact]
    public void Recall_at_10_is_at_least_0_95_against_brute_force_on_5000_clustered_vectors()
    {
        var vectors = TestVectors.Clustered(5_000, Dimensions, 50, seed: 1);
        using var hnsw = new HnswIndex(Dimensions, new HnswOptions { EfConstruction = 100 });
        hnsw.UpsertRange(TestVectors.Keys(vectors.Length), vectors);
        using var exact = TestVectors.Exact(vectors);

        var recall = TestVectors.MeanRecall(hnsw, exact, TestVectors.Clustered(300, Dimensions, 50, seed: 2), k: 10, ef: HnswOptions.DefaultEfSearch);

        Assert.Equal(5_000, hnsw.Count);
        Assert.True(recall >= 0.95, $"recall@10 = {recall:F3}");
    }

    [Fact]
    public void Sequential_upserts_build_the_same_quality_graph_and_are_reproducible()
    {
        var vectors = TestVectors.Clustered(1_500, Dimensions, 30, seed: 5);
        using var first = new HnswIndex(Dimensions, new HnswOptions { M = 8, EfConstruction = 100 });
        using var second = new HnswIndex(Dimensions, new HnswOptions { M = 8, EfConstruction = 100 });
        for (var i = 0; i < vectors.Length; i++)
        {
            first.Upsert(i, vectors[i]);
        }

        second.UpsertRange(TestVectors.Keys(vectors.Length), vectors, maxDegreeOfParallelism: 1);
        using var exact = TestVectors.Exact(vectors);
        var queries = TestVectors.Clustered(200, Dimensions, 30, seed: 6);

        Assert.True(TestVectors.MeanRecall(first, exact, queries, 10, 64) >= 0.95);
        foreach (var query in queries)
        {
            Assert.Equal(first.Search(query, 10), second.Search(query, 10));
        }
    }
}
