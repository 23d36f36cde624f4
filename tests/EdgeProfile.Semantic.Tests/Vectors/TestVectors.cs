using EdgeProfile.Semantic.Vectors;

namespace EdgeProfile.Semantic.Tests.Vectors;

/// <summary>Seeded synthetic vector sets for the vector-index tests.</summary>
internal static class TestVectors
{
    /// <summary>Vectors scattered around <paramref name="clusters"/> random centres (Gaussian noise), the shape of
    /// embedding sets (products of a category sit together).</summary>
    public static float[][] Clustered(int count, int dimensions, int clusters, int seed, float spread = 0.35f)
    {
        var random = new Random(seed);
        var centres = new float[clusters][];
        for (var c = 0; c < clusters; c++)
        {
            centres[c] = Gaussian(random, dimensions, 1f);
        }

        var vectors = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var centre = centres[random.Next(clusters)];
            var noise = Gaussian(random, dimensions, spread);
            for (var d = 0; d < dimensions; d++)
            {
                noise[d] += centre[d];
            }

            vectors[i] = noise;
        }

        return vectors;
    }

    /// <summary>One vector of independent N(0, scale²) components.</summary>
    public static float[] Gaussian(Random random, int dimensions, float scale)
    {
        var vector = new float[dimensions];
        for (var d = 0; d < dimensions; d++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            vector[d] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) * scale);
        }

        return vector;
    }

    /// <summary>Keys 0..n-1.</summary>
    public static long[] Keys(int count, long offset = 0)
    {
        var keys = new long[count];
        for (var i = 0; i < count; i++)
        {
            keys[i] = offset + i;
        }

        return keys;
    }

    /// <summary>The share of the exact top-k keys that the approximate result also returned.</summary>
    public static double Recall(IReadOnlyList<VectorHit> exact, IReadOnlyList<VectorHit> approximate)
    {
        var truth = exact.Select(h => h.Key).ToHashSet();
        return exact.Count == 0 ? 1 : approximate.Count(h => truth.Contains(h.Key)) / (double)exact.Count;
    }

    /// <summary>A brute-force index of <paramref name="vectors"/> under keys 0..n-1.</summary>
    public static ExactVectorIndex Exact(float[][] vectors)
    {
        var exact = new ExactVectorIndex(vectors[0].Length);
        for (var i = 0; i < vectors.Length; i++)
        {
            exact.Upsert(i, vectors[i]);
        }

        return exact;
    }

    /// <summary>The mean recall@k of <paramref name="hnsw"/> at candidate-list size <paramref name="ef"/>.</summary>
    public static double MeanRecall(HnswIndex hnsw, ExactVectorIndex exact, float[][] queries, int k, int ef) =>
        queries.Average(q => Recall(exact.Search(q, k), hnsw.Search(q, k, ef)));
}
