namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// A secure-aggregation round cannot go on: too few clients remain for the threshold, a peer sent a message that
/// breaks the protocol, or a share failed authentication. The message names the step and the reason.
/// </summary>
public sealed class SecAggException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SecAggException()
    {
    }

    /// <summary>Creates the exception with a reason.</summary>
    public SecAggException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a reason and its cause.</summary>
    public SecAggException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
