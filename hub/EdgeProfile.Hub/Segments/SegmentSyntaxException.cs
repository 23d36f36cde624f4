namespace EdgeProfile.Hub.Segments;

/// <summary>A segment expression that does not parse. <see cref="Exception.Message"/> reads <c>at 14: expected a value after '&gt;='</c>.</summary>
public sealed class SegmentSyntaxException : Exception
{
    /// <summary>Creates the error for 1-based character <paramref name="position"/>.</summary>
    public SegmentSyntaxException(int position, string reason)
        : base($"at {position}: {reason}")
    {
        Position = position;
        Reason = reason;
    }

    /// <summary>Creates an error without a position (for serializers and tests).</summary>
    public SegmentSyntaxException()
        : this(1, "invalid expression")
    {
    }

    /// <summary>Creates an error without a position (for serializers and tests).</summary>
    public SegmentSyntaxException(string message)
        : this(1, message)
    {
    }

    /// <summary>Creates an error without a position (for serializers and tests).</summary>
    public SegmentSyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
        Position = 1;
        Reason = message;
    }

    /// <summary>The 1-based character position of the problem (the length + 1 when the expression ended too early).</summary>
    public int Position { get; }

    /// <summary>What is wrong, without the position.</summary>
    public string Reason { get; }
}
