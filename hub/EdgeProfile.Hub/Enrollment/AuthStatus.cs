namespace EdgeProfile.Hub.Enrollment;

/// <summary>The outcome of checking a store's credential.</summary>
internal enum AuthStatus
{
    Ok,
    UnknownStore,
    Revoked,
    WrongCredential,
}
