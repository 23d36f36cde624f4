namespace EdgeProfile.Hub.Enrollment;

/// <summary>The result of trading an enrollment token; <see cref="Credential"/> is set only when enrolled.</summary>
internal sealed record EnrollOutcome(EnrollStatus Status, string? Kind = null, string? Credential = null, string? TokenStoreId = null, DateTimeOffset? ExpiredAt = null);
