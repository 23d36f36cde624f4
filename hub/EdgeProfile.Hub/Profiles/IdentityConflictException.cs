namespace EdgeProfile.Hub.Profiles;

/// <summary>An identity change that cannot be made in the graph's current state (answered 409).</summary>
public sealed class IdentityConflictException : Exception
{
    /// <summary>Creates the exception.</summary>
    public IdentityConflictException()
    {
    }

    /// <summary>Creates the exception with a message for the operator.</summary>
    public IdentityConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public IdentityConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
