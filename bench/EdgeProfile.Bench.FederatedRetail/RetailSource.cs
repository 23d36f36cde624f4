namespace EdgeProfile.Bench.FederatedRetail;

/// <summary>
/// A real retail data set cut into partitions (the federated clients): each customer belongs to exactly one partition,
/// with the cutoffs its point-in-time rows are built at (train cutoffs end their label windows before the first test cutoff).
/// </summary>
internal sealed record RetailSource(
    string Name,
    string PartitionRule,
    IReadOnlyList<string> Partitions,
    IReadOnlyDictionary<int, int> CustomerPartition,
    IReadOnlyList<Purchase> Purchases,
    IReadOnlyList<DateTime> TrainCutoffs,
    IReadOnlyList<DateTime> TestCutoffs)
{
    /// <summary>Train cutoffs every <paramref name="stepDays"/> from <paramref name="first"/> whose longest label window
    /// (<paramref name="horizonDays"/>) closes by the first test cutoff: no test-period outcome leaks into training.</summary>
    public static IReadOnlyList<DateTime> TrainGrid(DateTime first, int stepDays, int horizonDays, DateTime firstTest)
    {
        var cutoffs = new List<DateTime>();
        for (var c = first; c.AddDays(horizonDays) <= firstTest; c = c.AddDays(stepDays))
        {
            cutoffs.Add(c);
        }
        return cutoffs;
    }
}
