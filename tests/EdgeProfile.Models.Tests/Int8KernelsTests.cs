using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Scoring;

namespace EdgeProfile.Models.Tests;

/// <summary>
/// The loader's switch of int8 weights to the u8·s8 kernels: it applies exactly to the exporter's Offset128 weights
/// and changes no score.
/// </summary>
public sealed class Int8KernelsTests
{
    [Fact]
    public void Offset128_weights_are_rewritten_once_per_dense_layer_and_nothing_else_is()
    {
        var weights = RandomModels.MmoeDeep();
        var offset = OnnxExporter.Export(weights, new ExportOptions { Int8 = true });
        var layers = CountMatMulIntegers(offset);
        Assert.True(layers > 5, $"{layers} MatMulInteger nodes");

        var signed = Int8Kernels.ToSignedWeights(offset, out var rewritten);
        Assert.Equal(layers, rewritten);
        Assert.Equal(offset.Length, signed.Length); // one byte per weight either way
        Assert.NotEqual(offset, signed);

        // Already signed, fp32, or not a model at all: returned as they are.
        var zeroCentered = OnnxExporter.Export(weights, new ExportOptions { Int8 = true, Int8Weights = Int8WeightType.ZeroCentered });
        Assert.Same(zeroCentered, Int8Kernels.ToSignedWeights(zeroCentered, out var none));
        Assert.Equal(0, none);
        var fp32 = OnnxExporter.Export(weights);
        Assert.Same(fp32, Int8Kernels.ToSignedWeights(fp32, out none));
        Assert.Equal(0, none);
        byte[] garbage = [1, 2, 3, 250, 251];
        Assert.Same(garbage, Int8Kernels.ToSignedWeights(garbage, out none));
    }

    [Fact]
    public void Scores_with_the_rewritten_weights_are_those_of_the_file_as_written()
    {
        var weights = RandomModels.MmoeDeep();
        var model = OnnxExporter.Export(weights, new ExportOptions { Int8 = true });
        var rows = RandomModels.Rows(weights, 512, seed: 11);

        using var asWritten = OnnxScorer.Load(model, source: "as written", signedInt8Kernels: false);
        using var loaded = OnnxScorer.Load(model, source: "default");
        using var rewritten = OnnxScorer.Load(Int8Kernels.ToSignedWeights(model, out _), source: "rewritten", signedInt8Kernels: false);

        // The default loader uses the rewrite only where it is exact (VNNI); then all three agree bit for bit, else
        // the default is the file as written.
        var expected = asWritten.ScoreBatch(rows);
        var actual = loaded.ScoreBatch(rows);
        for (var o = 0; o < expected.Length; o++)
        {
            Assert.Equal(expected[o], actual[o]);
        }

        if (Int8Kernels.SignedIsExact)
        {
            var direct = rewritten.ScoreBatch(rows);
            for (var o = 0; o < expected.Length; o++)
            {
                Assert.Equal(expected[o], direct[o]);
            }

            var width = weights.Spec.Inputs;
            for (var r = 0; r < 64; r++)
            {
                Assert.Equal(asWritten.Score(rows.AsSpan(r * width, width)), loaded.Score(rows.AsSpan(r * width, width)));
            }
        }
    }

    [Fact]
    public void Int8_scores_per_row_do_not_depend_on_the_other_rows_a_batch_does()
    {
        var weights = RandomModels.Mmoe();
        using var scorer = OnnxScorer.Load(OnnxExporter.Export(weights, new ExportOptions { Int8 = true }), source: "int8");
        var width = weights.Spec.Inputs;
        var rows = RandomModels.Rows(weights, 64, seed: 5);

        // The same rows with one extreme neighbour added: a batch shares one activation scale, rows do not.
        var extreme = rows.Concat(Enumerable.Repeat(1000f, width)).ToArray();
        var alone = scorer.ScoreRows(rows);
        var withNeighbour = scorer.ScoreRows(extreme);
        var batch = scorer.ScoreBatch(extreme);
        var batchMoved = false;
        for (var o = 0; o < alone.Length; o++)
        {
            var n = alone[o].Length;
            Assert.Equal(alone[o], withNeighbour[o].AsSpan(0, n).ToArray());
            batchMoved |= !alone[o].AsSpan().SequenceEqual(batch[o].AsSpan(0, n));
        }

        Assert.True(batchMoved, "an extreme row should change the other rows' int8 scores in one batch");

        // And a row scored alone through ScoreRows is what the single-row path serves.
        for (var r = 0; r < 8; r++)
        {
            var single = scorer.Score(rows.AsSpan(r * width, width));
            var offset = 0;
            for (var o = 0; o < alone.Length; o++)
            {
                var w = scorer.Outputs[o].Width;
                Assert.Equal(single.AsSpan(offset, w).ToArray(), alone[o].AsSpan(r * w, w).ToArray());
                offset += w;
            }
        }
    }

    private static int CountMatMulIntegers(byte[] model) =>
        Onnx.Proto.ModelProto.Parser.ParseFrom(model).Graph.Node.Count(n => n.OpType == "MatMulInteger");
}
