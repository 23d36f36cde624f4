namespace EdgeProfile.Hub.Features;

/// <summary>What happened to one name: <paramref name="Outcome"/> is one of <see cref="FeatureOutcome"/>.</summary>
/// <param name="Name">The feature name.</param>
/// <param name="Version">The name's current version afterwards.</param>
/// <param name="Id">The definition id values are stamped with, <c>name@vN</c>.</param>
/// <param name="Outcome">created, new_version, unchanged, restored or retired.</param>
public sealed record FeatureChange(string Name, int Version, string Id, string Outcome);
