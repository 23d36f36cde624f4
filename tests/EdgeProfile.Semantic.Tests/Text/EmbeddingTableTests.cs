using EdgeProfile.Semantic.Text;

namespace EdgeProfile.Semantic.Tests.Text;

public class EmbeddingTableTests
{
    private static EmbeddingTable Sample()
    {
        var table = new EmbeddingTable("test-3", 3);
        table.Add("x", [1, 0, 0]);
        table.Add("y", [0, 1, 0]);
        table.Add("xy", [0.6f, 0.8f, 0]);
        table.Add("z", [0, 0, 2]);
        table.Add("blank", [0, 0, 0]);
        return table;
    }

    [Fact]
    public void Add_TryGet_Count_Keys()
    {
        var table = Sample();
        Assert.Equal("test-3", table.Name);
        Assert.Equal(3, table.Dimensions);
        Assert.Equal(5, table.Count);
        Assert.Equal(["x", "y", "xy", "z", "blank"], table.Keys);
        Assert.True(table.TryGet("xy", out var xy));
        Assert.Equal([0.6f, 0.8f, 0f], xy);
        xy[0] = 42; // a copy
        Assert.True(table.TryGet("xy", out var again));
        Assert.Equal(0.6f, again[0]);
        Assert.False(table.TryGet("nope", out var missing));
        Assert.Null(missing);

        Assert.Throws<ArgumentException>(() => table.Add("x", [1, 0, 0]));
        Assert.Throws<ArgumentException>(() => table.Add("w", [1, 0]));
        Assert.Throws<ArgumentException>(() => table.Add("w", [float.NaN, 0, 0]));
        table.Set("x", [0, 0, 1]);
        Assert.True(table.TryGet("x", out var x));
        Assert.Equal([0f, 0f, 1f], x);
        Assert.Equal(5, table.Count);
    }

