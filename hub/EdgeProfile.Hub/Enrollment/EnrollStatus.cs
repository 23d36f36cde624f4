namespace EdgeProfile.Hub.Enrollment;

/// <summary>Why an enrollment was or was not granted.</summary>
internal enum EnrollStatus
{
    Enrolled,
    UnknownToken,
    TokenUsed,
    TokenCancelled,
    TokenExpired,
    WrongStore,
}
