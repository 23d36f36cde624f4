using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Scoring;
using Xunit.Abstractions;

namespace EdgeProfile.Models.Tests;

public sealed class OnnxExportTests(ITestOutputHelper output)
{
    private const int Rows = 3000;

    [Theory]
    [MemberData(nameof(Models.All), MemberType = typeof(Models))]
    public void Fp32_export_matches_the_reference_forward_pass(string name)
    {
        var weights = Models.Get(name);
        var rows = RandomModels.Rows(weights, Rows, seed: 11);
        using var scorer = OnnxScorer.Load(OnnxExporter.Export(weights), weights.Spec.Features, name);

        var batched = Models.MaxAbsDiff(weights, scorer, rows, batch: 500);
        var single = Models.MaxAbsDiff(weights, scorer, rows.AsSpan(0, 300 * RandomModels.Features).ToArray(), batch: 1);
        output.WriteLine($"{name} fp32 max |onnx - reference| per task: batch [{Format(batched)}], single row [{Format(single)}]");

        Assert.All(batched.Concat(single), d => Assert.True(d < 1e-5, $"{name}: fp32 differs from the reference by {d:G3}"));
    }

    [Theory]
    [MemberData(nameof(Models.All), MemberType = typeof(Models))]
    public void Int8_export_stays_close_to_the_reference_and_is_smaller(string name)
    {
        var weights = Models.Get(name);
        var rows = RandomModels.Rows(weights, Rows, seed: 12);
        var fp32 = OnnxModelStats.Measure(OnnxExporter.Export(weights));
        foreach (var (perColumn, type) in new[] { (false, Int8WeightType.Offset128), (true, Int8WeightType.Offset128), (false, Int8WeightType.ZeroCentered) })
        {
            var bytes = OnnxExporter.Export(weights, new ExportOptions { Int8 = true, Int8PerColumn = perColumn, Int8Weights = type });
            var int8 = OnnxModelStats.Measure(bytes);
            using var scorer = OnnxScorer.Load(bytes, weights.Spec.Features);
            var (batched, batchedMean) = Models.AbsDiff(weights, scorer, rows, batch: 256);
            var single = Models.MaxAbsDiff(weights, scorer, rows.AsSpan(0, 300 * RandomModels.Features).ToArray(), batch: 1);
            double ratio = (double)fp32.WeightBytes / int8.WeightBytes;
            output.WriteLine(
                $"{name} int8 {(perColumn ? "per-column" : "per-tensor")} {type}: |onnx - reference| per task batch max [{Format(batched)}] mean [{Format(batchedMean)}], " +
                $"single row max [{Format(single)}]; weight bytes fp32 {fp32.WeightBytes} vs int8 {int8.WeightBytes} ({ratio:F2}x), " +
                $"file {fp32.FileBytes} vs {int8.FileBytes} bytes");
            for (int t = 0; t < weights.Spec.Tasks.Count; t++)
            {
                // The error is dominated by rounding each layer's input to 256 levels spread over the batch's range
                // (step ≈ range/255, so ±0.2% of the range per value), summed over ~20–50 products per layer; each
                // quantized layer on the path adds its own share, so the worst case grows with depth. Measured at the
                // worst of 3000 rows: ≤ 0.03 per layer on probabilities (a sigmoid's slope is ≤ 0.25) and ≤ 0.06 per
                // layer on the unsquashed regression output; on average ~0.004 and ~0.015 whatever the depth.
                var task = weights.Spec.Tasks[t];
                bool probability = task.Kind != TaskKind.Regression;
                int layers = weights.Spec.ExpertHidden.Count + weights.Spec.TowerHidden.Count + 1;
                double maxTolerance = layers * (probability ? 0.03 : 0.06);
                double meanTolerance = probability ? 0.006 : 0.025;
                double worst = Math.Max(batched[t], single[t]);
                Assert.True(worst < maxTolerance, $"{name} {task.Name}: int8 differs from the reference by up to {worst:G3} (tolerance {maxTolerance})");
                Assert.True(batchedMean[t] < meanTolerance, $"{name} {task.Name}: int8 differs from the reference by {batchedMean[t]:G3} on average (tolerance {meanTolerance})");
            }

            // Each quantized matrix carries a 4-byte scale and a 1-byte zero point (per-column: 4 bytes per column), so
            // the 4x only shows on matrices of more than a few dozen weights; logistic regression's [20x1] gets 80 → 25 bytes.
            if (!perColumn && fp32.WeightBytes >= 1000)
            {
                Assert.True(ratio >= 3.5, $"{name}: int8 weights are only {ratio:F2}x smaller ({fp32.WeightBytes} vs {int8.WeightBytes} bytes)");
            }
            else
            {
                Assert.True(ratio >= 3, $"{name}: int8 weights are only {ratio:F2}x smaller ({fp32.WeightBytes} vs {int8.WeightBytes} bytes)");
            }
        }
    }

