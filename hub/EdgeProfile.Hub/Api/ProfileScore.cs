namespace EdgeProfile.Hub.Api;

/// <summary>A model score of the global profile (none are computed at the hub yet; the list is empty).</summary>
public sealed record ProfileScore(string Name, double Value, string ModelVersion, string Reason);
