using EdgeProfile.Models.Explaining;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Onnx.Proto;
using EdgeProfile.Models.Scoring;
using Google.Protobuf;
using Xunit.Abstractions;

namespace EdgeProfile.Models.Tests.Explaining;

public sealed class OnnxWeightsReaderTests(ITestOutputHelper output)
{
    public static TheoryData<string> Architectures => new()
    {
        "Mmoe", "MmoeDeep", "MmoeWithoutExpertLayers", "SharedBottom", "SingleTaskMlp", "LogisticRegression",
        "Mmoe+log1p", "MmoeWithoutExpertLayers+log1p", "LogisticRegression+log1p",
    };

    public static TheoryData<string, bool, Int8WeightType, bool> Int8Cases()
    {
        var data = new TheoryData<string, bool, Int8WeightType, bool>();
        foreach (var name in new[] { "Mmoe", "MmoeDeep", "MmoeWithoutExpertLayers", "SharedBottom", "SingleTaskMlp", "LogisticRegression+log1p" })
        {
            foreach (bool perColumn in new[] { false, true })
            {
                data.Add(name, perColumn, Int8WeightType.Offset128, false);
                data.Add(name, perColumn, Int8WeightType.ZeroCentered, false);
                data.Add(name, perColumn, Int8WeightType.Offset128, true);
            }
        }

        return data;
    }

