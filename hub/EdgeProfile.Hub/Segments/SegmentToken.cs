namespace EdgeProfile.Hub.Segments;

/// <summary>A token of a segment expression; <see cref="Position"/> is 1-based.</summary>
internal readonly record struct SegmentToken(SegmentTokenKind Kind, string Text, int Position)
{
    /// <summary>How the token reads in an error message.</summary>
    public string Describe() => Kind switch
    {
        SegmentTokenKind.End => "the end of the expression",
        SegmentTokenKind.String => "the text " + SegmentSyntax.Quote(Text),
        SegmentTokenKind.Number => "the number " + Text,
        _ => $"'{Text}'",
    };
}

/// <summary>What a <see cref="SegmentToken"/> is.</summary>
internal enum SegmentTokenKind
{
    Identifier,
    Number,
    String,
    Operator,
    LeftParen,
    RightParen,
    Comma,
    End,
}
