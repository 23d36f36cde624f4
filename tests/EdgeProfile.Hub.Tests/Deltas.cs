using EdgeProfile.Contracts.V1;

namespace EdgeProfile.Hub.Tests;

/// <summary>Builds profile deltas for tests.</summary>
public static class Deltas
{
    public static readonly DateTimeOffset Day = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

    public static ProfileDelta Of(long sequence, string customerKey, params string[] identifiers) => new()
    {
        Sequence = sequence,
        CustomerKey = customerKey,
        Identifiers = { identifiers.Length == 0 ? [customerKey] : identifiers },
        UpdatedAtUnixMs = Day.ToUnixTimeMilliseconds(),
        Visits7D = 1,
        Visits30D = 1,
        Spend7D = 10,
        Spend30D = 10,
        LastSeenUnixMs = Day.ToUnixTimeMilliseconds(),
        LastCategory = "Baby & Toddler > Strollers",
        LastChannel = "pos",
        EventsTotal = sequence,
    };

    /// <summary>Deltas with sequences <paramref name="from"/>..<paramref name="to"/>, one customer each.</summary>
    public static ProfileDelta[] Range(long from, long to, string prefix = "loyalty:L-") =>
        Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => Of(i, prefix + i)).ToArray();
}
