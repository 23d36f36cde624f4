namespace EdgeProfile.Hub.Api;

/// <summary>
/// <c>GET /api/profiles/{customerKey}</c>: one customer across every store that has seen them. <c>Scores</c> holds each
/// store's latest model scores of the customer, one entry per store and task (empty when analytics or personalisation
/// consent is withdrawn).
/// </summary>
public sealed record GlobalProfile(
    string ProfileId,
    IReadOnlyList<string> Identifiers,
    IReadOnlyList<StoreProfileEntry> Stores,
    GlobalFeatures Global,
    IReadOnlyList<TagReason> Tags,
    IReadOnlyList<ProfileScore> Scores,
    IReadOnlyList<string> Reasons)
{
    /// <summary>The customer's latest searches at any store, newest first (at most 10).</summary>
    public IReadOnlyList<StoreSearchEntry> Searches { get; init; } = [];

    /// <summary>What the customer's data may be used for.</summary>
    public ConsentState Consent { get; init; } = ConsentState.Granted;
}

/// <summary>A search a customer made at a store.</summary>
/// <param name="StoreId">The store (or CDN/app node) that saw it.</param>
/// <param name="Text">The search text.</param>
/// <param name="At">When.</param>
/// <param name="Channel">Channel.</param>
public sealed record StoreSearchEntry(string StoreId, string Text, DateTimeOffset At, string Channel);
