namespace EdgeProfile.Hub.Api;

/// <summary>201 answer of <c>POST /api/enrollments</c>: the one-time token, shown only here.</summary>
public sealed record EnrollmentTokenResponse(string Token, string StoreId, string Kind, DateTimeOffset ExpiresAt);
