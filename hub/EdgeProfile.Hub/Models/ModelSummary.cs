using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeProfile.Hub.Models;

/// <summary>
/// A registered model as <c>GET /api/models</c> shows it: the file's identity, what the trainer recorded (features
/// and their versions, tasks, metrics, training window, quantization), and where it is assigned, served or refused.
/// </summary>
public sealed record ModelSummary(
    string Version,
    string Sha256,
    long Size,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    string Description,
    IReadOnlyList<string> Features,
    JsonNode? FeatureVersions,
    JsonNode? Tasks,
    JsonNode? Metrics,
    JsonNode? TrainingWindow,
    string? Split,
    string? Quantization,
    IReadOnlyList<string> AssignedTo,
    IReadOnlyList<string> ServingAt,
    IReadOnlyList<StoreRefusal> RefusedBy)
{
    internal static ModelSummary From(
        string version, string sha256, long size, IReadOnlyDictionary<string, string> metadata, string description,
        DateTimeOffset createdAt, string createdBy, IReadOnlyList<string> assigned, IReadOnlyList<string> serving, IReadOnlyList<StoreRefusal> refused)
    {
        var features = Json(metadata, "features") is JsonArray array
            ? [.. array.Select(n => n?.GetValue<string>() ?? "")]
            : Array.Empty<string>();
        return new ModelSummary(version, sha256, size, createdAt, createdBy, description, features,
            Json(metadata, "feature_versions"), Json(metadata, "tasks"), Json(metadata, "metrics"), Json(metadata, "training_window"),
            metadata.GetValueOrDefault("split"), metadata.GetValueOrDefault("quantization"), assigned, serving, refused);
    }

    private static JsonNode? Json(IReadOnlyDictionary<string, string> metadata, string key)
    {
        if (!metadata.TryGetValue(key, out var text))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}

/// <summary>A store that refused a model, and why (its canary's verdict).</summary>
public sealed record StoreRefusal(string StoreId, string Message);
