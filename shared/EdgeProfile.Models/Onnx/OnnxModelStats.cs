using EdgeProfile.Models.Onnx.Proto;

namespace EdgeProfile.Models.Onnx;

/// <summary>
/// Sizes of an exported model: the whole file, all initializers, and the dense-layer weights alone (fp32 matrices,
/// or int8 matrices plus their scales and zero points) — the part int8 quantization shrinks.
/// </summary>
public sealed record OnnxModelStats(long FileBytes, long InitializerBytes, long WeightBytes, int Nodes)
{
    private static readonly string[] WeightSuffixes = ["/W", "/Wq", "/Wscale", "/Wzp"];

    /// <summary>Measures a model written by <see cref="OnnxExporter"/>.</summary>
    public static OnnxModelStats Measure(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var proto = ModelProto.Parser.ParseFrom(model);
        long initializers = 0;
        long weights = 0;
        foreach (var tensor in proto.Graph.Initializer)
        {
            initializers += tensor.RawData.Length;
            if (WeightSuffixes.Any(s => tensor.Name.EndsWith(s, StringComparison.Ordinal)))
            {
                weights += tensor.RawData.Length;
            }
        }

        return new OnnxModelStats(model.Length, initializers, weights, proto.Graph.Node.Count);
    }
}
