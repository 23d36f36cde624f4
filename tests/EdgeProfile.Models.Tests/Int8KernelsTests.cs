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

        // The loader runs signed weights only where they are exact (VNNI) and turns them back into unsigned ones
        // elsewhere, so on every CPU all three agree bit for bit.
        var expected = asWritten.ScoreBatch(rows);
        var actual = loaded.ScoreBatch(rows);
        var direct = rewritten.ScoreBatch(rows);
        for (var o = 0; o < expected.Length; o++)
        {
            Assert.Equal(expected[o], actual[o]);
            Assert.Equal(expected[o], direct[o]);
        }

        var width = weights.Spec.Inputs;
        for (var r = 0; r < 64; r++)
        {
            Assert.Equal(asWritten.Score(rows.AsSpan(r * width, width)), loaded.Score(rows.AsSpan(r * width, width)));
            Assert.Equal(asWritten.Score(rows.AsSpan(r * width, width)), rewritten.Score(rows.AsSpan(r * width, width)));
        }
    }

    [Fact]
    public void Signed_weights_turn_back_into_the_unsigned_file_and_unsigned_ones_are_left_alone()
    {
        var weights = RandomModels.MmoeDeep();
        var offset = OnnxExporter.Export(weights, new ExportOptions { Int8 = true });
        var layers = CountMatMulIntegers(offset);

        var back = Int8Kernels.ToUnsignedWeights(Int8Kernels.ToSignedWeights(offset, out _), out var rewritten);
        Assert.Equal(layers, rewritten);
        Assert.Equal(offset, back);

        // Zero-centred int8 weights (zero point 0) become uint8 with zero point 128; unsigned, fp32 and garbage stay.
        var zeroCentered = OnnxExporter.Export(weights, new ExportOptions { Int8 = true, Int8Weights = Int8WeightType.ZeroCentered });
        var unsigned = Int8Kernels.ToUnsignedWeights(zeroCentered, out rewritten);
        Assert.Equal(layers, rewritten);
        // Its zero points are all 128 now, so the forward rewrite applies to every layer again.
        Int8Kernels.ToSignedWeights(unsigned, out var again);
        Assert.Equal(layers, again);
        Assert.Same(offset, Int8Kernels.ToUnsignedWeights(offset, out var none));
        Assert.Equal(0, none);
        var fp32 = OnnxExporter.Export(weights);
        Assert.Same(fp32, Int8Kernels.ToUnsignedWeights(fp32, out none));
        byte[] garbage = [1, 2, 3, 250, 251];
        Assert.Same(garbage, Int8Kernels.ToUnsignedWeights(garbage, out none));

        // What the loader does on this CPU: signed weights are kept only where the signed kernels are exact.
        var forCpu = Onnx.Proto.ModelProto.Parser.ParseFrom(Int8Kernels.ForThisCpu(zeroCentered, preferSigned: true));
        var weightTypes = forCpu.Graph.Node.Where(n => n.OpType == "MatMulInteger")
            .Select(n => forCpu.Graph.Initializer.Single(t => t.Name == n.Input[1]).DataType).Distinct().ToList();
        var expected = (int)(Int8Kernels.SignedIsExact ? Onnx.Proto.TensorProto.Types.DataType.Int8 : Onnx.Proto.TensorProto.Types.DataType.Uint8);
        Assert.Equal([expected], weightTypes);
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
