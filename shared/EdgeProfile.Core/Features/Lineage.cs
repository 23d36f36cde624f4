namespace EdgeProfile.Core.Features;

/// <summary>
/// Where a feature value came from: the events of the window it was computed over.
/// </summary>
/// <param name="DefinitionId">The definition, <c>name@vN</c>.</param>
/// <param name="Events">Events of the definition in the window read.</param>
/// <param name="FirstEventMs">Earliest of those events; null when none.</param>
/// <param name="LastEventMs">Latest of those events; null when none.</param>
/// <param name="LastEventId">Id of the latest event (ties on time broken by the larger id, ordinal); null when none.</param>
/// <param name="WindowStartMs">Window start, inclusive; null for lifetime or when there is no session.</param>
/// <param name="WindowEndMs">Window end, exclusive; null for lifetime or when there is no session.</param>
public sealed record Lineage(string DefinitionId, long Events, long? FirstEventMs, long? LastEventMs, string? LastEventId, long? WindowStartMs, long? WindowEndMs);
