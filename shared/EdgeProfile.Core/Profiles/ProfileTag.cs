namespace EdgeProfile.Core.Profiles;

/// <summary>A tag and the business reason it holds (English and Chinese).</summary>
public sealed record ProfileTag(string Name, string Reason, string ReasonZh);
