namespace EdgeProfile.Hub.Api;

/// <summary>Body of <c>POST /api/enrollments</c>. <see cref="Kind"/> is store (default), cdn or partner.</summary>
public sealed record EnrollmentRequest(string? StoreId, string? Kind);
