namespace EdgeProfile.Hub.Api;

/// <summary><c>GET /api/health</c>.</summary>
public sealed record HealthResponse(string Status, string Version);
