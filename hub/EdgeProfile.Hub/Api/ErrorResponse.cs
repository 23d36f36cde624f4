namespace EdgeProfile.Hub.Api;

/// <summary>Every REST error: <c>{"error":"..."}</c> with a 4xx/5xx status.</summary>
public sealed record ErrorResponse(string Error);
