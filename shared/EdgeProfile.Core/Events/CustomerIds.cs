namespace EdgeProfile.Core.Events;

/// <summary>
/// The identifiers an event names its customer by. Raw email/phone/card values live only on the edge.
/// <paramref name="DeviceId"/> is an additive extension of the v1 event, hence last and optional.
/// </summary>
public sealed record CustomerIds(string? LoyaltyId, string? AppUserId, string? Email, string? Phone, string? CardToken, string? DeviceId = null)
{
    /// <summary>True when at least one identifier is present.</summary>
    public bool Any => LoyaltyId is not null || AppUserId is not null || Email is not null || Phone is not null || CardToken is not null
        || DeviceId is not null;
}
