namespace EdgeProfile.Edge.Tests;

/// <summary>
/// Every test that starts an edge runs in this one collection, one at a time: each binds MQTT and HTTP ports and
/// the heavy ones use both cores, so running them side by side only makes them slow and their ports racy.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EdgeCollection
{
    public const string Name = "edge";
}
