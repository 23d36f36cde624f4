using EdgeProfile.Models.Sequences;

namespace EdgeProfile.Models.Tests.Sequences;

/// <summary>The plain C# SASRec forward pass (the oracle for TorchSharp and ONNX), checked against hand computation.</summary>
public sealed class SasRecReferenceTests
{
    private const double Tolerance = 1e-5;
    private static readonly double Sqrt2 = Math.Sqrt(2);

    [Fact]
    public void LeftPad_keeps_the_last_items_and_pads_on_the_left()
    {
        Assert.Equal([0L, 0L, 0L, 0L], SasRecReference.LeftPad([], 4));
        Assert.Equal([0L, 0L, 1L, 2L, 3L], SasRecReference.LeftPad([1, 2, 3], 5));
        Assert.Equal([1L, 2L, 3L], SasRecReference.LeftPad([1, 2, 3], 3));
        Assert.Equal([3L, 4L, 5L, 6L, 7L], SasRecReference.LeftPad([1, 2, 3, 4, 5, 6, 7], 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => SasRecReference.LeftPad([1], 0));
    }

    /// <summary>
    /// Tiny model (2 items, L 2, d 2, 1 head, 1 block) whose layer norms of 2-vectors are ±1 (up to eps), so the whole
    /// forward pass is worked out by hand: history [1, 2], ids [1, 2].
    /// </summary>
    [Fact]
    public void Full_history_matches_the_hand_computation()
    {
        var weights = Tiny();
        var output = SasRecReference.Forward(weights, [[1, 2]]);

        // x0 = E1·√2 + P0 = [√2 + 0.3, 0.7]; x1 = E2·√2 + P1 = [1, √2]. q1 = LN(x1) = [−1, 1]; K = V = x.
        double[] x0 = [Sqrt2 + 0.3, 0.7];
        double[] x1 = [1, Sqrt2];
        double s10 = (-x0[0] + x0[1]) / Sqrt2;
        double s11 = (-x1[0] + x1[1]) / Sqrt2;
        double a0 = 1 / (1 + Math.Exp(s11 - s10));
        double a1 = 1 - a0;

        // Residual q1 + a0·x0 + a1·x1: its first entry is below its second, so the feed-forward norm gives [−1, 1];
        // relu([−1, 1])·W2 + b2 = [0.5, −3]; x = [−0.5, −2]; final norm [1, −1]·[2, 1] + [0, 0.5] = [2, −0.5].
        Assert.True(-1 + (a0 * x0[0]) + (a1 * x1[0]) < 1 + (a0 * x0[1]) + (a1 * x1[1]));
        AssertClose([2, -0.5], output.Hidden);
        AssertClose([0, 2, -0.5], output.Scores);
        AssertClose([a0, a1], output.Attention);

        // Query 0 sees only key 0 (key 1 is in its future).
        AssertClose([1, 0, a0, a1], output.AttentionMaps);
        Assert.Equal(0f, output.AttentionMaps[1]);
    }

    [Fact]
    public void Padding_is_masked_out_of_the_input_but_still_attended_as_in_the_official_code()
    {
        var weights = Tiny();
        var output = SasRecReference.Forward(weights, [[2]]);

        // ids [0, 2]: x0 = 0 (masked, although P0 ≠ 0), x1 = [1, √2]; K0 = V0 = 0 so s10 = 0; s11 = (√2 − 1)/√2.
        double s11 = (Sqrt2 - 1) / Sqrt2;
        double a0 = 1 / (1 + Math.Exp(s11));
        AssertClose([2, -0.5], output.Hidden);
        AssertClose([0, 2, -0.5], output.Scores);
        AssertClose([a0, 1 - a0], output.Attention);
    }

    [Fact]
    public void Empty_history_gives_the_final_norm_bias()
    {
        var output = SasRecReference.Forward(Tiny(), [[]]);

        // Everything is zero: equal attention, the feed-forward output is masked away, LN(0) = bias.
        AssertClose([0, 0.5], output.Hidden);
        AssertClose([0, 0, 0.5], output.Scores);
        AssertClose([0.5, 0.5], output.Attention);
    }

    [Fact]
    public void A_longer_history_reads_only_its_last_items()
    {
        var weights = Tiny();
        var truncated = SasRecReference.Forward(weights, [[2, 1, 2, 1, 2]]);
        var last = SasRecReference.Forward(weights, [[1, 2]]);
        Assert.Equal(last.Scores, truncated.Scores);
        Assert.Equal(last.Attention, truncated.Attention);
    }

    [Fact]
    public void Attention_rows_sum_to_one_and_never_look_ahead()
    {
        var weights = SasRecModels.Small(seed: 3);
        var histories = SasRecModels.Histories(weights, 30, seed: 4);
        var output = SasRecReference.Forward(weights, histories);
        int length = weights.MaxLength;
        for (int b = 0; b < histories.Count; b++)
        {
            Assert.Equal(1.0, output.Attention.AsSpan(b * length, length).ToArray().Sum(v => (double)v), 5);
            Assert.All(output.Attention.AsSpan(b * length, length).ToArray(), v => Assert.InRange(v, 0f, 1f));
            for (int j = 0; j < weights.Heads; j++)
            {
                for (int i = 0; i < length; i++)
                {
                    var row = output.AttentionMaps.AsSpan((((b * weights.Heads) + j) * length + i) * length, length).ToArray();
                    Assert.Equal(1.0, row.Sum(v => (double)v), 5);
                    Assert.All(row[(i + 1)..], v => Assert.Equal(0f, v));
                }
            }
        }
    }

    [Fact]
    public void Future_items_do_not_change_earlier_positions_and_the_batch_rows_are_independent()
    {
        var weights = SasRecModels.Small(seed: 5);
        var histories = SasRecModels.Histories(weights, 12, seed: 6);
        var batch = SasRecReference.Forward(weights, histories);
        for (int b = 0; b < histories.Count; b++)
        {
            var alone = SasRecReference.Forward(weights, [histories[b]]);
            Assert.Equal(alone.Scores, batch.Scores.AsSpan(b * (weights.ItemCount + 1), weights.ItemCount + 1).ToArray());
        }

        // Changing only the most recent item leaves every earlier query row of the attention maps identical (causality).
        var shortRun = SasRecReference.Forward(weights, SasRecReference.LeftPad([7, 9, 11, 13, 15, 17, 19, 21], weights.MaxLength));
        var changed = SasRecReference.Forward(weights, SasRecReference.LeftPad([7, 9, 11, 13, 15, 17, 19, 42], weights.MaxLength));
        int l = weights.MaxLength;
        for (int j = 0; j < weights.Heads; j++)
        {
            for (int i = 0; i < l - 1; i++)
            {
                int at = ((j * l) + i) * l;
                Assert.Equal(shortRun.AttentionMaps.AsSpan(at, l).ToArray(), changed.AttentionMaps.AsSpan(at, l).ToArray());
            }
        }

        Assert.NotEqual(shortRun.Scores, changed.Scores);
    }

    [Fact]
    public void Bad_ids_and_bad_weights_are_refused()
    {
        var weights = Tiny();
        Assert.Throws<ArgumentOutOfRangeException>(() => SasRecReference.Forward(weights, [[3]]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SasRecReference.Forward(weights, [[-1]]));
        Assert.Throws<ArgumentException>(() => SasRecReference.Forward(weights, new long[] { 1, 2, 0 }));
        var broken = new SasRecWeights
        {
            ItemCount = weights.ItemCount,
            MaxLength = weights.MaxLength,
            Dimensions = weights.Dimensions,
            Heads = weights.Heads,
            ItemEmbedding = weights.ItemEmbedding,
            PositionEmbedding = [1f],
            Blocks = weights.Blocks,
            FinalNormScale = weights.FinalNormScale,
            FinalNormBias = weights.FinalNormBias,
        };
        var error = Assert.Throws<InvalidDataException>(() => SasRecReference.Forward(broken, [[1]]));
        Assert.Contains("PositionEmbedding", error.Message, StringComparison.Ordinal);
    }

    /// <summary>2 items, L 2, d 2, 1 head, 1 block; identity projections except the second feed-forward layer.</summary>
    internal static SasRecWeights Tiny()
    {
        float[] identity = [1, 0, 0, 1];
        return new SasRecWeights
        {
            ItemCount = 2,
            MaxLength = 2,
            Dimensions = 2,
            Heads = 1,
            ItemEmbedding = [0, 0, 1, 0, 0, 1],
            PositionEmbedding = [0.3f, 0.7f, 1, 0],
            FinalNormScale = [2, 1],
            FinalNormBias = [0, 0.5f],
            Blocks =
            [
                new SasRecBlockWeights
                {
                    AttentionNormScale = [1, 1],
                    AttentionNormBias = [0, 0],
                    Query = identity,
                    QueryBias = [0, 0],
                    Key = identity,
                    KeyBias = [0, 0],
                    Value = identity,
                    ValueBias = [0, 0],
                    Output = identity,
                    OutputBias = [0, 0],
                    FeedForwardNormScale = [1, 1],
                    FeedForwardNormBias = [0, 0],
                    FeedForward1 = identity,
                    FeedForward1Bias = [0, 0],
                    FeedForward2 = [1, 0, 0, -3],
                    FeedForward2Bias = [0.5f, 0],
                },
            ],
        };
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < Tolerance, $"[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }
}