    /// <summary>The architectures by name; "+log1p" flags every third feature.</summary>
    public static ModelWeights Model(string name)
    {
        bool log1p = name.EndsWith("+log1p", StringComparison.Ordinal);
        var weights = name.Split('+')[0] switch
        {
            "Mmoe" => RandomModels.Mmoe(),
            "MmoeDeep" => RandomModels.MmoeDeep(),
            "MmoeWithoutExpertLayers" => RandomModels.MmoeWithoutExpertLayers(),
            "SharedBottom" => RandomModels.SharedBottom(),
            "SingleTaskMlp" => RandomModels.SingleTaskMlp(),
            "LogisticRegression" => RandomModels.LogisticRegression(),
            _ => throw new ArgumentException(name, nameof(name)),
        };
        return log1p ? weights with { Log1p = [.. Enumerable.Range(0, weights.Spec.Inputs).Select(i => i % 3 == 0)] } : weights;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Fp32_export_reads_back_bit_for_bit(string name)
    {
        var original = Model(name);
        var bytes = OnnxExporter.Export(original);

        var read = OnnxWeightsReader.Read(bytes);

        Assert.False(OnnxWeightsReader.IsQuantized(bytes));
        AssertSpecEqual(original, read);
        AssertBits(original.Mean, read.Mean, "mean");
        AssertBits(original.Std, read.Std, "std");
        for (int e = 0; e < original.Experts.Count; e++)
        {
            for (int l = 0; l < original.Experts[e].Count; l++)
            {
                AssertLayerBits(original.Experts[e][l], read.Experts[e][l], $"expert {e} layer {l}");
            }
        }

        for (int t = 0; t < original.Towers.Count; t++)
        {
            for (int l = 0; l < original.Towers[t].Count; l++)
            {
                AssertLayerBits(original.Towers[t][l], read.Towers[t][l], $"tower {t} layer {l}");
            }
        }

        Assert.Equal(original.Gates.Count, read.Gates.Count);
        for (int t = 0; t < original.Gates.Count; t++)
        {
            if (original.Spec.ExpertHidden.Count == 0)
            {
                // Not exported (the gate cannot change the mixture): read back as zeros of the right shape.
                Assert.Equal((original.Spec.Inputs, original.Spec.Experts), (read.Gates[t].In, read.Gates[t].Out));
                Assert.All(read.Gates[t].W, w => Assert.Equal(0f, w));
                Assert.All(read.Gates[t].B, b => Assert.Equal(0f, b));
            }
            else
            {
                AssertLayerBits(original.Gates[t], read.Gates[t], $"gate {t}");
            }
        }
    }

    [Fact]
    public void Read_model_scores_like_the_original()
    {
        // The zero gates of a model without expert layers compute the same function (up to rounding in the mixture).
        var original = Model("MmoeWithoutExpertLayers+log1p");
        var read = OnnxWeightsReader.Read(OnnxExporter.Export(original));
        var a = new Reference.ReferenceModel(original);
        var b = new Reference.ReferenceModel(read);
        var rows = RandomModels.Rows(original, 10, 3);
        for (int r = 0; r < 10; r++)
        {
            var x = rows.AsSpan(r * 20, 20);
            var expected = a.Forward(x).SelectMany(v => v).ToArray();
            var actual = b.Forward(x).SelectMany(v => v).ToArray();
            for (int o = 0; o < expected.Length; o++)
            {
                // The reference mixes Σ_e gate_e · z with gates 1/3 each: equal up to rounding.
                Assert.Equal(expected[o], actual[o], 1e-12);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Int8Cases))]
    public void Int8_export_reads_back_within_half_a_step_and_scores_like_onnx_runtime(string name, bool perColumn, Int8WeightType type, bool resigned)
    {
        var original = Model(name);
        var bytes = OnnxExporter.Export(original, new ExportOptions { Int8 = true, Int8PerColumn = perColumn, Int8Weights = type });
        if (resigned)
        {
            bytes = Int8Kernels.ToSignedWeights(bytes, out int rewritten);
            Assert.True(rewritten > 0 || type == Int8WeightType.ZeroCentered);
        }

        var read = OnnxWeightsReader.Read(bytes, "int8.onnx");

        Assert.True(OnnxWeightsReader.IsQuantized(bytes));
        AssertSpecEqual(original, read);
        AssertBits(original.Mean, read.Mean, "mean");
        AssertBits(original.Std, read.Std, "std");
        var spec = original.Spec;
        for (int l = 0; l < spec.ExpertHidden.Count; l++)
        {
            // Per-tensor scales cover one exported tensor: all experts' layer l (or the single expert's).
            var group = original.Experts.Select(e => e[l]).ToList();
            for (int e = 0; e < spec.Experts; e++)
            {
                AssertWithinHalfStep(group[e], read.Experts[e][l], perColumn, group, $"expert {e} layer {l}");
            }
        }

        for (int t = 0; t < spec.Tasks.Count; t++)
        {
            if (spec.Experts > 1 && spec.ExpertHidden.Count > 0)
            {
                AssertWithinHalfStep(original.Gates[t], read.Gates[t], perColumn, [original.Gates[t]], $"gate {t}");
            }

            for (int l = 0; l < original.Towers[t].Count; l++)
            {
                AssertWithinHalfStep(original.Towers[t][l], read.Towers[t][l], perColumn, [original.Towers[t][l]], $"tower {t} layer {l}");
            }
        }

        // The dequantised model in double vs ONNX Runtime running the int8 file one row per call.
        var function = new MmoeFunction(read);
        using var scorer = OnnxScorer.Load(bytes, spec.Features, signedInt8Kernels: false);
        var rows = RandomModels.Rows(original, 50, 11);
        var mine = new double[50 * function.Outputs];
        function.Evaluate([.. rows.Select(v => (double)v)], mine);
        double gap = 0;
        for (int r = 0; r < 50; r++)
        {
            var theirs = scorer.Score(rows.AsSpan(r * spec.Inputs, spec.Inputs));
            for (int o = 0; o < function.Outputs; o++)
            {
                gap = Math.Max(gap, Math.Abs(theirs[o] - mine[(r * function.Outputs) + o]));
            }
        }

        output.WriteLine($"{name} int8 {(perColumn ? "per-column" : "per-tensor")} {type}{(resigned ? " re-signed" : "")}: largest |MmoeFunction(dequantised) − ORT int8| = {gap:G4}");
        Assert.True(gap < 0.05, $"largest gap {gap}");
    }

    [Fact]
    public void Garbage_and_empty_bytes_are_refused_naming_the_source()
    {
        var ex = Assert.Throws<InvalidDataException>(() => OnnxWeightsReader.Read([1, 2, 3, 4, 5, 200, 7], "garbage.onnx"));
        Assert.StartsWith("garbage.onnx: ", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<InvalidDataException>(() => OnnxWeightsReader.Read([], "empty.onnx"));
        Assert.Equal("empty.onnx: the model is empty (0 bytes)", ex.Message);

        var bytes = OnnxExporter.Export(RandomModels.Mmoe());
        Assert.Throws<InvalidDataException>(() => OnnxWeightsReader.Read(bytes[..(bytes.Length / 2)], "truncated.onnx"));
    }

    [Theory]
    [InlineData(OnnxMetadataKeys.Features)]
    [InlineData(OnnxMetadataKeys.Tasks)]
    [InlineData(OnnxMetadataKeys.Architecture)]
    public void Model_without_exporter_metadata_is_refused_naming_the_key(string key)
    {
        var model = ModelProto.Parser.ParseFrom(OnnxExporter.Export(RandomModels.Mmoe()));
        var entry = model.MetadataProps.Single(p => p.Key == key);
        model.MetadataProps.Remove(entry);

        var ex = Assert.Throws<InvalidDataException>(() => OnnxWeightsReader.Read(model.ToByteArray(), "foreign.onnx"));

        Assert.Contains("foreign.onnx", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"metadata '{key}' is missing", ex.Message, StringComparison.Ordinal);
        Assert.False(OnnxWeightsReader.TryRead(model.ToByteArray(), out var weights, out var problem));
        Assert.Null(weights);
        Assert.Contains(key, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/std/mean", false)]
    [InlineData("/experts/l0/W", false)]
    [InlineData("/task1/gate/W", false)]
    [InlineData("/task2/tower/out/B", false)]
    [InlineData("/experts/l0/Wscale", true)]
    [InlineData("/task0/tower/l0/Wzp", true)]
    public void Model_without_an_initializer_is_refused_naming_it(string name, bool quantized)
    {
        var model = OnnxExporter.BuildModel(RandomModels.Mmoe(), new ExportOptions { Int8 = quantized });
        model.Graph.Initializer.Remove(model.Graph.Initializer.Single(t => t.Name == name));

        var ex = Assert.Throws<InvalidDataException>(() => OnnxWeightsReader.Read(model.ToByteArray(), "broken.onnx"));

        Assert.StartsWith("broken.onnx: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'{name}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Initializer_of_the_wrong_shape_or_type_is_refused()
    {
        var model = OnnxExporter.BuildModel(RandomModels.Mmoe());
        var mean = model.Graph.Initializer.Single(t => t.Name == "/std/mean");
        mean.Dims[0] = 19;
        var ex = Assert.Throws<InvalidDataException>(() => OnnxWeightsReader.Read(model.ToByteArray(), "shape.onnx"));
        Assert.Contains("'/std/mean'", ex.Message, StringComparison.Ordinal);

        model = OnnxExporter.BuildModel(RandomModels.Mmoe());
        model.Graph.Initializer.Single(t => t.Name == "/std/std").DataType = (int)TensorProto.Types.DataType.Double;
        ex = Assert.Throws<InvalidDataException>(() => OnnxWeightsReader.Read(model.ToByteArray(), "type.onnx"));
        Assert.Contains("'/std/std'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Typed_fields_are_read_like_raw_data()
    {
        // Other writers store floats in float_data and 8-bit integers in int32_data rather than raw_data.
        var original = RandomModels.Mmoe();
        var fp32 = OnnxExporter.BuildModel(original);
        var int8 = OnnxExporter.BuildModel(original, new ExportOptions { Int8 = true, Int8PerColumn = true, Int8Weights = Int8WeightType.ZeroCentered });
        var expectedFp32 = OnnxWeightsReader.Read(fp32.ToByteArray());
        var expectedInt8 = OnnxWeightsReader.Read(int8.ToByteArray());
        foreach (var tensor in fp32.Graph.Initializer.Concat(int8.Graph.Initializer))
        {
            var raw = tensor.RawData.ToByteArray();
            switch ((TensorProto.Types.DataType)tensor.DataType)
            {
                case TensorProto.Types.DataType.Float:
                    tensor.FloatData.AddRange(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).ToArray());
                    break;
                case TensorProto.Types.DataType.Int8:
                    tensor.Int32Data.AddRange(raw.Select(b => (int)unchecked((sbyte)b)));
                    break;
                case TensorProto.Types.DataType.Uint8:
                    tensor.Int32Data.AddRange(raw.Select(b => (int)b));
                    break;
                default:
                    continue;
            }

            tensor.RawData = ByteString.Empty;
        }

        AssertSameWeights(expectedFp32, OnnxWeightsReader.Read(fp32.ToByteArray()));
        AssertSameWeights(expectedInt8, OnnxWeightsReader.Read(int8.ToByteArray()));
    }

    private static void AssertSameWeights(ModelWeights expected, ModelWeights actual)
    {
        AssertSpecEqual(expected, actual);
        AssertBits(expected.Mean, actual.Mean, "mean");
        var a = expected.Experts.SelectMany(e => e).Concat(expected.Gates).Concat(expected.Towers.SelectMany(t => t)).ToList();
        var b = actual.Experts.SelectMany(e => e).Concat(actual.Gates).Concat(actual.Towers.SelectMany(t => t)).ToList();
        Assert.Equal(a.Count, b.Count);
        for (int n = 0; n < a.Count; n++)
        {
            AssertLayerBits(a[n], b[n], $"layer {n}");
        }
    }

    private static void AssertSpecEqual(ModelWeights original, ModelWeights read)
    {
        var (a, b) = (original.Spec, read.Spec);
        Assert.Equal(a.Features, b.Features);
        Assert.Equal(a.Experts, b.Experts);
        Assert.Equal(a.ExpertHidden, b.ExpertHidden);
        Assert.Equal(a.TowerHidden, b.TowerHidden);
        Assert.Equal(a.Tasks.Count, b.Tasks.Count);
        for (int t = 0; t < a.Tasks.Count; t++)
        {
            Assert.Equal(a.Tasks[t].Name, b.Tasks[t].Name);
            Assert.Equal(a.Tasks[t].Kind, b.Tasks[t].Kind);
            Assert.Equal(a.Tasks[t].Labels, b.Tasks[t].Labels);
        }

        if (original.Log1p is { } flags && flags.Any(f => f))
        {
            Assert.Equal(flags, read.Log1p);
        }
        else
        {
            Assert.Null(read.Log1p);
        }
    }

    private static void AssertLayerBits(DenseWeights a, DenseWeights b, string name)
    {
        Assert.Equal((a.In, a.Out), (b.In, b.Out));
        AssertBits(a.W, b.W, name + " W");
        AssertBits(a.B, b.B, name + " B");
    }

    private static void AssertBits(float[] a, float[] b, string name)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(a[i]) == BitConverter.SingleToInt32Bits(b[i]), $"{name}[{i}]: {a[i]} vs {b[i]}");
        }
    }

    /// <summary>|w − read| ≤ scale/2, the scale being max|w|/127 over the column (per-column) or over the exported
    /// tensor (per-tensor: all of <paramref name="tensor"/>); biases stay fp32.</summary>
    private static void AssertWithinHalfStep(DenseWeights original, DenseWeights read, bool perColumn, IReadOnlyList<DenseWeights> tensor, string name)
    {
        Assert.Equal((original.In, original.Out), (read.In, read.Out));
        AssertBits(original.B, read.B, name + " B");
        float tensorMax = tensor.SelectMany(l => l.W).Max(MathF.Abs);
        for (int o = 0; o < original.Out; o++)
        {
            float max = perColumn ? Enumerable.Range(0, original.In).Max(i => MathF.Abs(original.W[(i * original.Out) + o])) : tensorMax;
            double scale = max > 0 ? max / 127.0 : 1;
            for (int i = 0; i < original.In; i++)
            {
                int n = (i * original.Out) + o;
                double error = Math.Abs(original.W[n] - read.W[n]);
                Assert.True(error <= (scale / 2) * (1 + 1e-5), $"{name} W[{i},{o}]: {original.W[n]} read as {read.W[n]} (scale {scale})");
            }
        }
    }
}
