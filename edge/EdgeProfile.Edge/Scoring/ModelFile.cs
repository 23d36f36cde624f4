using EdgeProfile.Core.Features;
using EdgeProfile.Models.Serving;

namespace EdgeProfile.Edge.Scoring;

/// <summary>
/// What the edge requires of <c>Edge:Models:File</c>: a loadable ONNX model (as <c>OnnxExporter</c> writes it) that
/// lists its features, each a numeric online feature of this edge. Also how a model file gets its version.
/// </summary>
public static class ModelFile
{
    /// <summary>The configuration key, for messages.</summary>
    public const string Key = "Edge:Models:File";

    /// <summary>Metadata key whose value, when present, is the model's version (as the trainer stamps it).</summary>
    public const string VersionMetadataKey = EdgeProfile.Models.Serving.ModelArtifact.VersionMetadataKey;

    /// <summary>One line naming <see cref="Key"/> saying why the file cannot serve at this edge, or null when it can.</summary>
    public static string? Problem(string path, FeatureSet features)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(features);
        if (!File.Exists(path))
        {
            return $"{Key} '{path}' does not exist";
        }

        try
        {
            // The checks every server of a model makes (loads, lists its features, scores the all-zero row finitely:
            // the canary it is deployed behind), then whether this edge computes those features.
            var artifact = ModelArtifact.Inspect(File.ReadAllBytes(path), "the model");
            return FeatureProblem(artifact.Features, features) is { } problem ? $"{Key} '{path}': {problem}" : null;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return $"{Key} '{path}' is not a usable model: {FirstLine(ex.Message)}";
        }
    }

    /// <summary>Why a model taking <paramref name="modelFeatures"/> cannot be fed from <paramref name="features"/>, or null.</summary>
    public static string? FeatureProblem(IReadOnlyList<string>? modelFeatures, FeatureSet features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (modelFeatures is null)
        {
            return "its metadata does not list the features it takes (export it with OnnxExporter)";
        }

        var unknown = modelFeatures.Where(n => features.Find(n) is null).ToList();
        if (unknown.Count > 0)
        {
            return $"{Plural(unknown.Count, "feature")} {Preview(unknown)} {(unknown.Count == 1 ? "is not an online feature" : "are not online features")} of this edge";
        }

        var text = modelFeatures.Where(n => !IsNumeric(features.Find(n)!)).ToList();
        return text.Count > 0
            ? $"{Plural(text.Count, "feature")} {Preview(text)} {(text.Count == 1 ? "is not numeric" : "are not numeric")} (text and rankings cannot feed a model)"
            : null;
    }

    /// <summary>Whether a definition's values are numbers (<see cref="FeatureDefinition.IsNumeric"/>).</summary>
    public static bool IsNumeric(FeatureDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition.IsNumeric();
    }

    /// <summary>
    /// The model's version: its <see cref="VersionMetadataKey"/> metadata when the trainer stamped one, otherwise
    /// <c>sha256:</c> and the first 12 hex digits of the file's hash, so the same file keeps its version across restarts
    /// and a replaced file gets a new one.
    /// </summary>
    public static string Version(IReadOnlyDictionary<string, string> metadata, byte[] bytes) =>
        EdgeProfile.Models.Serving.ModelArtifact.VersionOf(metadata, bytes);

    private static string Plural(int n, string word) => n == 1 ? word : word + "s";

    private static string Preview(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(5).Select(n => $"'{n}'")) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
