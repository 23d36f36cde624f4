namespace EdgeProfile.Synthesis.Dfs;

/// <summary>What deep feature synthesis generates.</summary>
public sealed record DfsOptions
{
    /// <summary>Maximum depth: 1 aggregates raw transaction variables; 2 adds transforms, ratios and parent-entity stacking.</summary>
    public int Depth { get; init; } = 2;

    /// <summary>Windows before the cutoff besides all history (default 30 and 90 days).</summary>
    public IReadOnlyList<TimeSpan> Windows { get; init; } = [TimeSpan.FromDays(30), TimeSpan.FromDays(90)];

    /// <summary>How many interesting values (the most frequent) of each categorical variable get <c>WHERE</c> features.</summary>
    public int InterestingValues { get; init; } = 3;

    /// <summary>Interesting values are counted on rows before this time (Unix ms), so choosing them leaks nothing past the earliest cutoff.</summary>
    public long InterestingBefore { get; init; } = long.MaxValue;
}