    [Fact]
    public void Ir10_opset21_export_runs_the_same()
    {
        var weights = RandomModels.MmoeDeep();
        var rows = RandomModels.Rows(weights, 1000, seed: 13);
        var options = new ExportOptions { IrVersion = 10, OpsetVersion = 21 };
        using var fp32 = OnnxScorer.Load(OnnxExporter.Export(weights, options), weights.Spec.Features);
        Assert.All(Models.MaxAbsDiff(weights, fp32, rows, batch: 100), d => Assert.True(d < 1e-5, $"fp32 opset 21 differs by {d:G3}"));
        using var int8 = OnnxScorer.Load(OnnxExporter.Export(weights, new ExportOptions { IrVersion = 10, OpsetVersion = 21, Int8 = true }));
        Assert.All(Models.MaxAbsDiff(weights, int8, rows, batch: 1), d => Assert.True(d < 0.2, $"int8 opset 21 differs by {d:G3}"));

        var ex = Assert.Throws<ArgumentException>(() => OnnxExporter.Export(weights, new ExportOptions { OpsetVersion = 12 }));
        Assert.Contains("opset 13–26", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Exported_models_pass_the_onnx_checker()
    {
        var dir = Directory.CreateTempSubdirectory("edgeprofile-onnx-");
        try
        {
            var paths = new List<string>();
            foreach (var name in Models.Names)
            {
                var weights = Models.Get(name);
                string fp32 = Path.Combine(dir.FullName, $"{name}.onnx");
                string int8 = Path.Combine(dir.FullName, $"{name}.int8.onnx");
                string int8Columns = Path.Combine(dir.FullName, $"{name}.int8-columns-s8.onnx");
                File.WriteAllBytes(fp32, OnnxExporter.Export(weights));
                File.WriteAllBytes(int8, OnnxExporter.Export(weights, new ExportOptions { Int8 = true }));
                File.WriteAllBytes(int8Columns, OnnxExporter.Export(weights, new ExportOptions { Int8 = true, Int8PerColumn = true, Int8Weights = Int8WeightType.ZeroCentered }));
                paths.AddRange([fp32, int8, int8Columns]);
            }

            output.WriteLine(OnnxChecker.CheckModels([.. paths]));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Metadata_carries_features_tasks_and_extra_values()
    {
        var weights = RandomModels.Mmoe();
        var options = new ExportOptions
        {
            ModelVersion = 7,
            Metadata = new Dictionary<string, string>
            {
                ["model_version"] = "2026-11-30.1",
                ["feature_versions"] = "{\"f00\":2}",
                ["training_window"] = "2026-08-01/2026-10-31",
                ["metrics.repurchase_30d.auc"] = "0.81",
            },
        };
        var bytes = OnnxExporter.Export(weights, options);
        var model = EdgeProfile.Models.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(8, model.IrVersion);
        Assert.Equal(17, Assert.Single(model.OpsetImport).Version);
        Assert.Equal(7, model.ModelVersion);

        using var scorer = OnnxScorer.Load(bytes);
        Assert.Equal(weights.Spec.Features, scorer.Features);
        Assert.Equal(["repurchase_30d", "ltv_90d", "category_propensity"], scorer.Outputs.Select(o => o.Name));
        Assert.Equal([1, 1, 4], scorer.Outputs.Select(o => o.Width));
        Assert.Contains("\"MultiLabel\"", scorer.Metadata[OnnxMetadataKeys.Tasks], StringComparison.Ordinal);
        Assert.Contains("\"electronics\"", scorer.Metadata[OnnxMetadataKeys.Tasks], StringComparison.Ordinal);
        Assert.Equal("none", scorer.Metadata[OnnxMetadataKeys.Quantization]);
        Assert.Equal("2026-08-01/2026-10-31", scorer.Metadata["training_window"]);
        Assert.Equal("0.81", scorer.Metadata["metrics.repurchase_30d.auc"]);
    }

    [Fact]
    public void Reserved_metadata_keys_are_refused()
    {
        var ex = Assert.Throws<InvalidDataException>(() => OnnxExporter.Export(RandomModels.Mmoe(),
            new ExportOptions { Metadata = new Dictionary<string, string> { [OnnxMetadataKeys.Features] = "x" } }));
        Assert.Contains("'features'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mismatched_weights_are_refused_before_export_with_the_layer_named()
    {
        var good = RandomModels.Mmoe();
        var tower = good.Towers[1].ToList();
        tower[0] = new DenseWeights(16, 8, new float[16 * 7], new float[8]);
        var broken = good with { Towers = [good.Towers[0], tower, good.Towers[2]] };
        var ex = Assert.Throws<InvalidDataException>(() => OnnxExporter.Export(broken));
        Assert.Contains("tower of task ltv_90d layer 0", ex.Message, StringComparison.Ordinal);

        var wrongShape = good with { Gates = [good.Gates[0], good.Gates[1], new DenseWeights(20, 2, new float[40], new float[2])] };
        ex = Assert.Throws<InvalidDataException>(() => OnnxExporter.Export(wrongShape));
        Assert.Contains("gate of task category_propensity: expected shape [20x3], got [20x2]", ex.Message, StringComparison.Ordinal);

        var zeroStd = good with { Std = [.. good.Std.Select((s, i) => i == 3 ? 0f : s)] };
        ex = Assert.Throws<InvalidDataException>(() => OnnxExporter.Export(zeroStd));
        Assert.Contains("std of feature f03 is 0", ex.Message, StringComparison.Ordinal);

        var missingLabels = good with { Spec = good.Spec with { Tasks = [.. good.Spec.Tasks.Take(2), new TaskSpec("category_propensity", TaskKind.MultiLabel, [])] } };
        ex = Assert.Throws<InvalidDataException>(() => OnnxExporter.Export(missingLabels));
        Assert.Contains("multi-label needs at least one label", ex.Message, StringComparison.Ordinal);
    }

    private static string Format(double[] values) => string.Join(", ", values.Select(v => v.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)));
}
