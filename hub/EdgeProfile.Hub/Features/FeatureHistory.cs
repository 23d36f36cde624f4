namespace EdgeProfile.Hub.Features;

/// <summary><c>GET /api/features/{name}</c>: a name's current version, whether it is retired, and its lineage.</summary>
/// <param name="Name">The feature name.</param>
/// <param name="Current">The current (latest) version number.</param>
/// <param name="Id">The current definition id, <c>name@vN</c>; edges stamp values with it.</param>
/// <param name="Retired">True when the name is not in the current set.</param>
/// <param name="RetiredAt">When it was retired, if it is.</param>
/// <param name="Revision">The registry revision now.</param>
/// <param name="Versions">Every version, oldest first.</param>
public sealed record FeatureHistory(
    string Name,
    int Current,
    string Id,
    bool Retired,
    DateTimeOffset? RetiredAt,
    long Revision,
    IReadOnlyList<FeatureVersion> Versions);