    [Fact]
    public void Grows_past_its_initial_capacity()
    {
        var table = new EmbeddingTable("grow", 2);
        for (int i = 0; i < 1000; i++)
        {
            table.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture), [i, 1]);
        }
        Assert.Equal(1000, table.Count);
        Assert.True(table.TryGet("999", out var v));
        Assert.Equal([999f, 1f], v);
        Assert.True(table.TryGet("0", out var first));
        Assert.Equal([0f, 1f], first);
    }

    [Fact]
    public void Mean_is_the_normalised_mean_of_known_keys()
    {
        var table = Sample();
        var mean = table.Mean(["x", "y", "unknown"])!;
        float s = MathF.Sqrt(0.5f);
        VectorAssert.Close([s, s, 0], mean, 1e-6f);

        // Repeated keys count again; vectors are averaged as stored (z has length 2).
        var weighted = table.Mean(["x", "x", "z"])!;
        VectorAssert.Close([MathF.Sqrt(0.5f), 0, MathF.Sqrt(0.5f)], weighted, 1e-6f);

        Assert.Null(table.Mean(["unknown", "also unknown"]));
        Assert.Null(table.Mean([]));
        VectorAssert.Zero(table.Mean(["blank"])!);
    }

    [Fact]
    public void MostSimilar_is_exact_cosine_best_first()
    {
        var table = Sample();
        var best = table.MostSimilar([1, 0.1f, 0], 3);
        Assert.Equal(["x", "xy", "y"], best.Select(m => m.Key));
        float norm = MathF.Sqrt(1.01f);
        Assert.Equal(1 / norm, best[0].Similarity, 5);
        Assert.Equal((0.6f + 0.08f) / norm, best[1].Similarity, 5);
        Assert.Equal(0.1f / norm, best[2].Similarity, 5);

        // Query length does not matter; zero vectors (blank texts) are never returned.
        var all = table.MostSimilar([0, 0, 5], 10);
        Assert.Equal(["z", "x", "y", "xy"], all.Select(m => m.Key)); // z = 1, then ties at 0 in key order
        Assert.Equal(1f, all[0].Similarity, 5);

        var filtered = table.MostSimilar([1, 0.1f, 0], 2, key => key != "x");
        Assert.Equal(["xy", "y"], filtered.Select(m => m.Key));

        Assert.Empty(table.MostSimilar([1, 0, 0], 0));
        Assert.Empty(table.MostSimilar([0, 0, 0], 3));
        Assert.Throws<ArgumentException>(() => table.MostSimilar([1, 0], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.MostSimilar([1, 0, 0], -1));
    }

    [Fact]
    public void MostSimilar_agrees_with_a_full_sort()
    {
        var random = new Random(7);
        var table = new EmbeddingTable("random-16", 16);
        var vectors = new List<(string Key, float[] Vector)>();
        for (int i = 0; i < 500; i++)
        {
            var v = Enumerable.Range(0, 16).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            vectors.Add(($"k{i}", v));
            table.Add($"k{i}", v);
        }
        var query = Enumerable.Range(0, 16).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float Cosine(float[] v) => VectorAssert.Dot(query, v) / MathF.Sqrt(VectorAssert.Dot(query, query) * VectorAssert.Dot(v, v));
        var expected = vectors.OrderByDescending(p => Cosine(p.Vector)).Take(25).Select(p => p.Key).ToArray();
        Assert.Equal(expected, table.MostSimilar(query, 25).Select(m => m.Key));
    }

    [Fact]
    public void Save_and_load_round_trip()
    {
        var table = EmbeddingTable.Build(new HashedTextEmbedder(32),
            [("p1", "laptop bag for work"), ("p2", "baby stroller"), ("p3", ""), ("商品", "婴儿推车 轻便")], batchSize: 3);
        using var stream = new MemoryStream();
        table.Save(stream);
        stream.WriteByte(0xAB); // trailing bytes belong to someone else and are not read
        stream.Position = 0;
        var loaded = EmbeddingTable.Load(stream);
        Assert.Equal(stream.Length - 1, stream.Position);
        Assert.Equal("hashed-32", loaded.Name);
        Assert.Equal(32, loaded.Dimensions);
        Assert.Equal(table.Keys, loaded.Keys);
        foreach (var key in table.Keys)
        {
            Assert.True(table.TryGet(key, out var expected));
            Assert.True(loaded.TryGet(key, out var actual));
            Assert.Equal(expected, actual);
        }

        var empty = new EmbeddingTable("empty-4", 4);
        using var emptyStream = new MemoryStream();
        empty.Save(emptyStream);
        emptyStream.Position = 0;
        var emptyLoaded = EmbeddingTable.Load(emptyStream);
        Assert.Equal(0, emptyLoaded.Count);
        Assert.Equal("empty-4", emptyLoaded.Name);
    }

    [Fact]
    public void Save_and_load_a_file()
    {
        var table = Sample();
        string path = Path.Combine(Path.GetTempPath(), $"edgeprofile-embeddings-{Guid.NewGuid():N}.bin");
        try
        {
            table.Save(path);
            var loaded = EmbeddingTable.Load(path);
            Assert.Equal(table.Keys, loaded.Keys);
            Assert.Equal(table.MostSimilar([1, 1, 0], 2), loaded.MostSimilar([1, 1, 0], 2));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Corrupt_or_truncated_files_are_refused()
    {
        using var stream = new MemoryStream();
        Sample().Save(stream);
        byte[] bytes = stream.ToArray();

        // Every truncation, and a flipped bit anywhere.
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<InvalidDataException>(() => EmbeddingTable.Load(new MemoryStream(bytes, 0, length)));
        }
        for (int i = 0; i < bytes.Length; i++)
        {
            var corrupt = (byte[])bytes.Clone();
            corrupt[i] ^= 0x10;
            Assert.Throws<InvalidDataException>(() => EmbeddingTable.Load(new MemoryStream(corrupt)));
        }

        var version = (byte[])bytes.Clone();
        version[8] = 2;
        var e = Assert.Throws<InvalidDataException>(() => EmbeddingTable.Load(new MemoryStream(version)));
        Assert.Contains("version", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_batches_and_refuses_duplicate_keys()
    {
        var embedder = new CountingEmbedder();
        var items = Enumerable.Range(0, 10).Select(i => ($"k{i}", $"text {i}"));
        var table = EmbeddingTable.Build(embedder, items, batchSize: 4);
        Assert.Equal([4, 4, 2], embedder.Batches);
        Assert.Equal(10, table.Count);
        Assert.Equal("counting-2", table.Name);
        Assert.True(table.TryGet("k7", out var v));
        Assert.Equal([1f, 0f], v);

        Assert.Throws<ArgumentException>(() => EmbeddingTable.Build(embedder, [("a", "x"), ("b", "y"), ("a", "z")]));
        Assert.Throws<ArgumentException>(() => EmbeddingTable.Build(embedder, [("a", "x"), ("b", "y"), ("a", "z")], batchSize: 1));
    }

    /// <summary>A real (if trivial) embedder that records its batch sizes: every text maps to (1, 0).</summary>
    private sealed class CountingEmbedder : ITextEmbedder
    {
        public List<int> Batches { get; } = [];

        public string Name => "counting-2";

        public int Dimensions => 2;

        public float[][] Embed(IReadOnlyList<string> texts)
        {
            Batches.Add(texts.Count);
            var vectors = new float[texts.Count][];
            for (int i = 0; i < vectors.Length; i++)
            {
                vectors[i] = [1, 0];
            }
            return vectors;
        }
    }
}
