namespace EdgeProfile.Core.Profiles;

/// <summary>A search the customer made (the text as typed, at most <see cref="MaxLength"/> characters), when and where.</summary>
/// <param name="Text">The search text.</param>
/// <param name="At">Event time.</param>
/// <param name="Channel">The channel it came from.</param>
public sealed record RecentSearch(string Text, DateTimeOffset At, string Channel)
{
    /// <summary>Longest text kept.</summary>
    public const int MaxLength = 100;

    /// <summary>Distinct searches kept per customer, newest first.</summary>
    public const int MaxKept = 5;
}
