namespace EdgeProfile.Hub.Api;

/// <summary>A tag of the global profile and why: the stores that reported it.</summary>
public sealed record TagReason(string Name, string Reason);
