namespace EdgeProfile.Core.Identity;

/// <summary>
/// What one set of co-occurring identifiers does to the graph: the existing <see cref="Profiles"/> that become one
/// (strongest identifier's first), the <see cref="NewKeys"/> that join them, and the keys that were kept out.
/// </summary>
/// <param name="Profiles">Existing profiles to merge, in the order their identifiers were accepted.</param>
/// <param name="NewKeys">Keys not yet in any profile that join the merged profile.</param>
/// <param name="Rejected">Keys kept out, with the reason.</param>
public sealed record IdentityPlan(IReadOnlyList<string> Profiles, IReadOnlyList<string> NewKeys, IReadOnlyList<RejectedKey> Rejected)
{
    /// <summary>Whether anything joins: a merge of two or more profiles, or a new key.</summary>
    public bool Links => Profiles.Count > 1 || (NewKeys.Count > 0 && Profiles.Count + NewKeys.Count > 1);
}

/// <summary>A key that a plan kept out of the profile.</summary>
/// <param name="Key">The key.</param>
/// <param name="Reason">Why, in words an operator reads in the log and the audit.</param>
/// <param name="Blocked">A blocked identifier (it belongs to no profile) rather than a limit or a split.</param>
public sealed record RejectedKey(string Key, string Reason, bool Blocked);
