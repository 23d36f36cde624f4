using EdgeProfile.Core.Features;

namespace EdgeProfile.Hub.Features;

/// <summary>The registry's current set at one revision, with its JSON ready to send.</summary>
internal sealed record DefinitionSnapshot(long Revision, FeatureSet Set, string Json)
{
    public static DefinitionSnapshot Of(FeatureSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return new DefinitionSnapshot(set.Revision, set, set.ToJson());
    }
}
