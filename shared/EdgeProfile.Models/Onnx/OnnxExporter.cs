using System.Text.Json;
using EdgeProfile.Models.Onnx.Proto;
using Google.Protobuf;

namespace EdgeProfile.Models.Onnx;

/// <summary>
/// Writes <see cref="ModelWeights"/> as an ONNX model (by default IR 8, opset ai.onnx 17; see
/// <see cref="ExportOptions.OpsetVersion"/>) that ONNX Runtime 1.31 runs:
/// one float input <c>features [batch, F]</c> of raw features, standardisation inside the graph, and one output per
/// task named after it (<c>[batch, outputs]</c>, probabilities for binary/multi-label, raw values for regression).
/// </summary>
/// <remarks>
/// Graph: <c>(features − mean) / std</c>; all experts' first layers as one <c>MatMul [F, E·H]</c> reshaped to
/// <c>[N, E, H]</c>; deeper expert layers as one batched <c>MatMul [E, H, H']</c> over <c>[E, N, H]</c>; per task a
/// gate <c>Softmax(x·Wg + bg)</c> that weights the experts (<c>Unsqueeze</c>, <c>Mul</c>, <c>ReduceSum</c> over the
/// expert axis), then the tower. With one expert the gate is skipped (a one-way softmax is 1); with expert layers
/// absent every expert is the standardised input, so the mixture is that input whatever the gate says.
/// With <see cref="ExportOptions.Int8"/> each <c>MatMul</c> becomes <c>DynamicQuantizeLinear</c> (once per input
/// tensor) → <c>MatMulInteger</c> → <c>Cast</c> → <c>Mul</c> (input scale × weight scale) → <c>Add</c> bias.
/// </remarks>
public static class OnnxExporter
{
    /// <summary>Name of the graph's single input.</summary>
    public const string InputName = "features";

    /// <summary>Symbolic name of the batch dimension.</summary>
    public const string BatchDimension = "batch";

    /// <summary>Lowest ai.onnx opset the graph can use: <c>Unsqueeze</c> and <c>ReduceSum</c> take their axes as an
    /// input from opset 13 on.</summary>
    public const long MinOpsetVersion = 13;

    /// <summary>Written to <c>producer_name</c>.</summary>
    public const string ProducerName = "EdgeProfile.Models";

    /// <summary>Validates the weights and returns the serialised ONNX model.</summary>
    /// <exception cref="InvalidDataException">The weights do not match their spec, or metadata keys collide.</exception>
    public static byte[] Export(ModelWeights weights, ExportOptions? options = null) => BuildModel(weights, options).ToByteArray();

