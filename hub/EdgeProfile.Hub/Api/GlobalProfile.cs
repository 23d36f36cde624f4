namespace EdgeProfile.Hub.Api;

/// <summary><c>GET /api/profiles/{customerKey}</c>: one customer across every store that has seen them.</summary>
public sealed record GlobalProfile(
    string ProfileId,
    IReadOnlyList<string> Identifiers,
    IReadOnlyList<StoreProfileEntry> Stores,
    GlobalFeatures Global,
    IReadOnlyList<TagReason> Tags,
    IReadOnlyList<ProfileScore> Scores,
    IReadOnlyList<string> Reasons);
