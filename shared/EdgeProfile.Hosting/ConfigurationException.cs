namespace EdgeProfile.Hosting;

/// <summary>A bad or missing setting; the message names the key.</summary>
public sealed class ConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConfigurationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
