using System.Globalization;
using EdgeProfile.Models.Onnx.Proto;
using EdgeProfile.Models.Sequences;
using Google.Protobuf;

namespace EdgeProfile.Models.Onnx;

/// <summary>
/// Writes <see cref="SasRecWeights"/> as an ONNX model (IR 8, ai.onnx opset 17 — the newest Debian's onnx 1.12
/// checker knows, and the first with a standard <c>LayerNormalization</c>) that computes exactly
/// <see cref="SasRecReference"/>: input <c>item_ids</c> int64 <c>[batch, L]</c> (left-padded with 0, see
/// <see cref="SasRecReference.LeftPad(ReadOnlySpan{int}, int)"/>); outputs <c>scores</c> <c>[batch, ItemCount + 1]</c>,
/// <c>hidden</c> <c>[batch, d]</c> and <c>attention</c> <c>[batch, L]</c>.
/// </summary>
/// <remarks>
/// <para>Graph: <c>Gather</c> of the item table → <c>Mul √d</c> → <c>Add</c> positions → <c>Mul</c> by the mask
/// <c>Cast(Not(Equal(ids, 0)))</c>; per block <c>LayerNormalization</c>, query/key/value as <c>MatMul</c>+<c>Add</c>,
/// heads by <c>Reshape</c>/<c>Transpose</c>, <c>MatMul(Q, Kᵀ)</c> <c>/ √dh</c> + a constant causal mask <c>[L, L]</c>,
/// <c>Softmax</c>, <c>MatMul</c> with V, output projection, residuals, the feed-forward; then the last position
/// (<c>Gather</c>), the final <c>LayerNormalization</c> and <c>scores = hidden · Eᵀ</c>. The item table is stored once,
/// transposed (<c>[d, ItemCount + 1]</c>): the scores multiply by it and the input gathers its columns.</para>
/// <para>With <c>quantize</c>, every weight matrix is stored as 8-bit integers as <see cref="OnnxExporter"/> does
/// (<see cref="Int8WeightType.Offset128"/>; <c>DynamicQuantizeLinear</c> of the input once per tensor →
/// <c>MatMulInteger</c> → <c>Cast</c> → <c>Mul</c> by input × weight scale → <c>Add</c> bias): the block matrices with
/// one scale per matrix, the item table with one scale per item (item norms differ a lot, popular items' most), which
/// the input side dequantizes after its <c>Gather</c>. Position embeddings, norms and biases stay fp32. The weights
/// shrink ≈4× (the item table ≈ 4d/(d + 4)× for its per-item scales). As with <see cref="OnnxExporter"/>, activations
/// are quantized with one scale per tensor per call, so in a batch a row's scores depend slightly on the other rows.</para>
/// </remarks>
public static class SasRecOnnxExporter
{
    /// <summary>The input: item ids, int64 <c>[batch, L]</c>, left-padded with 0.</summary>
    public const string InputName = "item_ids";

    /// <summary>Output: every item id's score, float <c>[batch, ItemCount + 1]</c> (column 0 is padding).</summary>
    public const string ScoresName = "scores";

    /// <summary>Output: the customer embedding, float <c>[batch, d]</c>.</summary>
    public const string HiddenName = "hidden";

    /// <summary>Output: the last block's attention of the last position averaged over heads, float <c>[batch, L]</c>.</summary>
    public const string AttentionName = "attention";

    /// <summary>Symbolic name of the batch dimension.</summary>
    public const string BatchDimension = "batch";

    /// <summary>Metadata key naming the kind of model.</summary>
    public const string KindKey = "edgeprofile.kind";

    /// <summary>The value of <see cref="KindKey"/> for SASRec.</summary>
    public const string Kind = "sasrec";

    /// <summary>Metadata key: L.</summary>
    public const string MaxLengthKey = "edgeprofile.sasrec.max_length";

    /// <summary>Metadata key: d.</summary>
    public const string DimensionsKey = "edgeprofile.sasrec.dimensions";

