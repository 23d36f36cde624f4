namespace EdgeProfile.Core.Identity;

/// <summary>What <see cref="IdentityPlanner"/> needs to know of the current identity graph.</summary>
public interface IIdentityView
{
    /// <summary>The profile <paramref name="key"/> belongs to, or null when the key is new.</summary>
    string? ProfileOf(string key);

    /// <summary>How many identifiers of each kind <paramref name="profileId"/> holds.</summary>
    IReadOnlyDictionary<string, int> KindCounts(string profileId);

    /// <summary>Whether an operator split these two profiles apart (they must not merge again).</summary>
    bool Separated(string profileA, string profileB);
}
