using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Onnx.Proto;
using EdgeProfile.Models.Scoring;
using EdgeProfile.Models.Sequences;
using EdgeProfile.Semantic.Sequences;
using Google.Protobuf;
using Xunit.Abstractions;

namespace EdgeProfile.Models.Tests.Sequences;

/// <summary>SASRec written to ONNX by hand and run by ONNX Runtime, against the plain C# reference.</summary>
public sealed class SasRecOnnxTests(ITestOutputHelper output)
{
    private const double Fp32Tolerance = 1e-5;

    public static TheoryData<int, int, int> Shapes => new()
    {
        { 2, 2, 1 },   // blocks, heads, seed: the shape the tests are specified with
        { 1, 1, 2 },
        { 3, 4, 3 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Fp32_export_matches_the_reference(int blocks, int heads, int seed)
    {
        var weights = SasRecModels.Small(seed, blocks, heads);
        var histories = SasRecModels.Histories(weights, 60, seed: 100 + seed);
        var expected = SasRecReference.Forward(weights, histories);
        using var scorer = SasRecOnnxScorer.Load(SasRecOnnxExporter.Export(weights, quantize: false), "sasrec fp32");
        Assert.False(scorer.Quantized);
        Assert.Equal((50, 8, 16, heads), (scorer.ItemCount, scorer.MaxLength, scorer.Dimensions, scorer.Heads));

        var batch = scorer.InferBatch(histories);
        var single = new SasRecInference(histories.Count, new float[batch.Scores.Length], new float[batch.Hidden.Length], new float[batch.Attention.Length]);
        for (int b = 0; b < histories.Count; b++)
        {
            scorer.Infer(
                histories[b],
                single.Scores.AsSpan(b * (weights.ItemCount + 1), weights.ItemCount + 1),
                single.Hidden.AsSpan(b * weights.Dimensions, weights.Dimensions),
                single.Attention.AsSpan(b * weights.MaxLength, weights.MaxLength));
        }

        foreach (var (name, actual) in new[] { ("batch", batch), ("single", single) })
        {
            double scores = MaxAbsDiff(expected.Scores, actual.Scores);
            double hidden = MaxAbsDiff(expected.Hidden, actual.Hidden);
            double attention = MaxAbsDiff(expected.Attention, actual.Attention);
            output.WriteLine($"{blocks} blocks {heads} heads, {name}: max |onnx − reference| scores {scores:G3}, hidden {hidden:G3}, attention {attention:G3}");
            Assert.True(scores < Fp32Tolerance, $"{name}: scores differ by {scores:G3}");
            Assert.True(hidden < Fp32Tolerance, $"{name}: hidden differs by {hidden:G3}");
            Assert.True(attention < Fp32Tolerance, $"{name}: attention differs by {attention:G3}");
        }

        for (int b = 0; b < histories.Count; b++)
        {
            double sum = batch.Attention.AsSpan(b * weights.MaxLength, weights.MaxLength).ToArray().Sum(v => (double)v);
            Assert.Equal(1.0, sum, 5);
        }
    }

    [Fact]
    public void Both_exports_pass_the_onnx_checker_and_carry_the_metadata()
    {
        var weights = SasRecModels.Small();
        string directory = Directory.CreateTempSubdirectory("sasrec-onnx-").FullName;
        try
        {
            string fp32 = Path.Combine(directory, "sasrec-fp32.onnx");
            string int8 = Path.Combine(directory, "sasrec-int8.onnx");
            File.WriteAllBytes(fp32, SasRecOnnxExporter.Export(weights, quantize: false));
            File.WriteAllBytes(int8, SasRecOnnxExporter.Export(weights, quantize: true, new Dictionary<string, string> { ["training.window"] = "2026-10" }));
            output.WriteLine(OnnxChecker.CheckModels(fp32, int8));

            using var scorer = SasRecOnnxScorer.Load(int8);
            Assert.True(scorer.Quantized);
            Assert.Equal("sasrec", scorer.Metadata[SasRecOnnxExporter.KindKey]);
            Assert.Equal("8", scorer.Metadata[SasRecOnnxExporter.MaxLengthKey]);
            Assert.Equal("16", scorer.Metadata[SasRecOnnxExporter.DimensionsKey]);
            Assert.Equal("50", scorer.Metadata[SasRecOnnxExporter.ItemCountKey]);
            Assert.Equal("2", scorer.Metadata[SasRecOnnxExporter.HeadsKey]);
            Assert.Equal("true", scorer.Metadata[SasRecOnnxExporter.QuantizedKey]);
            Assert.Equal("2026-10", scorer.Metadata["training.window"]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Int8 against the fp32 reference. Measured (seeded, 200 histories, one call each): 50 items d 16 — scores max
    /// 0.040, mean 0.006 (a history's scores span ≈ 3), attention max 0.008, top-10 overlap 99.4%, top-1 97.5%, weights
    /// 3.74x smaller; 400 items d 32 — scores max 0.073, mean 0.010 (span ≈ 6), attention max 0.008, top-10 overlap
    /// 98.5%, top-1 98%, weights 3.75x smaller. One batch of 200: scores max 0.084 and 0.114. The bounds leave ≈2–3x room.
    /// </summary>
    [Theory]
    [InlineData(50, 16, 7)]
    [InlineData(400, 32, 7)]
    public void Int8_export_stays_close_ranks_alike_and_is_about_four_times_smaller(int itemCount, int dimensions, int seed)
    {
        var weights = SasRecModels.Random(itemCount, maxLength: 8, dimensions, heads: 2, blocks: 2, seed);
        var histories = SasRecModels.Histories(weights, 200, seed: 8);
        var expected = SasRecReference.Forward(weights, histories);
        byte[] fp32Bytes = SasRecOnnxExporter.Export(weights, quantize: false);
        byte[] int8Bytes = SasRecOnnxExporter.Export(weights, quantize: true);
        var fp32 = OnnxModelStats.Measure(fp32Bytes);
        var int8 = OnnxModelStats.Measure(int8Bytes);
        using var scorer = SasRecOnnxScorer.Load(int8Bytes, "sasrec int8");

        int items = weights.ItemCount + 1;
        var scores = new float[items];
        double maxScore = 0, sumScore = 0, maxHidden = 0, maxAttention = 0, overlap10 = 0, top1 = 0, spread = 0;
        for (int b = 0; b < histories.Count; b++)
        {
            var want = expected.Scores.AsSpan(b * items, items).ToArray();
            var hidden = new float[weights.Dimensions];
            var attention = new float[weights.MaxLength];
            scorer.Infer(histories[b], scores, hidden, attention);
            for (int i = 1; i < items; i++)
            {
                double diff = Math.Abs(want[i] - scores[i]);
                maxScore = Math.Max(maxScore, diff);
                sumScore += diff;
            }

            maxHidden = Math.Max(maxHidden, MaxAbsDiff(expected.Hidden.AsSpan(b * weights.Dimensions, weights.Dimensions).ToArray(), hidden));
            maxAttention = Math.Max(maxAttention, MaxAbsDiff(expected.Attention.AsSpan(b * weights.MaxLength, weights.MaxLength).ToArray(), attention));
            var wantTop = TopItems(want, 10);
            var gotTop = TopItems(scores, 10);
            overlap10 += wantTop.Intersect(gotTop).Count() / 10.0;
            top1 += wantTop[0] == gotTop[0] ? 1 : 0;
            spread += want.Skip(1).Max() - want.Skip(1).Min();
        }

        int n = histories.Count;
        double meanScore = sumScore / (n * (items - 1));
        double ratio = (double)fp32.WeightBytes / int8.WeightBytes;
        output.WriteLine(
            $"int8 vs reference over {n} histories: scores max {maxScore:G3} mean {meanScore:G3} (score range per history {spread / n:G3}), " +
            $"hidden max {maxHidden:G3}, attention max {maxAttention:G3}; top-10 overlap {overlap10 / n:P1}, top-1 agreement {top1 / n:P1}; " +
            $"weight bytes {fp32.WeightBytes} → {int8.WeightBytes} ({ratio:F2}x), file {fp32.FileBytes} → {int8.FileBytes} bytes");

        Assert.True(maxScore < 0.25, $"int8 scores differ by up to {maxScore:G3}");
        Assert.True(meanScore < 0.03, $"int8 scores differ by {meanScore:G3} on average");
        Assert.True(maxAttention < 0.05, $"int8 attention differs by up to {maxAttention:G3}");
        Assert.True(overlap10 / n >= 0.8, $"int8 top-10 overlaps the reference's by only {overlap10 / n:P1}");
        Assert.True(top1 / n >= 0.8, $"int8 top-1 agrees with the reference's for only {top1 / n:P1}");
        Assert.True(ratio >= 3.5, $"int8 weights are only {ratio:F2}x smaller ({fp32.WeightBytes} vs {int8.WeightBytes} bytes)");

        // Batched, every history shares one activation scale per tensor: still close, not identical.
        var batch = scorer.InferBatch(histories);
        double maxBatch = MaxAbsDiff(expected.Scores, batch.Scores);
        output.WriteLine($"int8 batch of {n}: scores max {maxBatch:G3}");
        Assert.True(maxBatch < 0.25, $"int8 batched scores differ by up to {maxBatch:G3}");

        // The signed-kernel re-encoding (applied on VNNI CPUs) changes no score.
        using var unsigned = SasRecOnnxScorer.Load(int8Bytes, "sasrec int8 u8", signedInt8Kernels: false);
        var unsignedScores = new float[items];
        for (int b = 0; b < 20; b++)
        {
            scorer.Infer(histories[b], scores, default, default);
            unsigned.Infer(histories[b], unsignedScores, default, default);
            Assert.Equal(unsignedScores, scores);
        }
    }

    [Fact]
    public void Corrupt_files_and_other_models_are_refused_with_clear_messages()
    {
        var weights = SasRecModels.Small();
        byte[] good = SasRecOnnxExporter.Export(weights, quantize: false);

        var empty = Assert.Throws<InvalidDataException>(() => SasRecOnnxScorer.Load([], "empty.onnx"));
        Assert.Contains("empty.onnx", empty.Message, StringComparison.Ordinal);

        var truncated = Assert.Throws<InvalidDataException>(() => SasRecOnnxScorer.Load(good[..(good.Length / 2)], "truncated.onnx"));
        Assert.Contains("truncated.onnx: not a valid ONNX model", truncated.Message, StringComparison.Ordinal);

        var garbage = good.ToArray();
        new Random(1).NextBytes(garbage.AsSpan(0, 64));
        var corrupt = Assert.Throws<InvalidDataException>(() => SasRecOnnxScorer.Load(garbage, "garbage.onnx"));
        Assert.Contains("garbage.onnx", corrupt.Message, StringComparison.Ordinal);

        var mmoe = OnnxExporter.Export(RandomModels.Mmoe());
        var other = Assert.Throws<InvalidDataException>(() => SasRecOnnxScorer.Load(mmoe, "mmoe.onnx"));
        Assert.Contains("mmoe.onnx: not a SASRec model", other.Message, StringComparison.Ordinal);
        Assert.Contains(SasRecOnnxExporter.KindKey, other.Message, StringComparison.Ordinal);

        var relabelled = ModelProto.Parser.ParseFrom(good);
        relabelled.MetadataProps.Single(p => p.Key == SasRecOnnxExporter.MaxLengthKey).Value = "9";
        var shape = Assert.Throws<InvalidDataException>(() => SasRecOnnxScorer.Load(relabelled.ToByteArray(), "relabelled.onnx"));
        Assert.Contains("input 'item_ids' must be Int64 [batch, 9]", shape.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<FileNotFoundException>(() => SasRecOnnxScorer.Load(Path.Combine(Path.GetTempPath(), "no-such-sasrec.onnx")));
        Assert.Contains("no-such-sasrec.onnx", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_refuses_inconsistent_weights_and_reserved_metadata()
    {
        var weights = SasRecModels.Small(blocks: 1);
        var block = weights.Blocks[0];
        var broken = new SasRecWeights
        {
            ItemCount = weights.ItemCount,
            MaxLength = weights.MaxLength,
            Dimensions = weights.Dimensions,
            Heads = weights.Heads,
            ItemEmbedding = weights.ItemEmbedding,
            PositionEmbedding = weights.PositionEmbedding,
            FinalNormScale = weights.FinalNormScale,
            FinalNormBias = weights.FinalNormBias,
            Blocks =
            [
                new SasRecBlockWeights
                {
                    AttentionNormScale = block.AttentionNormScale, AttentionNormBias = block.AttentionNormBias,
                    Query = block.Query, QueryBias = block.QueryBias, Key = block.Key[..10], KeyBias = block.KeyBias,
                    Value = block.Value, ValueBias = block.ValueBias, Output = block.Output, OutputBias = block.OutputBias,
                    FeedForwardNormScale = block.FeedForwardNormScale, FeedForwardNormBias = block.FeedForwardNormBias,
                    FeedForward1 = block.FeedForward1, FeedForward1Bias = block.FeedForward1Bias,
                    FeedForward2 = block.FeedForward2, FeedForward2Bias = block.FeedForward2Bias,
                },
            ],
        };
        var error = Assert.Throws<InvalidDataException>(() => SasRecOnnxExporter.Export(broken, quantize: true));
        Assert.Contains("block 0 Key", error.Message, StringComparison.Ordinal);

        var reserved = Assert.Throws<InvalidDataException>(() =>
            SasRecOnnxExporter.Export(weights, quantize: false, new Dictionary<string, string> { [SasRecOnnxExporter.KindKey] = "x" }));
        Assert.Contains(SasRecOnnxExporter.KindKey, reserved.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scorer_serves_candidates_threads_and_the_evaluator()
    {
        var weights = SasRecModels.Small(seed: 9);
        var histories = SasRecModels.Histories(weights, 40, seed: 10);
        var expected = SasRecReference.Forward(weights, histories);
        using var scorer = SasRecOnnxScorer.Load(SasRecOnnxExporter.Export(weights, quantize: false));
        int items = weights.ItemCount + 1;

        int[] candidates = [5, 1, 50, 17, 17];
        var results = new float[histories.Count][];
        Parallel.For(0, histories.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, b =>
        {
            var scores = new float[candidates.Length];
            scorer.Score(histories[b], candidates, scores);
            results[b] = scores;
        });
        for (int b = 0; b < histories.Count; b++)
        {
            for (int i = 0; i < candidates.Length; i++)
            {
                Assert.True(Math.Abs(expected.Scores[(b * items) + candidates[i]] - results[b][i]) < Fp32Tolerance);
            }
        }

        using (var runner = scorer.CreateRunner())
        {
            runner.Run(histories[5]);
            Assert.True(MaxAbsDiff(expected.Scores.AsSpan(5 * items, items).ToArray(), runner.Scores.ToArray()) < Fp32Tolerance);
        }

        var buffer = new float[3];
        Assert.Throws<ArgumentOutOfRangeException>(() => scorer.Score([1, 2], [0], buffer));
        Assert.Throws<ArgumentOutOfRangeException>(() => scorer.Score([1, 51], [1], buffer));
        Assert.Throws<ArgumentException>(() => scorer.Score([1, 2], [1, 2, 3, 4], buffer));
        Assert.Throws<ArgumentException>(() => scorer.Infer([1], new float[10], default, default));

        // Only what was asked for is written.
        var hiddenOnly = new float[weights.Dimensions];
        scorer.Infer(histories[3], default, hiddenOnly, default);
        Assert.True(MaxAbsDiff(expected.Hidden.AsSpan(3 * weights.Dimensions, weights.Dimensions).ToArray(), hiddenOnly) < Fp32Tolerance);

        var data = SequenceDataset.FromSequences([.. histories.Where(h => h.Length >= 3)], weights.ItemCount);
        var serial = NextItemEvaluator.Evaluate(data, scorer, CandidateSet.AllItems);
        var parallel = NextItemEvaluator.Evaluate(data, scorer, CandidateSet.AllItems, threads: 2);
        Assert.Equal(serial, parallel);
        Assert.True(serial.Users > 0);
    }

    [Fact]
    public void Single_history_calls_allocate_nothing_once_warm()
    {
        var weights = SasRecModels.Small(seed: 11);
        using var scorer = SasRecOnnxScorer.Load(SasRecOnnxExporter.Export(weights, quantize: true));
        int[] history = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
        int[] candidates = [2, 7, 1, 8];
        var scores = new float[weights.ItemCount + 1];
        var hidden = new float[weights.Dimensions];
        var attention = new float[weights.MaxLength];
        var candidateScores = new float[candidates.Length];
        scorer.Infer(history, scores, hidden, attention);
        scorer.Score(history, candidates, candidateScores);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++)
        {
            scorer.Infer(history, scores, hidden, attention);
            scorer.Score(history, candidates, candidateScores);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"100 warm calls allocated {allocated} managed bytes");
        Assert.Equal(0, allocated);
    }

    private static int[] TopItems(float[] scores, int k) =>
        [.. Enumerable.Range(1, scores.Length - 1).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k)];

    private static double MaxAbsDiff(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            max = Math.Max(max, Math.Abs(expected[i] - actual[i]));
        }

        return max;
    }
}
