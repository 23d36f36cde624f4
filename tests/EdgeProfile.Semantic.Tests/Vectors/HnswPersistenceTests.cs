using EdgeProfile.Semantic.Vectors;

namespace EdgeProfile.Semantic.Tests.Vectors;

public sealed class HnswPersistenceTests
{
    private const int Dimensions = 32;

    [Fact]
    public void Save_then_load_gives_identical_results_and_restores_the_options()
    {
        var vectors = TestVectors.Clustered(3_000, Dimensions, 30, seed: 12);
        var options = new HnswOptions { M = 12, EfConstruction = 80, EfSearch = 37, Seed = 99 };
        using var index = new HnswIndex(Dimensions, options);
        index.UpsertRange(TestVectors.Keys(vectors.Length), vectors);
        index.Remove(17);
        index.Upsert(18, vectors[0]);
        using var file = new MemoryStream();
        index.Save(file);
        file.Position = 0;

        using var loaded = HnswIndex.Load(file);

        Assert.Equal(options, loaded.Options);
        Assert.Equal(index.Count, loaded.Count);
        Assert.Equal(index.DeletedCount, loaded.DeletedCount);
        Assert.False(loaded.Contains(17));
        foreach (var query in TestVectors.Clustered(100, Dimensions, 30, seed: 13))
        {
            Assert.Equal(index.Search(query, 10), loaded.Search(query, 10));
            Assert.Equal(index.Search(query, 5, 200), loaded.Search(query, 5, 200));
        }

        // Inserting after a load continues the same layer sequence as inserting into the original.
        var extra = TestVectors.Clustered(200, Dimensions, 30, seed: 14);
        for (var i = 0; i < extra.Length; i++)
        {
            index.Upsert(10_000 + i, extra[i]);
            loaded.Upsert(10_000 + i, extra[i]);
        }

        foreach (var query in extra.Take(30))
        {
            Assert.Equal(index.Search(query, 10), loaded.Search(query, 10));
        }
    }

    [Fact]
    public void Corrupt_truncated_and_foreign_files_are_refused()
    {
        var vectors = TestVectors.Clustered(300, Dimensions, 5, seed: 17);
        using var index = new HnswIndex(Dimensions);
        index.UpsertRange(TestVectors.Keys(vectors.Length), vectors);
        using var file = new MemoryStream();
        index.Save(file);
        var bytes = file.ToArray();

        var flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x40;
        var corrupt = Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(flipped)));
        Assert.Contains("checksum", corrupt.Message);

        Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(bytes[..(bytes.Length - 3)])));
        Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(bytes[..40])));
        Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream([])));
        var foreign = Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream("not an index at all, just text"u8.ToArray())));
        Assert.Contains("magic", foreign.Message);

        var version = (byte[])bytes.Clone();
        version[8] = 99;
        Assert.Contains("version 99", Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(version))).Message);
    }

    [Fact]
    public void Incremental_inserts_into_a_loaded_index_keep_recall()
    {
        var vectors = TestVectors.Clustered(3_000, Dimensions, 40, seed: 15);
        using var index = new HnswIndex(Dimensions, new HnswOptions { EfConstruction = 100 });
        index.UpsertRange(TestVectors.Keys(2_300), vectors[..2_300]);
        using var file = new MemoryStream();
        index.Save(file);
        file.Position = 0;
        using var loaded = HnswIndex.Load(file);

        loaded.UpsertRange(TestVectors.Keys(700, 2_300), vectors[2_300..]);
        using var exact = TestVectors.Exact(vectors);

        Assert.Equal(3_000, loaded.Count);
        Assert.True(TestVectors.MeanRecall(loaded, exact, TestVectors.Clustered(200, Dimensions, 40, seed: 16), 10, HnswOptions.DefaultEfSearch) >= 0.95);
    }
}
