namespace EdgeProfile.Hub.Api;

/// <summary>Answer of <c>POST /api/stores/{id}/revoke</c>.</summary>
public sealed record RevokeResponse(string StoreId, bool Revoked, DateTimeOffset RevokedAt);
