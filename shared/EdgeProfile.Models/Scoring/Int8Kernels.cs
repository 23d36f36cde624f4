using System.Runtime.Intrinsics.X86;
using EdgeProfile.Models.Onnx.Proto;
using Google.Protobuf;

namespace EdgeProfile.Models.Scoring;

/// <summary>
/// Picks the faster of ONNX Runtime's integer kernels for int8 models when that changes no result. The exporter
/// stores int8 weights as <see cref="Onnx.Int8WeightType.Offset128"/> (uint8 with zero point 128), which is exact on
/// every x86 CPU but runs on u8·u8 kernels that match fp32 at large batches. On CPUs with VNNI, u8·s8 kernels are
/// exact too and about twice as fast, and <c>Σ (a − za)(w − 128)</c> is the same integer whether <c>w</c> is stored
/// as uint8 with zero point 128 or as the int8 <c>w − 128</c> with zero point 0 — so the loader rewrites those weights
/// in memory before creating the session. Scores are bit-for-bit those of the file as written (tested).
/// </summary>
public static class Int8Kernels
{
    /// <summary>Whether this CPU computes u8·s8 products exactly (VNNI), so the rewrite is applied.</summary>
    public static bool SignedIsExact { get; } = AvxVnni.IsSupported;

    /// <summary>
    /// The model with every <c>MatMulInteger</c> weight stored as uint8 with zero point 128 (and used by nothing
    /// else) re-encoded as int8 with zero point 0; the same bytes when there is none or the model cannot be parsed
    /// (ONNX Runtime then reports the problem as usual). <paramref name="rewritten"/> counts the weights changed.
    /// </summary>
    public static byte[] ToSignedWeights(byte[] model, out int rewritten) =>
        Rewrite(model, IsOffset128, TensorProto.Types.DataType.Int8, out rewritten);

    /// <summary>
    /// The reverse for CPUs without VNNI, where ONNX Runtime's u8·s8 kernels saturate 16-bit pair sums and can miss
    /// by far more than a quantization step (measured: 0.9 on a regression output): every <c>MatMulInteger</c> weight
    /// stored as int8 (zero point <c>z</c>, used by nothing else) is re-encoded as uint8 <c>w + 128</c> with zero point
    /// <c>z + 128</c>, the same integer products on the exact u8·u8 kernels. <paramref name="rewritten"/> counts them.
    /// </summary>
    public static byte[] ToUnsignedWeights(byte[] model, out int rewritten) =>
        Rewrite(model, IsInt8, TensorProto.Types.DataType.Uint8, out rewritten);

    /// <summary>
    /// The model as ONNX Runtime should get it on this CPU: re-encoded for the signed kernels when they are exact here
    /// and <paramref name="preferSigned"/>, re-encoded for the unsigned ones when the signed ones are not exact here;
    /// otherwise as it is.
    /// </summary>
    public static byte[] ForThisCpu(byte[] model, bool preferSigned) =>
        SignedIsExact
            ? (preferSigned ? ToSignedWeights(model, out _) : model)
            : ToUnsignedWeights(model, out _);

    // Flips the top bit of every MatMulInteger weight and zero point that `matches` (both initializers, each used by
    // that node only) and gives them type `to`; the same bytes when nothing matches or the model cannot be parsed.
    private static byte[] Rewrite(byte[] model, Func<TensorProto, TensorProto, bool> matches, TensorProto.Types.DataType to, out int rewritten)
    {
        ArgumentNullException.ThrowIfNull(model);
        rewritten = 0;
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException)
        {
            return model;
        }

        if (proto.Graph is not { } graph)
        {
            return model;
        }

        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var input in node.Input)
            {
                uses[input] = uses.GetValueOrDefault(input) + 1;
            }
        }

        var pairs = new List<(TensorProto Weight, TensorProto ZeroPoint)>();
        foreach (var node in graph.Node)
        {
            if (node.OpType != "MatMulInteger" || node.Domain is { Length: > 0 } || node.Input.Count < 4
                || !initializers.TryGetValue(node.Input[1], out var weight) || !initializers.TryGetValue(node.Input[3], out var zeroPoint)
                || uses.GetValueOrDefault(node.Input[1]) != 1 || uses.GetValueOrDefault(node.Input[3]) != 1
                || !matches(weight, zeroPoint))
            {
                continue;
            }

            pairs.Add((weight, zeroPoint));
        }

        if (pairs.Count == 0)
        {
            return model;
        }

        foreach (var (weight, zeroPoint) in pairs)
        {
            weight.RawData = Shift(weight.RawData);
            weight.DataType = (int)to;
            zeroPoint.RawData = Shift(zeroPoint.RawData);
            zeroPoint.DataType = (int)to;
        }

        rewritten = pairs.Count;
        return proto.ToByteArray();
    }

    private static bool IsInt8(TensorProto weight, TensorProto zeroPoint) =>
        weight.DataType == (int)TensorProto.Types.DataType.Int8 && zeroPoint.DataType == (int)TensorProto.Types.DataType.Int8
        && !weight.RawData.IsEmpty && !zeroPoint.RawData.IsEmpty;

    private static bool IsOffset128(TensorProto weight, TensorProto zeroPoint) =>
        weight.DataType == (int)TensorProto.Types.DataType.Uint8 && zeroPoint.DataType == (int)TensorProto.Types.DataType.Uint8
        && !weight.RawData.IsEmpty && !zeroPoint.RawData.IsEmpty && zeroPoint.RawData.Span.IndexOfAnyExcept((byte)128) < 0;

    // uint8 w ↦ int8 (w − 128), and int8 w ↦ uint8 (w + 128): both flip the top bit of each byte.
    private static ByteString Shift(ByteString data)
    {
        var bytes = data.ToByteArray();
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = unchecked((byte)(bytes[i] - 128));
        }

        return ByteString.CopyFrom(bytes);
    }
}
