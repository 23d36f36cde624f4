using System.Runtime.InteropServices;
using EdgeProfile.Models.Onnx.Proto;
using Google.Protobuf;

namespace EdgeProfile.Models.Onnx;

/// <summary>Appends nodes and initializers to a <see cref="GraphProto"/>, keeping value names unique.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private int nodeCount;

    public OnnxGraphBuilder(string name)
    {
        Graph = new GraphProto { Name = name };
    }

    public GraphProto Graph { get; }

    /// <summary>Bytes of the initializers tagged as dense-layer weights (matrices plus their quantization parameters).</summary>
    public long WeightBytes { get; private set; }

    public void Reserve(string name)
    {
        if (!names.Add(name))
        {
            throw new InvalidDataException($"value name '{name}' is used twice in the graph (a task named like an internal value?)");
        }
    }

    public string Float(string name, ReadOnlySpan<float> values, long[] dims, bool isWeight = false) =>
        Initializer(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values), dims, isWeight);

    public string Int64(string name, ReadOnlySpan<long> values, long[] dims) =>
        Initializer(name, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(values), dims, false);

    public string Bytes(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> values, long[] dims, bool isWeight) =>
        Initializer(name, type, values, dims, isWeight);

    /// <summary>Adds a node with one output named <paramref name="output"/> (or a fresh name) and returns that name.</summary>
    public string Node(string opType, string[] inputs, string output, params AttributeProto[] attributes) =>
        NodeMany(opType, inputs, [output], attributes)[0];

    public string[] NodeMany(string opType, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        foreach (var output in outputs)
        {
            Reserve(output);
        }

        var node = new NodeProto { OpType = opType, Name = $"{opType}_{nodeCount++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return outputs;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static ValueInfoProto TensorInfo(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim is string symbol
                ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture) });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private string Initializer(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> raw, long[] dims, bool isWeight)
    {
        // raw_data must be little-endian; MemoryMarshal gives the machine's byte order.
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX export needs a little-endian machine");
        }

        Reserve(name);
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        Graph.Initializer.Add(tensor);
        if (isWeight)
        {
            WeightBytes += raw.Length;
        }

        return name;
    }
}
