using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Scoring;
using Xunit.Abstractions;

namespace EdgeProfile.Models.Tests;

public sealed class OnnxScorerTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("edgeprofile-scorer-");

    public void Dispose() => dir.Delete(recursive: true);

    [Fact]
    public void Truncated_file_is_refused_naming_the_file()
    {
        var bytes = OnnxExporter.Export(RandomModels.Mmoe());
        string path = Path.Combine(dir.FullName, "truncated.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var ex = Assert.Throws<InvalidDataException>(() => OnnxScorer.Load(path));
        output.WriteLine(ex.Message);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("not a valid ONNX model", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_and_empty_files_are_refused_naming_the_file()
    {
        string garbage = Path.Combine(dir.FullName, "garbage.onnx");
        var noise = new byte[4096];
        new Random(7).NextBytes(noise);
        File.WriteAllBytes(garbage, noise);
        var ex = Assert.Throws<InvalidDataException>(() => OnnxScorer.Load(garbage));
        output.WriteLine(ex.Message);
        Assert.Contains(garbage, ex.Message, StringComparison.Ordinal);

        string empty = Path.Combine(dir.FullName, "empty.onnx");
        File.WriteAllBytes(empty, []);
        ex = Assert.Throws<InvalidDataException>(() => OnnxScorer.Load(empty));
        Assert.Equal($"{empty}: the model is empty (0 bytes)", ex.Message);

        Assert.Throws<FileNotFoundException>(() => OnnxScorer.Load(Path.Combine(dir.FullName, "missing.onnx")));
    }

    [Fact]
    public void Model_of_the_wrong_width_is_refused_with_both_widths()
    {
        string path = Path.Combine(dir.FullName, "model.onnx");
        File.WriteAllBytes(path, OnnxExporter.Export(RandomModels.Mmoe()));
        var expected = RandomModels.FeatureNames(19);

        var ex = Assert.Throws<InvalidDataException>(() => OnnxScorer.Load(path, expected));
        output.WriteLine(ex.Message);
        Assert.StartsWith($"{path}: input 'features' has width 20, but 19 features are expected", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Model_with_other_feature_names_is_refused_naming_the_first_difference()
    {
        string path = Path.Combine(dir.FullName, "model.onnx");
        File.WriteAllBytes(path, OnnxExporter.Export(RandomModels.Mmoe()));
        var expected = RandomModels.FeatureNames(20).ToArray();
        (expected[4], expected[5]) = (expected[5], expected[4]);

        var ex = Assert.Throws<InvalidDataException>(() => OnnxScorer.Load(path, expected));
        Assert.Equal($"{path}: feature 4 is 'f04' in the model but 'f05' is expected", ex.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Single_row_path_allocates_nothing_per_call(bool quantized)
    {
        var weights = RandomModels.Mmoe();
        var rows = RandomModels.Rows(weights, 100, seed: 3);
        using var scorer = OnnxScorer.Load(OnnxExporter.Export(weights, new ExportOptions { Int8 = quantized }), weights.Spec.Features);
        using var row = scorer.CreateRowScorer();
        var destination = new float[scorer.OutputWidth];
        for (int i = 0; i < 200; i++)
        {
            row.Score(rows.AsSpan((i % 100) * 20, 20), destination);
            scorer.Score(rows.AsSpan((i % 100) * 20, 20), destination);
        }

        const int calls = 5000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++)
        {
            row.Score(rows.AsSpan((i % 100) * 20, 20), destination);
        }

        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        long rowBytes = GC.GetAllocatedBytesForCurrentThread() - before;

        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            scorer.Score(rows.AsSpan((i % 100) * 20, 20), destination);
        }

        long pooledBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"single-row MMoE {(quantized ? "int8" : "fp32")}: {elapsed.TotalMicroseconds / calls:F1} µs/call; managed bytes over {calls} calls: row scorer {rowBytes}, pooled {pooledBytes}");

        // Less than one byte per call means nothing is allocated per call (measured: 0).
        Assert.True(rowBytes < calls, $"row scorer allocated {rowBytes} bytes over {calls} calls");
        Assert.True(pooledBytes < calls, $"pooled Score allocated {pooledBytes} bytes over {calls} calls");
    }

    [Fact]
    public void Model_with_another_input_name_is_refused_naming_it()
    {
        var model = EdgeProfile.Models.Onnx.Proto.ModelProto.Parser.ParseFrom(OnnxExporter.Export(RandomModels.LogisticRegression()));
        model.Graph.Input[0].Name = "x";
        foreach (var node in model.Graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == OnnxExporter.InputName)
                {
                    node.Input[i] = "x";
                }
            }
        }

        var ex = Assert.Throws<InvalidDataException>(() => OnnxScorer.Load(Google.Protobuf.MessageExtensions.ToByteArray(model), source: "renamed.onnx"));
        Assert.Equal("renamed.onnx: expected one input named 'features', found [x]", ex.Message);
    }

    [Fact]
    public void Concurrent_single_row_scores_match_batch_scores()
    {
        var weights = RandomModels.Mmoe();
        const int count = 2000;
        var rows = RandomModels.Rows(weights, count, seed: 9);
        using var scorer = OnnxScorer.Load(OnnxExporter.Export(weights), weights.Spec.Features);
        var batch = scorer.ScoreBatch(rows);
        var results = new float[count][];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, r => results[r] = scorer.Score(rows.AsSpan(r * 20, 20)));

        for (int r = 0; r < count; r++)
        {
            int offset = 0;
            for (int t = 0; t < batch.Length; t++)
            {
                int width = scorer.Outputs[t].Width;
                for (int j = 0; j < width; j++)
                {
                    Assert.Equal(batch[t][(r * width) + j], results[r][offset + j], 1e-6f);
                }

                offset += width;
            }
        }
    }

    [Fact]
    public void Empty_batch_returns_empty_outputs_and_ragged_batch_is_refused()
    {
        using var scorer = OnnxScorer.Load(OnnxExporter.Export(RandomModels.LogisticRegression()));
        Assert.All(scorer.ScoreBatch([]), o => Assert.Empty(o));
        var ex = Assert.Throws<ArgumentException>(() => scorer.ScoreBatch(new float[21]));
        Assert.Contains("not a multiple of the 20 features", ex.Message, StringComparison.Ordinal);
    }
}
