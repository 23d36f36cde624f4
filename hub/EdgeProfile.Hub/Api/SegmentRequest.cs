namespace EdgeProfile.Hub.Api;

/// <summary>
/// Body of <c>PUT /api/segments/{name}</c>: <c>{"expression": "...", "description": "..."}</c>. Without a description
/// a replaced segment keeps its current one (<c>""</c> clears it).
/// </summary>
public sealed record SegmentRequest(string? Expression, string? Description);
