using EdgeProfile.Semantic.Vectors;

namespace EdgeProfile.Semantic.Tests.Vectors;

public sealed class HnswIndexTests
{
    private const int Dimensions = 32;

    [Fact]
    public void Upsert_of_an_existing_key_replaces_its_vector()
    {
        var vectors = TestVectors.Clustered(500, Dimensions, 10, seed: 7);
        using var index = new HnswIndex(Dimensions);
        index.UpsertRange(TestVectors.Keys(vectors.Length), vectors);
        var target = vectors[123];

        Assert.Equal(123, index.Search(target, 1)[0].Key);

        var moved = TestVectors.Gaussian(new Random(8), Dimensions, 1f);
        index.Upsert(123, moved);

        Assert.Equal(500, index.Count);
        Assert.Equal(1, index.DeletedCount);
        var hit = index.Search(moved, 1)[0];
        Assert.Equal(123, hit.Key);
        Assert.Equal(1f, hit.Similarity, 4);
        Assert.DoesNotContain(index.Search(target, 10), h => h.Key == 123 && h.Similarity > 0.999f);
        Assert.Single(index.Search(moved, 500), h => h.Key == 123);

        index.Upsert(123, moved);   // the same vector again: nothing changes
        Assert.Equal(1, index.DeletedCount);
    }

    [Fact]
    public void Removed_keys_are_never_returned_and_can_be_added_again()
    {
        var vectors = TestVectors.Clustered(1_000, Dimensions, 10, seed: 9);
        using var index = new HnswIndex(Dimensions);
        index.UpsertRange(TestVectors.Keys(vectors.Length), vectors);

        for (var key = 0; key < 1_000; key += 3)
        {
            Assert.True(index.Remove(key));
        }

        Assert.False(index.Remove(0));
        Assert.False(index.Contains(3));
        Assert.True(index.Contains(4));
        Assert.Equal(666, index.Count);
        foreach (var query in vectors.Take(50))
        {
            var hits = index.Search(query, 20);
            Assert.Equal(20, hits.Count);
            Assert.All(hits, h => Assert.NotEqual(0, h.Key % 3));
        }

        index.Upsert(3, vectors[3]);
        Assert.Equal(3, index.Search(vectors[3], 1)[0].Key);

        using var compacted = index.Compact();
        Assert.Equal(667, compacted.Count);
        Assert.Equal(0, compacted.DeletedCount);
        Assert.Equal(3, compacted.Search(vectors[3], 1)[0].Key);
    }

    [Fact]
    public void Filter_is_honoured_and_results_are_best_first()
    {
        var vectors = TestVectors.Clustered(2_000, Dimensions, 20, seed: 10);
        using var index = new HnswIndex(Dimensions);
        index.UpsertRange(TestVectors.Keys(vectors.Length), vectors);
        using var exact = TestVectors.Exact(vectors);

        foreach (var query in TestVectors.Clustered(50, Dimensions, 20, seed: 11))
        {
            var hits = index.Search(query, 10, key => key % 10 == 7);
            Assert.Equal(10, hits.Count);
            Assert.All(hits, h => Assert.Equal(7, h.Key % 10));
            for (var i = 1; i < hits.Count; i++)
            {
                Assert.True(hits[i - 1].Similarity >= hits[i].Similarity);
            }

            var truth = exact.Search(query, 10, key => key % 10 == 7);
            Assert.True(TestVectors.Recall(truth, hits) >= 0.8);
        }
    }

    [Fact]
    public void Wrong_dimensions_and_zero_vectors_give_clear_errors()
    {
        using var index = new HnswIndex(4);
        var wrong = Assert.Throws<ArgumentException>(() => index.Upsert(1, [1, 2, 3]));
        Assert.Contains("3 dimensions", wrong.Message);
        Assert.Contains("4-dimensional", wrong.Message);
        Assert.Contains("zero vector", Assert.Throws<ArgumentException>(() => index.Upsert(1, [0, 0, 0, 0])).Message);
        Assert.Throws<ArgumentException>(() => index.Upsert(1, [float.NaN, 0, 0, 1]));
        Assert.Throws<ArgumentException>(() => index.Search([1, 2], 3));
        Assert.Throws<ArgumentException>(() => index.UpsertRange([1, 2], [[1, 0, 0, 0], [0, 0, 0, 0]]));
        Assert.Equal(0, index.Count);   // the batch was refused as a whole
        Assert.Empty(index.Search([1, 0, 0, 0], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search([1, 0, 0, 0], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HnswIndex(4, new HnswOptions { M = 1 }));
    }

    [Fact]
    public async Task Concurrent_searches_during_inserts_do_not_throw()
    {
        var vectors = TestVectors.Clustered(3_000, Dimensions, 20, seed: 18);
        using var index = new HnswIndex(Dimensions, new HnswOptions { EfConstruction = 64 });
        index.UpsertRange(TestVectors.Keys(500), vectors[..500]);
        using var done = new CancellationTokenSource();
        var searches = 0L;
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(() =>
        {
            var random = new Random(r);
            while (!done.IsCancellationRequested)
            {
                var hits = index.Search(vectors[random.Next(vectors.Length)], 10, key => key % 2 == 0);
                Assert.All(hits, h => Assert.Equal(0, h.Key % 2));
                Interlocked.Increment(ref searches);
            }
        })).ToArray();

        // The readers must be searching before the writes begin (on a busy box a task can start late).
        Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref searches) > 0, TimeSpan.FromSeconds(60)), "no reader started");
        var removed = 0;
        for (var i = 500; i < 2_000; i++)
        {
            index.Upsert(i, vectors[i]);
            if (i % 7 == 0 && index.Remove(i - 100))
            {
                removed++;
            }
        }

        index.UpsertRange(TestVectors.Keys(1_000, 2_000), vectors[2_000..]);
        done.Cancel();
        await Task.WhenAll(readers);

        Assert.True(Interlocked.Read(ref searches) > 0);
        Assert.Equal(3_000 - removed, index.Count);
        Assert.Equal(2_000, index.Search(vectors[2_000], 1)[0].Key);
    }
}