    /// <summary>Metadata key: the number of items (ids 1..ItemCount).</summary>
    public const string ItemCountKey = "edgeprofile.sasrec.item_count";

    /// <summary>Metadata key: attention heads.</summary>
    public const string HeadsKey = "edgeprofile.sasrec.heads";

    /// <summary>Metadata key: <c>true</c> for int8 weights, <c>false</c> for fp32.</summary>
    public const string QuantizedKey = "edgeprofile.sasrec.quantized";

    /// <summary>Metadata key: the number of blocks.</summary>
    public const string BlocksKey = "edgeprofile.sasrec.blocks";

    /// <summary>Metadata key: the layer normalisations' epsilon.</summary>
    public const string NormEpsilonKey = "edgeprofile.sasrec.norm_epsilon";

    /// <summary>IR version written (Debian's onnx 1.12 checker accepts up to 8).</summary>
    public const long IrVersion = 8;

    /// <summary>ai.onnx opset imported (17: <c>LayerNormalization</c> is standard).</summary>
    public const long OpsetVersion = 17;

    private static readonly string[] Reserved =
    [
        KindKey, MaxLengthKey, DimensionsKey, ItemCountKey, HeadsKey, QuantizedKey, BlocksKey, NormEpsilonKey,
        OnnxMetadataKeys.Quantization, OnnxMetadataKeys.Producer,
    ];

    /// <summary>Validates the weights and returns the serialised ONNX model.</summary>
    /// <param name="weights">The model.</param>
    /// <param name="quantize">Store the weight matrices as int8 (dynamic quantization) instead of fp32.</param>
    /// <param name="metadata">Extra <c>metadata_props</c> (e.g. training window, metrics); keys must not collide with the exporter's.</param>
    /// <exception cref="InvalidDataException">The weights are inconsistent, or a metadata key is reserved.</exception>
    public static byte[] Export(SasRecWeights weights, bool quantize, IReadOnlyDictionary<string, string>? metadata = null) =>
        BuildModel(weights, quantize, metadata).ToByteArray();

    /// <summary>As <see cref="Export"/>, but returns the protobuf object.</summary>
    /// <exception cref="InvalidDataException">The weights are inconsistent, or a metadata key is reserved.</exception>
    public static ModelProto BuildModel(SasRecWeights weights, bool quantize, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate();
        metadata ??= new Dictionary<string, string>();
        foreach (var key in metadata.Keys)
        {
            if (Reserved.Contains(key, StringComparer.Ordinal))
            {
                throw new InvalidDataException($"metadata key '{key}' is written by the exporter itself; choose another key");
            }
        }

        int length = weights.MaxLength;
        int d = weights.Dimensions;
        int heads = weights.Heads;
        int dh = d / heads;
        int items = weights.ItemCount + 1;
        var g = new OnnxGraphBuilder("edgeprofile_sasrec");
        g.Reserve(InputName);
        var emitter = new Emitter(g, quantize);

        // The item table, transposed to [d, items]: the scores' matrix, and the input gathers its columns.
        var table = new float[(long)d * items];
        for (int item = 0; item < items; item++)
        {
            for (int c = 0; c < d; c++)
            {
                table[((long)c * items) + item] = weights.ItemEmbedding[((long)item * d) + c];
            }
        }

        string ids = InputName;
        string zeroId = g.Int64("/mask/zero", [0], []);
        string present = g.Node("Not", [g.Node("Equal", [ids, zeroId], "/mask/is_padding")], "/mask/present");
        string maskFlat = g.Node("Cast", [present], "/mask/float", OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Float));
        string axis2 = g.Int64("/axis2", [2], [1]);
        string mask = g.Node("Unsqueeze", [maskFlat, axis2], "/mask");

