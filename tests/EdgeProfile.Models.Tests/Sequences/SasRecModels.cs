using EdgeProfile.Models.Sequences;

namespace EdgeProfile.Models.Tests.Sequences;

/// <summary>Seeded random SASRec weights and histories for the tests (no TorchSharp).</summary>
public static class SasRecModels
{
    /// <summary>ItemCount 50, L 8, d 16, 2 heads, 2 blocks.</summary>
    public static SasRecWeights Small(int seed = 1, int blocks = 2, int heads = 2) => Random(50, 8, 16, heads, blocks, seed);

    public static SasRecWeights Random(int itemCount, int maxLength, int dimensions, int heads, int blocks, int seed)
    {
        var random = new Random(seed);
        int d = dimensions;
        float matrixRange = MathF.Sqrt(6f / (2 * d));
        var items = Uniform(random, (itemCount + 1) * d, 0.3f);
        Array.Clear(items, 0, d);
        return new SasRecWeights
        {
            ItemCount = itemCount,
            MaxLength = maxLength,
            Dimensions = d,
            Heads = heads,
            ItemEmbedding = items,
            PositionEmbedding = Uniform(random, maxLength * d, 0.3f),
            FinalNormScale = Around(random, d, 1f, 0.2f),
            FinalNormBias = Uniform(random, d, 0.1f),
            Blocks = [.. Enumerable.Range(0, blocks).Select(_ => new SasRecBlockWeights
            {
                AttentionNormScale = Around(random, d, 1f, 0.2f),
                AttentionNormBias = Uniform(random, d, 0.1f),
                Query = Uniform(random, d * d, matrixRange),
                QueryBias = Uniform(random, d, 0.1f),
                Key = Uniform(random, d * d, matrixRange),
                KeyBias = Uniform(random, d, 0.1f),
                Value = Uniform(random, d * d, matrixRange),
                ValueBias = Uniform(random, d, 0.1f),
                Output = Uniform(random, d * d, matrixRange),
                OutputBias = Uniform(random, d, 0.1f),
                FeedForwardNormScale = Around(random, d, 1f, 0.2f),
                FeedForwardNormBias = Uniform(random, d, 0.1f),
                FeedForward1 = Uniform(random, d * d, matrixRange),
                FeedForward1Bias = Uniform(random, d, 0.1f),
                FeedForward2 = Uniform(random, d * d, matrixRange),
                FeedForward2Bias = Uniform(random, d, 0.1f),
            })],
        };
    }

    /// <summary>Histories of lengths 0..2L+1 (empty, shorter than, equal to and longer than L), items 1..ItemCount.</summary>
    public static List<int[]> Histories(SasRecWeights weights, int count, int seed)
    {
        var random = new Random(seed);
        List<int[]> histories = [[], [1], [weights.ItemCount]];
        while (histories.Count < count)
        {
            int length = random.Next(0, (2 * weights.MaxLength) + 2);
            histories.Add([.. Enumerable.Range(0, length).Select(_ => random.Next(1, weights.ItemCount + 1))]);
        }

        return histories;
    }

    private static float[] Uniform(Random random, int count, float range) =>
        [.. Enumerable.Range(0, count).Select(_ => (float)(((random.NextDouble() * 2) - 1) * range))];

    private static float[] Around(Random random, int count, float centre, float range) =>
        [.. Enumerable.Range(0, count).Select(_ => centre + (float)(((random.NextDouble() * 2) - 1) * range))];
}
