namespace EdgeProfile.Hub.Api;

/// <summary>A segment (audience) as <c>GET /api/segments</c> and <c>GET|PUT|DELETE /api/segments/{name}</c> answer it.</summary>
/// <param name="Name">The name: 1-64 characters of a-z 0-9 _ -.</param>
/// <param name="Expression">The rule, e.g. <c>spend_30d &gt;= 100 and has_tag("vip")</c>.</param>
/// <param name="Description">What the segment is for.</param>
/// <param name="Version">1 when created, +1 per replacement.</param>
/// <param name="Members">Profiles in the segment now.</param>
/// <param name="CreatedAt">When the name was first defined.</param>
/// <param name="UpdatedAt">When the current version was defined.</param>
public sealed record SegmentSummary(string Name, string Expression, string Description, long Version, long Members,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