        string embedded = emitter.Embed(ids, table, d, items, axis2);
        string scaled = g.Node("Mul", [embedded, g.Float("/embed/sqrt_d", [MathF.Sqrt(d)], [])], "/embed/scaled");
        string positions = g.Float("/embed/positions", weights.PositionEmbedding, [length, d]);
        string x = g.Node("Mul", [g.Node("Add", [scaled, positions], "/embed/sum"), mask], "/embed/x");

        var causal = new float[length * length];
        for (int i = 0; i < length; i++)
        {
            for (int k = i + 1; k < length; k++)
            {
                causal[(i * length) + k] = SasRecReference.FutureMask;
            }
        }

        string causalMask = g.Float("/attention/causal_mask", causal, [length, length]);
        string scale = g.Float("/attention/sqrt_dh", [MathF.Sqrt(dh)], []);
        string splitShape = g.Int64("/attention/split_shape", [0, length, heads, dh], [4]);
        string mergeShape = g.Int64("/attention/merge_shape", [0, length, d], [3]);
        string attentionMaps = "";
        for (int b = 0; b < weights.Blocks.Count; b++)
        {
            var block = weights.Blocks[b];
            string name = $"/block{b}";
            string q = LayerNorm(g, x, block.AttentionNormScale, block.AttentionNormBias, weights.NormEpsilon, $"{name}/attention_norm");
            string query = emitter.Dense(q, $"{name}/query", block.Query, block.QueryBias, d, d);
            string key = emitter.Dense(x, $"{name}/key", block.Key, block.KeyBias, d, d);
            string value = emitter.Dense(x, $"{name}/value", block.Value, block.ValueBias, d, d);

            // [B, L, d] → [B, h, L, dh] (keys → [B, h, dh, L]); S = Q·Kᵀ / √dh + C; A = softmax(S); heads = A·V.
            string qh = g.Node("Transpose", [g.Node("Reshape", [query, splitShape], $"{name}/query/split")], $"{name}/query/heads", OnnxGraphBuilder.Ints("perm", 0, 2, 1, 3));
            string kh = g.Node("Transpose", [g.Node("Reshape", [key, splitShape], $"{name}/key/split")], $"{name}/key/heads", OnnxGraphBuilder.Ints("perm", 0, 2, 3, 1));
            string vh = g.Node("Transpose", [g.Node("Reshape", [value, splitShape], $"{name}/value/split")], $"{name}/value/heads", OnnxGraphBuilder.Ints("perm", 0, 2, 1, 3));
            string dot = g.Node("Div", [g.Node("MatMul", [qh, kh], $"{name}/attention/qk"), scale], $"{name}/attention/scaled");
            string logits = g.Node("Add", [dot, causalMask], $"{name}/attention/logits");
            attentionMaps = g.Node("Softmax", [logits], $"{name}/attention/weights", OnnxGraphBuilder.Int("axis", -1));
            string attended = g.Node("MatMul", [attentionMaps, vh], $"{name}/attention/heads");
            string merged = g.Node("Reshape", [g.Node("Transpose", [attended], $"{name}/attention/by_position", OnnxGraphBuilder.Ints("perm", 0, 2, 1, 3)), mergeShape], $"{name}/attention/merged");
            string output = emitter.Dense(merged, $"{name}/output", block.Output, block.OutputBias, d, d);
            string residual = g.Node("Add", [q, output], $"{name}/attention/residual");

            string y = LayerNorm(g, residual, block.FeedForwardNormScale, block.FeedForwardNormBias, weights.NormEpsilon, $"{name}/feed_forward_norm");
            string inner = g.Node("Relu", [emitter.Dense(y, $"{name}/feed_forward1", block.FeedForward1, block.FeedForward1Bias, d, d)], $"{name}/feed_forward1/relu");
            string outer = emitter.Dense(inner, $"{name}/feed_forward2", block.FeedForward2, block.FeedForward2Bias, d, d);
            x = g.Node("Mul", [g.Node("Add", [y, outer], $"{name}/feed_forward/residual"), mask], $"{name}/x");
        }

