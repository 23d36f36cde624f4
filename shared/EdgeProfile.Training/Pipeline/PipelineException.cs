namespace EdgeProfile.Training.Pipeline;

/// <summary>
/// A training or evaluation run cannot proceed: a missing file or column, no usable rows, a label with one class.
/// The message is one line that names the file, column or label.
/// </summary>
public sealed class PipelineException : Exception
{
    /// <summary>Creates the exception; <paramref name="isUsage"/> marks a problem with the arguments (a missing file).</summary>
    public PipelineException(string message, bool isUsage)
        : base(message) => IsUsage = isUsage;

    /// <summary>Creates a data problem (not a usage problem).</summary>
    public PipelineException(string message)
        : base(message)
    {
    }

    /// <summary>Creates a data problem wrapping <paramref name="innerException"/>.</summary>
    public PipelineException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public PipelineException()
    {
    }

    /// <summary>True when the arguments are wrong (a file that does not exist), false when the data is.</summary>
    public bool IsUsage { get; }
}
