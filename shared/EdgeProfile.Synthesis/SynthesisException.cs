namespace EdgeProfile.Synthesis;

/// <summary>
/// A synthesis run that cannot go on: a mapping key or column that is missing, a value that does not parse (the
/// message names the file, the line and the column), or an option out of range. The message is one line.
/// </summary>
public sealed class SynthesisException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SynthesisException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SynthesisException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public SynthesisException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception; <paramref name="isConfiguration"/> marks a problem with the mapping or the options rather than the data.</summary>
    public SynthesisException(string message, bool isConfiguration)
        : base(message)
    {
        IsConfiguration = isConfiguration;
    }

    /// <summary>True when the mapping or an option is at fault (a usage error), false when the data is.</summary>
    public bool IsConfiguration { get; }
}