        // Only the last position is read: take it before the final norm (a norm works row by row).
        string lastPosition = g.Int64("/last_position", [length - 1], []);
        string last = g.Node("Gather", [x, lastPosition], "/final/last", OnnxGraphBuilder.Int("axis", 1));
        LayerNorm(g, last, weights.FinalNormScale, weights.FinalNormBias, weights.NormEpsilon, "/final_norm", HiddenName);
        emitter.Scores(HiddenName, ScoresName);

        // attention = mean over heads of the last block's weights of the last query: [B, h, L, L] → [B, h, L] → [B, L].
        string lastQuery = g.Node("Gather", [attentionMaps, lastPosition], "/attention/last_query", OnnxGraphBuilder.Int("axis", 2));
        string headSum = g.Node("ReduceSum", [lastQuery, g.Int64("/attention/head_axis", [1], [1])], "/attention/head_sum", OnnxGraphBuilder.Int("keepdims", 0));
        g.Node("Div", [headSum, g.Float("/attention/head_count", [heads], [])], AttentionName);

        var graph = g.Graph;
        graph.Input.Add(OnnxGraphBuilder.TensorInfo(InputName, TensorProto.Types.DataType.Int64, BatchDimension, length));
        graph.Output.Add(OnnxGraphBuilder.TensorInfo(ScoresName, TensorProto.Types.DataType.Float, BatchDimension, items));
        graph.Output.Add(OnnxGraphBuilder.TensorInfo(HiddenName, TensorProto.Types.DataType.Float, BatchDimension, d));
        graph.Output.Add(OnnxGraphBuilder.TensorInfo(AttentionName, TensorProto.Types.DataType.Float, BatchDimension, length));

        string producerVersion = typeof(SasRecOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = OnnxExporter.ProducerName,
            ProducerVersion = producerVersion,
            Domain = "edgeprofile",
            Graph = graph,
            DocString = $"SASRec next-item model: {weights.Blocks.Count} blocks, {heads} heads, d {d}, max length {length}, {weights.ItemCount} items",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        var invariant = CultureInfo.InvariantCulture;
        AddMetadata(model, KindKey, Kind);
        AddMetadata(model, MaxLengthKey, length.ToString(invariant));
        AddMetadata(model, DimensionsKey, d.ToString(invariant));
        AddMetadata(model, ItemCountKey, weights.ItemCount.ToString(invariant));
        AddMetadata(model, HeadsKey, heads.ToString(invariant));
        AddMetadata(model, BlocksKey, weights.Blocks.Count.ToString(invariant));
        AddMetadata(model, NormEpsilonKey, weights.NormEpsilon.ToString("R", invariant));
        AddMetadata(model, QuantizedKey, quantize ? "true" : "false");
        AddMetadata(model, OnnxMetadataKeys.Quantization, !quantize ? "none"
            : "dynamic-int8; weights offset128 symmetric, block matrices per-tensor, item table per-item; activations uint8 per-tensor at run time");
        AddMetadata(model, OnnxMetadataKeys.Producer, $"{OnnxExporter.ProducerName} {producerVersion}");
        foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            AddMetadata(model, key, value);
        }

