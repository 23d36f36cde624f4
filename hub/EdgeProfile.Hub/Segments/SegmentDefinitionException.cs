namespace EdgeProfile.Hub.Segments;

/// <summary>A segment definition the hub refuses (400); the message names the key, e.g. <c>expression: at 14: ...</c>.</summary>
public sealed class SegmentDefinitionException : Exception
{
    /// <summary>Creates the error.</summary>
    public SegmentDefinitionException()
    {
    }

    /// <summary>Creates the error with <paramref name="message"/>.</summary>
    public SegmentDefinitionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the error with <paramref name="message"/> caused by <paramref name="innerException"/>.</summary>
    public SegmentDefinitionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
