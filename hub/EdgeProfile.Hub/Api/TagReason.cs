namespace EdgeProfile.Hub.Api;

/// <summary>
/// A tag of the global profile and why: the stores that reported it, and for a tag the operators' rules set, the live
/// rule (<see cref="Rule"/>, e.g. <c>new_parent@v1</c>) with its own description in English (in <see cref="Reason"/>)
/// and Chinese (<see cref="ReasonZh"/>).
/// </summary>
public sealed record TagReason(string Name, string Reason)
{
    /// <summary>The reason in Chinese (zh-CN), for rule tags; null otherwise.</summary>
    public string? ReasonZh { get; init; }

    /// <summary>The rule that sets the tag (<c>id@vN</c>) in the live rule set, for rule tags; null otherwise.</summary>
    public string? Rule { get; init; }
}
