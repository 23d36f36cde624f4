namespace EdgeProfile.Hub.Features;

/// <summary>
/// The answer to <c>PUT</c>, <c>DELETE</c> and <c>POST /api/features</c>: the registry revision afterwards (the same
/// as before when nothing changed) and what happened to each name, in request order.
/// </summary>
/// <param name="Revision">The registry revision after the request.</param>
/// <param name="Changes">One entry per name of the request.</param>
public sealed record FeatureChangeResult(long Revision, IReadOnlyList<FeatureChange> Changes);
