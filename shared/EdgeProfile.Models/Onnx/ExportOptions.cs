namespace EdgeProfile.Models.Onnx;

/// <summary>How <see cref="OnnxExporter"/> writes a model.</summary>
public sealed class ExportOptions
{
    /// <summary>
    /// Dynamic int8 quantization: every dense layer's weights are stored as 8-bit integers (symmetric around zero)
    /// and its input is quantized at run time by <c>DynamicQuantizeLinear</c> to uint8 with one scale per input
    /// tensor, i.e. per call: a row's scores then depend slightly on the other rows of its batch, and a single row
    /// is quantized most finely. About 4x smaller weights; see the tests for the measured accuracy. Default false (fp32).
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "Int8 names the quantization scheme, as in the ONNX/ORT docs.")]
    public bool Int8 { get; init; }

    /// <summary>With <see cref="Int8"/>: one scale per output column instead of one per weight matrix. More accurate,
    /// but each column costs 4 bytes of scale, which matters on narrow layers. Default false.</summary>
    public bool Int8PerColumn { get; init; }

    /// <summary>With <see cref="Int8"/>: how the 8-bit weights are stored. Default <see cref="Int8WeightType.Offset128"/>
    /// (exact on every x86 CPU); <see cref="Int8WeightType.ZeroCentered"/> gives identical results on CPUs with VNNI.</summary>
    public Int8WeightType Int8Weights { get; init; } = Int8WeightType.Offset128;

    /// <summary>
    /// ONNX IR version written. Default 8: the newest that Debian 12's <c>python3-onnx</c> (1.12) checker accepts;
    /// ONNX Runtime 1.31 reads up to 13, so 10 (with opset 21) works at run time too.
    /// </summary>
    public long IrVersion { get; init; } = 8;

    /// <summary>
    /// ai.onnx opset imported. Default 17 (the newest Debian's onnx 1.12 knows). Every operator used here has the
    /// same semantics from opset 13 to 21 (later versions only add element types), so 13–26 are accepted.
    /// </summary>
    public long OpsetVersion { get; init; } = 17;

    /// <summary>Written to <c>ModelProto.model_version</c>. Default 0 (unset).</summary>
    public long ModelVersion { get; init; }

    /// <summary>Human-readable description written to <c>ModelProto.doc_string</c>.</summary>
    public string? Description { get; init; }

    /// <summary>
    /// Extra metadata written to <c>metadata_props</c>, e.g. model version, feature versions, training window,
    /// metrics. Keys must not collide with the ones the exporter writes (see <see cref="OnnxMetadataKeys"/>).
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}
