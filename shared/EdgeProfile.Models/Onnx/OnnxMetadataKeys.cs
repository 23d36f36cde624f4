namespace EdgeProfile.Models.Onnx;

/// <summary>Keys of the <c>metadata_props</c> entries <see cref="OnnxExporter"/> writes.</summary>
public static class OnnxMetadataKeys
{
    /// <summary>Feature names in input column order, as a JSON array of strings.</summary>
    public const string Features = "features";

    /// <summary>Tasks in output order, as a JSON array of <c>{"name","kind","outputs","labels"}</c>.</summary>
    public const string Tasks = "tasks";

    /// <summary>Experts and hidden widths, as JSON <c>{"experts","expertHidden","towerHidden"}</c>.</summary>
    public const string Architecture = "architecture";

    /// <summary><c>none</c> or a description of the int8 scheme.</summary>
    public const string Quantization = "quantization";

    /// <summary>Producer name and version (also in <c>producer_name</c>/<c>producer_version</c>).</summary>
    public const string Producer = "producer";

    internal static readonly string[] Reserved = [Features, Tasks, Architecture, Quantization, Producer];
}
