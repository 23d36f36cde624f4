using EdgeProfile.Hub.Api;

namespace EdgeProfile.Hub.Segments;

/// <summary>A profile in a segment, since when.</summary>
internal sealed record SegmentMember(GlobalProfile Profile, DateTimeOffset Since);
