namespace EdgeProfile.Core.Profiles;

/// <summary>One customer's activity on one UTC day (day number since 1970-01-01).</summary>
public sealed class DayBucket
{
    /// <summary>Days since the Unix epoch (UTC).</summary>
    public int Day { get; set; }

    /// <summary>Purchases minus returns, in the store's currency.</summary>
    public double Spend { get; set; }

    /// <summary>Purchase events.</summary>
    public int Purchases { get; set; }

    /// <summary>Return events.</summary>
    public int Returns { get; set; }

    /// <summary>All events.</summary>
    public int Events { get; set; }
}
