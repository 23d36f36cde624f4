using System.Buffers.Binary;
using System.Text.Json;
using EdgeProfile.Models.Onnx.Proto;
using Google.Protobuf;

namespace EdgeProfile.Models.Onnx;

/// <summary>
/// Reads <see cref="ModelWeights"/> back from an ONNX model written by <see cref="OnnxExporter"/>: the spec from the
/// metadata (<see cref="OnnxMetadataKeys"/>) and the parameters from the initializers the exporter names
/// (<c>/std/mean</c>, <c>/experts/l{l}</c>, <c>/task{t}/gate</c>, <c>/task{t}/tower/l{l}</c>, <c>/task{t}/tower/out</c>).
/// </summary>
/// <remarks>
/// fp32 weights come back bit for bit. Int8 weights (<c>/Wq</c>, <c>/Wzp</c>, <c>/Wscale</c>, per tensor or per column,
/// uint8 with zero point 128, int8 with zero point 0, including files re-encoded by
/// <see cref="Scoring.Int8Kernels.ToSignedWeights"/>) are dequantised to <c>(q − zeroPoint) · scale</c> in float; use
/// <see cref="IsQuantized"/> to tell whether that happened. Tensors may hold their values in <c>raw_data</c>
/// (little-endian, what the exporter writes) or in the typed fields (<c>float_data</c>, <c>int32_data</c>).
/// When experts have no layers the mixture is the standardised input whatever the gates say, so the exporter writes
/// no gates; the reader then returns all-zero gates (<c>[Inputs x Experts]</c>), which compute the same model.
/// </remarks>
public static class OnnxWeightsReader
{
    /// <summary>Parses <paramref name="model"/> and returns its weights (int8 weights dequantised).</summary>
    /// <exception cref="InvalidDataException">The bytes are not an ONNX model written by <see cref="OnnxExporter"/>;
    /// the message names <paramref name="source"/> and what is missing or wrong.</exception>
    public static ModelWeights Read(byte[] model, string source = "model bytes")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        var proto = Parse(model, source);
        try
        {
            var weights = ReadWeights(proto);
            weights.Validate();
            return weights;
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{source}: {ex.Message}", ex);
        }
    }

    /// <summary>As <see cref="Read"/>, but returns false with the problem instead of throwing.</summary>
    public static bool TryRead(byte[] model, out ModelWeights? weights, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(model);
        try
        {
            weights = Read(model);
            problem = null;
            return true;
        }
        catch (InvalidDataException ex)
        {
            weights = null;
            problem = ex.Message;
            return false;
        }
    }

    /// <summary>Whether the model stores int8 weights (any <c>…/Wq</c> initializer), i.e. whether <see cref="Read"/>
    /// returns dequantised (approximate) weights rather than the exact fp32 ones.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an ONNX model.</exception>
    public static bool IsQuantized(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var proto = Parse(model, "model bytes");
        return proto.Graph is { } graph && graph.Initializer.Any(t => t.Name.EndsWith("/Wq", StringComparison.Ordinal));
    }

    /// <summary>The model's <c>metadata_props</c>, read from the file without creating an ONNX Runtime session.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an ONNX model.</exception>
    public static IReadOnlyDictionary<string, string> Metadata(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Parse(model, "model bytes").MetadataProps)
        {
            metadata[entry.Key] = entry.Value;
        }

        return metadata;
    }

    private static ModelProto Parse(byte[] model, string source)
    {
        if (model.Length == 0)
        {
            throw new InvalidDataException($"{source}: the model is empty (0 bytes)");
        }

        try
        {
            return ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"{source}: not an ONNX model ({model.Length} bytes): {ex.Message}", ex);
        }
    }

    private static ModelWeights ReadWeights(ModelProto proto)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in proto.MetadataProps)
        {
            metadata[entry.Key] = entry.Value;
        }

        var features = ParseJson(metadata, OnnxMetadataKeys.Features, ReadStrings);
        var tasks = ParseJson(metadata, OnnxMetadataKeys.Tasks, ReadTasks);
        var (experts, expertHidden, towerHidden, log1pNames) = ParseJson(metadata, OnnxMetadataKeys.Architecture, ReadArchitecture);
        var spec = new ModelSpec(features, experts, expertHidden, towerHidden, tasks);
        int inputs = spec.Inputs;
        if (inputs == 0 || experts < 1 || tasks.Length == 0 || expertHidden.Any(w => w <= 0) || towerHidden.Any(w => w <= 0))
        {
            throw new InvalidDataException("metadata describes an invalid architecture (no feature, no task, no expert or a width <= 0)");
        }

        bool[]? log1p = null;
        if (log1pNames.Length > 0)
        {
            log1p = new bool[inputs];
            foreach (var name in log1pNames)
            {
                int index = features.IndexOf(name);
                if (index < 0)
                {
                    throw new InvalidDataException($"metadata '{OnnxMetadataKeys.Architecture}': log1p feature '{name}' is not a feature");
                }

                log1p[index] = true;
            }
        }

        var graph = proto.Graph ?? throw new InvalidDataException("the model has no graph");
        var tensors = new Tensors(graph);
        var mean = tensors.Floats("/std/mean", inputs);
        var std = tensors.Floats("/std/std", inputs);

        var expertLayers = Enumerable.Range(0, experts).Select(_ => new List<DenseWeights>()).ToArray();
        int width = inputs;
        for (int l = 0; l < expertHidden.Length; l++)
        {
            int outWidth = expertHidden[l];
            string name = $"/experts/l{l}";
            if (experts == 1)
            {
                expertLayers[0].Add(tensors.Dense(name, width, outWidth));
            }
            else if (l == 0)
            {
                // One [F, E·H] matrix: expert k owns columns k·H … k·H + H − 1.
                var all = tensors.Dense(name, width, experts * outWidth);
                for (int k = 0; k < experts; k++)
                {
                    var w = new float[width * outWidth];
                    for (int i = 0; i < width; i++)
                    {
                        Array.Copy(all.W, (i * experts * outWidth) + (k * outWidth), w, i * outWidth, outWidth);
                    }

                    expertLayers[k].Add(new DenseWeights(width, outWidth, w, all.B[(k * outWidth)..((k + 1) * outWidth)]));
                }
            }
            else
            {
                // Batched [E, H, H'] with biases [E, 1, H'].
                var all = tensors.Dense(name, width, outWidth, experts);
                int size = width * outWidth;
                for (int k = 0; k < experts; k++)
                {
                    expertLayers[k].Add(new DenseWeights(width, outWidth, all.W[(k * size)..((k + 1) * size)], all.B[(k * outWidth)..((k + 1) * outWidth)]));
                }
            }

            width = outWidth;
        }

        var gates = new List<DenseWeights>();
        if (experts > 1)
        {
            for (int t = 0; t < tasks.Length; t++)
            {
                gates.Add(expertHidden.Length > 0
                    ? tensors.Dense($"/task{t}/gate", inputs, experts)
                    : new DenseWeights(inputs, experts, new float[inputs * experts], new float[experts]));
            }
        }

        var towers = new List<IReadOnlyList<DenseWeights>>();
        int expertOutputs = spec.ExpertOutputs;
        for (int t = 0; t < tasks.Length; t++)
        {
            var layers = new List<DenseWeights>();
            int w = expertOutputs;
            for (int l = 0; l < towerHidden.Length; l++)
            {
                layers.Add(tensors.Dense($"/task{t}/tower/l{l}", w, towerHidden[l]));
                w = towerHidden[l];
            }

            layers.Add(tensors.Dense($"/task{t}/tower/out", w, tasks[t].Outputs));
            towers.Add(layers);
        }

        return new ModelWeights(spec, mean, std, [.. expertLayers.Select(l => (IReadOnlyList<DenseWeights>)l)], gates, towers) { Log1p = log1p };
    }

    private static T ParseJson<T>(Dictionary<string, string> metadata, string key, Func<JsonElement, T> read)
    {
        if (!metadata.TryGetValue(key, out var json))
        {
            throw new InvalidDataException($"not written by {OnnxExporter.ProducerName}'s exporter: metadata '{key}' is missing");
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return read(document.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException or KeyNotFoundException)
        {
            throw new InvalidDataException($"metadata '{key}' is not what {OnnxExporter.ProducerName}'s exporter writes: {ex.Message}", ex);
        }
    }

    private static string[] ReadStrings(JsonElement element) =>
        [.. element.EnumerateArray().Select(e => e.GetString() ?? throw new FormatException("a name is null"))];

    private static TaskSpec[] ReadTasks(JsonElement element) =>
        [.. element.EnumerateArray().Select(t =>
        {
            string name = t.GetProperty("name").GetString() ?? throw new FormatException("a task name is null");
            var kind = Enum.Parse<TaskKind>(t.GetProperty("kind").GetString() ?? throw new FormatException($"task {name}: kind is null"));
            string[]? labels = t.TryGetProperty("labels", out var l) && l.ValueKind == JsonValueKind.Array ? ReadStrings(l) : null;
            var task = new TaskSpec(name, kind, labels);
            if (kind == TaskKind.MultiLabel && (labels is null || labels.Length == 0))
            {
                throw new FormatException($"task {name}: multi-label without labels");
            }

            if (t.TryGetProperty("outputs", out var outputs) && outputs.GetInt32() != task.Outputs)
            {
                throw new FormatException($"task {name}: {outputs.GetInt32()} outputs for kind {kind}");
            }

            return task;
        })];

    private static (int Experts, int[] ExpertHidden, int[] TowerHidden, string[] Log1p) ReadArchitecture(JsonElement element) =>
        (element.GetProperty("experts").GetInt32(),
         [.. element.GetProperty("expertHidden").EnumerateArray().Select(e => e.GetInt32())],
         [.. element.GetProperty("towerHidden").EnumerateArray().Select(e => e.GetInt32())],
         element.TryGetProperty("log1p", out var log1p) && log1p.ValueKind == JsonValueKind.Array ? ReadStrings(log1p) : []);

    /// <summary>The graph's initializers by name, decoded to floats.</summary>
    private sealed class Tensors(GraphProto graph)
    {
        private readonly Dictionary<string, TensorProto> byName = graph.Initializer
            .GroupBy(t => t.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

        /// <summary>A dense layer (<paramref name="batches"/> stacked <c>[In, Out]</c> matrices) in fp32 or int8.</summary>
        public DenseWeights Dense(string name, int inputs, int outputs, int batches = 1)
        {
            int size = batches * inputs * outputs;
            var b = Floats($"{name}/B", batches * outputs);
            if (byName.ContainsKey($"{name}/W"))
            {
                // With batches > 1 this holds all of them; the caller slices it.
                return new DenseWeights(inputs, outputs, Floats($"{name}/W", size), b);
            }

            if (!byName.ContainsKey($"{name}/Wq"))
            {
                throw new InvalidDataException($"initializer '{name}/W' (or '{name}/Wq' for int8) is missing");
            }

            var q = Integers($"{name}/Wq", size);
            var zeroPoint = Integers($"{name}/Wzp", 1)[0];
            var scaleTensor = Get($"{name}/Wscale");
            bool perColumn = scaleTensor.Dims.Aggregate(1L, (a, d) => a * d) != 1;
            var scales = Floats($"{name}/Wscale", perColumn ? batches * outputs : 1);
            var w = new float[size];
            for (int n = 0; n < size; n++)
            {
                int column = perColumn ? ((n / (inputs * outputs)) * outputs) + (n % outputs) : 0;
                w[n] = (q[n] - zeroPoint) * scales[column];
            }

            return new DenseWeights(inputs, outputs, w, b);
        }

        public float[] Floats(string name, int count)
        {
            var tensor = Get(name);
            if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
            {
                throw new InvalidDataException($"initializer '{name}' has data type {tensor.DataType}, expected float");
            }

            RequireCount(tensor, count);
            if (!tensor.RawData.IsEmpty)
            {
                var raw = tensor.RawData.Span;
                RequireBytes(tensor, raw.Length, count * sizeof(float));
                var values = new float[count];
                for (int i = 0; i < count; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * sizeof(float))..]);
                }

                return values;
            }

            RequireBytes(tensor, tensor.FloatData.Count, count);
            return [.. tensor.FloatData];
        }

        /// <summary>uint8 or int8 values (from <c>raw_data</c> or <c>int32_data</c>), widened to int.</summary>
        public int[] Integers(string name, int count)
        {
            var tensor = Get(name);
            bool signed = tensor.DataType == (int)TensorProto.Types.DataType.Int8;
            if (!signed && tensor.DataType != (int)TensorProto.Types.DataType.Uint8)
            {
                throw new InvalidDataException($"initializer '{name}' has data type {tensor.DataType}, expected uint8 or int8");
            }

            RequireCount(tensor, count);
            var values = new int[count];
            if (!tensor.RawData.IsEmpty)
            {
                var raw = tensor.RawData.Span;
                RequireBytes(tensor, raw.Length, count);
                for (int i = 0; i < count; i++)
                {
                    values[i] = signed ? unchecked((sbyte)raw[i]) : raw[i];
                }

                return values;
            }

            RequireBytes(tensor, tensor.Int32Data.Count, count);
            for (int i = 0; i < count; i++)
            {
                values[i] = signed ? unchecked((sbyte)tensor.Int32Data[i]) : unchecked((byte)tensor.Int32Data[i]);
            }

            return values;
        }

        private TensorProto Get(string name) =>
            byName.TryGetValue(name, out var tensor) ? tensor : throw new InvalidDataException($"initializer '{name}' is missing");

        private static void RequireCount(TensorProto tensor, int count)
        {
            long elements = tensor.Dims.Aggregate(1L, (a, d) => a * d);
            if (elements != count)
            {
                throw new InvalidDataException($"initializer '{tensor.Name}': shape [{string.Join(", ", tensor.Dims)}] has {elements} values, expected {count}");
            }
        }

        private static void RequireBytes(TensorProto tensor, int actual, int expected)
        {
            if (actual != expected)
            {
                throw new InvalidDataException($"initializer '{tensor.Name}': {actual} stored values/bytes, expected {expected}");
            }
        }
    }
}
