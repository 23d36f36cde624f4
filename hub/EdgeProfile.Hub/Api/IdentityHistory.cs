namespace EdgeProfile.Hub.Api;

/// <summary>How a profile's identifiers came together: <c>GET /api/identity/{key}</c>.</summary>
/// <param name="Profile">The profile, <c>ep:&lt;id&gt;</c>.</param>
/// <param name="Identifiers">Its identifiers now.</param>
/// <param name="Links">Every recorded pair that involves one of them, with where and when it was seen.</param>
/// <param name="Audit">Merges, rejections and unmerges of this profile (and of profiles it absorbed), oldest first.</param>
public sealed record IdentityHistory(string Profile, IReadOnlyList<string> Identifiers, IReadOnlyList<IdentityLinkEntry> Links, IReadOnlyList<IdentityAuditEntry> Audit);

/// <summary>A pair of identifiers uploaded together.</summary>
/// <param name="From">The strongest accepted identifier of the upload.</param>
/// <param name="To">The other identifier.</param>
/// <param name="Store">The store that first sent the pair.</param>
/// <param name="FirstSeen">When it was first seen.</param>
/// <param name="LastSeen">When it was last seen.</param>
/// <param name="Status"><c>linked</c>, <c>rejected</c> (a limit or a split), <c>blocked</c> or <c>split</c> (undone by an operator).</param>
/// <param name="Reason">Why, when not linked.</param>
public sealed record IdentityLinkEntry(string From, string To, string Store, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, string Status, string? Reason);

/// <summary>One audited identity change.</summary>
/// <param name="Seq">Its number; a merge's number is what <c>POST /api/identity/merges/{seq}/unmerge</c> takes.</param>
/// <param name="At">When.</param>
/// <param name="Action"><c>merge</c>, <c>reject</c> or <c>unmerge</c>.</param>
/// <param name="Actor">The store whose upload did it, or <c>operator</c>.</param>
/// <param name="Profile">merge: the surviving profile; unmerge: the profile split from; reject: the profile the key was kept out of.</param>
/// <param name="Other">merge: the absorbed profile; unmerge: the restored one; reject: the rejected key's own profile.</param>
/// <param name="Keys">merge/unmerge: the absorbed profile's identifiers; reject: the rejected identifier.</param>
/// <param name="Reason">Why (rejections).</param>
/// <param name="UndoneBy">merge: the unmerge that reverted it.</param>
public sealed record IdentityAuditEntry(long Seq, DateTimeOffset At, string Action, string Actor, string Profile, string? Other,
    IReadOnlyList<string> Keys, string? Reason, long? UndoneBy);

/// <summary>What an unmerge did.</summary>
/// <param name="Seq">The unmerge's audit number.</param>
/// <param name="Merge">The merge it reverted.</param>
/// <param name="From">The profile the identifiers left.</param>
/// <param name="Restored">The profile they form again (the absorbed profile's old id).</param>
/// <param name="Identifiers">The identifiers moved back.</param>
public sealed record UnmergeResult(long Seq, long Merge, string From, string Restored, IReadOnlyList<string> Identifiers);
