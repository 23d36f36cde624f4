using System.Text.Json;

namespace EdgeProfile.Hub.Features;

/// <summary>One stored version of a definition, with what changed since the version before it.</summary>
/// <param name="Version">The version number, from 1.</param>
/// <param name="Id"><c>name@vN</c>.</param>
/// <param name="CreatedAt">When the hub stored it.</param>
/// <param name="Owner">The definition's owner at that version.</param>
/// <param name="Revision">The registry revision that introduced it.</param>
/// <param name="Changes">Field changes from the previous version (<c>window.size: 30d → 14d</c>); empty for version 1.</param>
/// <param name="Definition">The definition as canonical FeatureDefinition JSON.</param>
public sealed record FeatureVersion(
    int Version,
    string Id,
    DateTimeOffset CreatedAt,
    string Owner,
    long Revision,
    IReadOnlyList<string> Changes,
    JsonElement Definition);