        return model;
    }

    private static void AddMetadata(ModelProto model, string key, string value) =>
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    private static string LayerNorm(OnnxGraphBuilder g, string input, float[] scale, float[] bias, float epsilon, string name, string? output = null) =>
        g.Node(
            "LayerNormalization",
            [input, g.Float($"{name}/scale", scale, [scale.Length]), g.Float($"{name}/bias", bias, [bias.Length])],
            output ?? $"{name}/y",
            OnnxGraphBuilder.Int("axis", -1),
            new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = epsilon });

    /// <summary>Emits the weight products in fp32 or dynamic int8 (one quantization per input tensor).</summary>
    private sealed class Emitter(OnnxGraphBuilder builder, bool quantize)
    {
        private const string TableName = "/items";
        private readonly Dictionary<string, (string Q, string Scale, string ZeroPoint)> quantized = new(StringComparer.Ordinal);
        private string table = "";
        private string tableScale = "";
        private string tableZeroPoint = "";

        /// <summary>Stores the transposed item table <c>[d, items]</c> and returns <c>E[ids]</c> as <c>[B, L, d]</c>.</summary>
        public string Embed(string ids, float[] transposed, int d, int items, string axis2)
        {
            var perm = OnnxGraphBuilder.Ints("perm", 1, 2, 0);
            if (!quantize)
            {
                table = builder.Float($"{TableName}/W", transposed, [d, items], isWeight: true);
                string columns = builder.Node("Gather", [table, ids], "/embed/columns", OnnxGraphBuilder.Int("axis", 1));
                return builder.Node("Transpose", [columns], "/embed/items", perm);
            }

            // One scale per item (column): E[ids] = (Eq[:, ids] − 128) · scale[ids].
            var q = WeightQuantizer.Quantize(transposed, [d, items], perColumn: true, Int8WeightType.Offset128);
            table = builder.Bytes($"{TableName}/Wq", TensorProto.Types.DataType.Uint8, q.Values, [d, items], isWeight: true);
            tableZeroPoint = builder.Bytes($"{TableName}/Wzp", TensorProto.Types.DataType.Uint8, [q.ZeroPoint], [], isWeight: true);
            tableScale = builder.Float($"{TableName}/Wscale", q.Scales, q.ScaleDims, isWeight: true);
            string gathered = builder.Node("Gather", [table, ids], "/embed/columns_q", OnnxGraphBuilder.Int("axis", 1));
            string asFloat = builder.Node("Cast", [gathered], "/embed/columns_float", OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Float));
            string centred = builder.Node("Sub", [asFloat, builder.Float("/embed/zero_point", [q.ZeroPoint], [])], "/embed/columns_centred");
            string byPosition = builder.Node("Transpose", [centred], "/embed/items_q", perm);
            string scales = builder.Node("Unsqueeze", [builder.Node("Gather", [tableScale, ids], "/embed/scales_flat"), axis2], "/embed/scales");
            return builder.Node("Mul", [byPosition, scales], "/embed/items");
        }

        /// <summary><c>scores = hidden · Eᵀ</c> into <paramref name="output"/>, with the table stored by <see cref="Embed"/>.</summary>
        public void Scores(string hidden, string output)
        {
            if (!quantize)
            {
                builder.Node("MatMul", [hidden, table], output);
                return;
            }

            var (q, xScale, xZeroPoint) = Quantize(hidden);
            string product = builder.Node("MatMulInteger", [q, table, xZeroPoint, tableZeroPoint], "/scores/matmul_int");
            string asFloat = builder.Node("Cast", [product], "/scores/matmul_float", OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Float));
            string scale = builder.Node("Mul", [xScale, tableScale], "/scores/scale");
            builder.Node("Mul", [asFloat, scale], output);
        }

        /// <summary><c>input · W + b</c>; W is <c>[inputs, outputs]</c> row-major. Returns the output name.</summary>
        public string Dense(string input, string name, float[] w, float[] b, int inputs, int outputs)
        {
            string output = $"{name}/dense";
            string bias = builder.Float($"{name}/B", b, [outputs]);
            long[] dims = [inputs, outputs];
            if (!quantize)
            {
                string weight = builder.Float($"{name}/W", w, dims, isWeight: true);
                return builder.Node("Add", [builder.Node("MatMul", [input, weight], $"{name}/matmul"), bias], output);
            }

            var (q, xScale, xZeroPoint) = Quantize(input);
            var weights = WeightQuantizer.Quantize(w, dims, perColumn: false, Int8WeightType.Offset128);
            string wq = builder.Bytes($"{name}/Wq", TensorProto.Types.DataType.Uint8, weights.Values, dims, isWeight: true);
            string wZeroPoint = builder.Bytes($"{name}/Wzp", TensorProto.Types.DataType.Uint8, [weights.ZeroPoint], [], isWeight: true);
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
