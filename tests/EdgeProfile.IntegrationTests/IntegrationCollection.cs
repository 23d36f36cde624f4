namespace EdgeProfile.IntegrationTests;

/// <summary>
/// Every test here runs real brokers, hubs, child processes and fsync'd SQLite files; on a 2-core box they measure
/// nothing useful when they run side by side, so they share one non-parallel collection.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IntegrationCollection
{
    public const string Name = "Integration (serial)";
}
