namespace EdgeProfile.Hub.Features;

/// <summary>What a registration or retirement did to one name (<see cref="FeatureChange.Outcome"/>).</summary>
public static class FeatureOutcome
{
    /// <summary>A name the registry did not know: stored as version 1.</summary>
    public const string Created = "created";

    /// <summary>Different content from the current version: stored as the next version.</summary>
    public const string NewVersion = "new_version";

    /// <summary>The same content as the current version: nothing stored.</summary>
    public const string Unchanged = "unchanged";

    /// <summary>A retired name registered again with its last content: back in the set, same version.</summary>
    public const string Restored = "restored";

    /// <summary>The name left the current set (its versions are kept).</summary>
    public const string Retired = "retired";
}