    /// <summary>As <see cref="Export"/>, but returns the protobuf object (e.g. to inspect or extend it).</summary>
    public static ModelProto BuildModel(ModelWeights weights, ExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        options ??= new ExportOptions();
        weights.Validate();
        if (options.IrVersion is < 8 or > 13 || options.OpsetVersion is < MinOpsetVersion or > 26)
        {
            throw new ArgumentException(
                $"IR version {options.IrVersion} / opset {options.OpsetVersion} unsupported: use IR 8–13 and opset {MinOpsetVersion}–26 (ONNX Runtime 1.31's limits)",
                nameof(options));
        }

        foreach (var key in options.Metadata.Keys)
        {
            if (OnnxMetadataKeys.Reserved.Contains(key, StringComparer.Ordinal))
            {
                throw new InvalidDataException($"metadata key '{key}' is written by the exporter itself; choose another key");
            }
        }

        var spec = weights.Spec;
        var builder = new OnnxGraphBuilder("edgeprofile_mmoe");
        builder.Reserve(InputName);
        var emitter = new Emitter(builder, options);
        int inputs = spec.Inputs;

        string raw = InputName;
        if (weights.Log1p is { } log1p && log1p.Any(f => f))
        {
            // log1p(max(x, 0)) on the flagged columns, the raw value elsewhere (Where broadcasts the [inputs] mask).
            string mask = builder.Bytes("/log1p/mask", TensorProto.Types.DataType.Bool, [.. log1p.Select(f => f ? (byte)1 : (byte)0)], [inputs], isWeight: false);
            string one = builder.Float("/log1p/one", [1f], []);
            string logged = builder.Node("Log", [builder.Node("Add", [builder.Node("Relu", [InputName], "/log1p/relu"), one], "/log1p/plus1")], "/log1p/log");
            raw = builder.Node("Where", [mask, logged, InputName], "/log1p/x");
        }

        string mean = builder.Float("/std/mean", weights.Mean, [inputs]);
        string std = builder.Float("/std/std", weights.Std, [inputs]);
        string x = builder.Node("Div", [builder.Node("Sub", [raw, mean], "/std/centred"), std], "/std/x");

        string? experts = EmitExperts(emitter, weights, x);
        for (int t = 0; t < spec.Tasks.Count; t++)
        {
            string mixture = experts is null ? x
                : spec.Experts == 1 ? experts
                : EmitGate(emitter, weights.Gates[t], x, experts, $"/task{t}/gate");
            EmitTower(emitter, weights.Towers[t], spec.Tasks[t], mixture, $"/task{t}/tower");
        }

        var graph = builder.Graph;
        graph.Input.Add(OnnxGraphBuilder.TensorInfo(InputName, TensorProto.Types.DataType.Float, BatchDimension, inputs));
        foreach (var task in spec.Tasks)
        {
            graph.Output.Add(OnnxGraphBuilder.TensorInfo(task.Name, TensorProto.Types.DataType.Float, BatchDimension, task.Outputs));
        }

        string producerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";
        var model = new ModelProto
        {
            IrVersion = options.IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = producerVersion,
            Domain = "edgeprofile",
            Graph = graph,
        };
        if (options.ModelVersion != 0)
        {
            model.ModelVersion = options.ModelVersion;
        }

        if (!string.IsNullOrEmpty(options.Description))
        {
            model.DocString = options.Description;
        }

        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.OpsetVersion });
        AddMetadata(model, OnnxMetadataKeys.Features, JsonSerializer.Serialize(spec.Features));
        AddMetadata(model, OnnxMetadataKeys.Tasks, JsonSerializer.Serialize(spec.Tasks.Select(t => new
        {
            name = t.Name,
            kind = t.Kind.ToString(),
            outputs = t.Outputs,
            labels = t.Labels,
        })));
        AddMetadata(model, OnnxMetadataKeys.Architecture, JsonSerializer.Serialize(new
        {
            experts = spec.Experts,
            expertHidden = spec.ExpertHidden,
            towerHidden = spec.TowerHidden,
            log1p = weights.Log1p is { } flags ? spec.Features.Where((_, i) => flags[i]).ToArray() : [],
        }));
        AddMetadata(model, OnnxMetadataKeys.Quantization, !options.Int8 ? "none"
            : $"dynamic-int8; weights {options.Int8Weights.ToString().ToLowerInvariant()} symmetric {(options.Int8PerColumn ? "per-column" : "per-tensor")}; activations uint8 per-tensor at run time");
        AddMetadata(model, OnnxMetadataKeys.Producer, $"{ProducerName} {producerVersion}");
        foreach (var (key, value) in options.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            AddMetadata(model, key, value);
        }

        return model;
    }

    private static void AddMetadata(ModelProto model, string key, string value) =>
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    /// <summary>Returns the experts' output (<c>[N, H]</c> for one expert, <c>[N, E, H]</c> for several), or null when
    /// experts have no layers (the mixture is then the standardised input itself).</summary>
    private static string? EmitExperts(Emitter emitter, ModelWeights weights, string x)
    {
        var spec = weights.Spec;
        int layers = spec.ExpertHidden.Count;
        if (layers == 0)
        {
            return null;
        }

        int e = spec.Experts;
        var g = emitter.Builder;
        if (e == 1)
        {
            string h = x;
            for (int l = 0; l < layers; l++)
            {
                var layer = weights.Experts[0][l];
                h = g.Node("Relu", [emitter.Dense(h, $"/experts/l{l}", layer.W, [layer.In, layer.Out], layer.B, [layer.Out])], $"/experts/l{l}/relu");
            }

            return h;
        }

        // First layer: every expert reads the same input, so one [F, E·H] product does all of them.
        int inputs = spec.Inputs;
        int width = spec.ExpertHidden[0];
        var w = new float[inputs * e * width];
        var b = new float[e * width];
        for (int k = 0; k < e; k++)
        {
            var layer = weights.Experts[k][0];
            for (int i = 0; i < inputs; i++)
            {
                Array.Copy(layer.W, i * width, w, (i * e * width) + (k * width), width);
            }

            Array.Copy(layer.B, 0, b, k * width, width);
        }

        string flat = g.Node("Relu", [emitter.Dense(x, "/experts/l0", w, [inputs, e * width], b, [e * width])], "/experts/l0/relu");
        string shape = g.Int64("/experts/l0/shape", [0, e, width], [3]);
        string stacked = g.Node("Reshape", [flat, shape], "/experts/l0/stacked");
        if (layers == 1)
        {
            return stacked;
        }

        // Deeper layers differ per expert: one batched MatMul [E, N, H] x [E, H, H'] over the expert axis.
        string h3 = g.Node("Transpose", [stacked], "/experts/l0/by_expert", OnnxGraphBuilder.Ints("perm", 1, 0, 2));
        for (int l = 1; l < layers; l++)
        {
            int inWidth = spec.ExpertHidden[l - 1];
            int outWidth = spec.ExpertHidden[l];
            var wl = new float[e * inWidth * outWidth];
            var bl = new float[e * outWidth];
            for (int k = 0; k < e; k++)
            {
                var layer = weights.Experts[k][l];
                Array.Copy(layer.W, 0, wl, k * inWidth * outWidth, inWidth * outWidth);
                Array.Copy(layer.B, 0, bl, k * outWidth, outWidth);
            }

            h3 = g.Node("Relu", [emitter.Dense(h3, $"/experts/l{l}", wl, [e, inWidth, outWidth], bl, [e, 1, outWidth])], $"/experts/l{l}/relu");
        }

        return g.Node("Transpose", [h3], "/experts/out", OnnxGraphBuilder.Ints("perm", 1, 0, 2));
    }

    private static string EmitGate(Emitter emitter, DenseWeights gate, string x, string stackedExperts, string name)
    {
        var g = emitter.Builder;
        string logits = emitter.Dense(x, name, gate.W, [gate.In, gate.Out], gate.B, [gate.Out]);
        string weightsPerExpert = g.Node("Softmax", [logits], $"{name}/softmax", OnnxGraphBuilder.Int("axis", -1));
        string axis2 = g.Int64($"{name}/axis2", [2], [1]);
        string unsqueezed = g.Node("Unsqueeze", [weightsPerExpert, axis2], $"{name}/unsqueeze");
        string weighted = g.Node("Mul", [unsqueezed, stackedExperts], $"{name}/weighted");
        string axis1 = g.Int64($"{name}/axis1", [1], [1]);
        return g.Node("ReduceSum", [weighted, axis1], $"{name}/mixture", OnnxGraphBuilder.Int("keepdims", 0));
    }

    private static void EmitTower(Emitter emitter, IReadOnlyList<DenseWeights> tower, TaskSpec task, string input, string name)
    {
        var g = emitter.Builder;
        string h = input;
        for (int l = 0; l < tower.Count - 1; l++)
        {
            var layer = tower[l];
            h = g.Node("Relu", [emitter.Dense(h, $"{name}/l{l}", layer.W, [layer.In, layer.Out], layer.B, [layer.Out])], $"{name}/l{l}/relu");
        }

        var last = tower[^1];
        bool sigmoid = task.Kind is TaskKind.Binary or TaskKind.MultiLabel;
        string logits = emitter.Dense(h, $"{name}/out", last.W, [last.In, last.Out], last.B, [last.Out], sigmoid ? null : task.Name);
        if (sigmoid)
        {
            g.Node("Sigmoid", [logits], task.Name);
        }
    }

    /// <summary>Emits dense layers in fp32 or dynamic int8, sharing one quantization per input tensor.</summary>
    private sealed class Emitter(OnnxGraphBuilder builder, ExportOptions options)
    {
        private readonly Dictionary<string, (string Q, string Scale, string ZeroPoint)> quantized = new(StringComparer.Ordinal);

        public OnnxGraphBuilder Builder => builder;

        /// <summary><c>input · W + b</c>; W is <c>[..., In, Out]</c> row-major. Returns the output name.</summary>
        public string Dense(string input, string name, float[] w, long[] wDims, float[] b, long[] bDims, string? output = null)
        {
            output ??= $"{name}/dense";
            string bias = builder.Float($"{name}/B", b, bDims);
            if (!options.Int8)
            {
                string weight = builder.Float($"{name}/W", w, wDims, isWeight: true);
                return builder.Node("Add", [builder.Node("MatMul", [input, weight], $"{name}/matmul"), bias], output);
            }

            var (q, xScale, xZeroPoint) = Quantize(input);
            var weights = WeightQuantizer.Quantize(w, wDims, options.Int8PerColumn, options.Int8Weights);
            var type = options.Int8Weights == Int8WeightType.ZeroCentered ? TensorProto.Types.DataType.Int8 : TensorProto.Types.DataType.Uint8;
            string wq = builder.Bytes($"{name}/Wq", type, weights.Values, wDims, isWeight: true);
            string wZeroPoint = builder.Bytes($"{name}/Wzp", type, [weights.ZeroPoint], [], isWeight: true);
            string wScale = builder.Float($"{name}/Wscale", weights.Scales, weights.ScaleDims, isWeight: true);
            string product = builder.Node("MatMulInteger", [q, wq, xZeroPoint, wZeroPoint], $"{name}/matmul_int");
            string asFloat = builder.Node("Cast", [product], $"{name}/matmul_float", OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Float));
            string scale = builder.Node("Mul", [xScale, wScale], $"{name}/scale");
            string scaled = builder.Node("Mul", [asFloat, scale], $"{name}/matmul");
            return builder.Node("Add", [scaled, bias], output);
        }

        private (string Q, string Scale, string ZeroPoint) Quantize(string input)
        {
            if (!quantized.TryGetValue(input, out var q))
            {
                var names = builder.NodeMany("DynamicQuantizeLinear", [input], [$"{input}/q", $"{input}/q_scale", $"{input}/q_zero_point"]);
                q = (names[0], names[1], names[2]);
                quantized[input] = q;
            }

            return q;
        }
    }
}
