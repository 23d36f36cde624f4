namespace EdgeProfile.Hub.Segments;

/// <summary>Segment names as the hub accepts them.</summary>
internal static class SegmentNames
{
    public const int MaxLength = 64;

    public const string Rule = "1-64 characters of a-z 0-9 _ -";

    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength &&
        name.All(ch => char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch is '_' or '-');
}
