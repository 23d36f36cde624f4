namespace EdgeProfile.Core.Profiles;

/// <summary>
/// One customer's state at one store: what the windows are computed from. Serialisable as plain JSON.
/// </summary>
public sealed class StoreProfile
{
    /// <summary>The customer's primary key at this store (see <see cref="Customers.Pseudonymizer.KeysOf"/>).</summary>
    public required string CustomerKey { get; set; }

    /// <summary>Every key of the customer seen at this store.</summary>
    public List<string> Identifiers { get; set; } = [];

    /// <summary>Earliest event time seen.</summary>
    public DateTimeOffset FirstSeen { get; set; }

    /// <summary>Latest event time seen.</summary>
    public DateTimeOffset LastSeen { get; set; }

    /// <summary>Category path of the latest event that had one.</summary>
    public string? LastCategory { get; set; }

    /// <summary>Channel of the latest event.</summary>
    public string? LastChannel { get; set; }

    /// <summary>All events applied.</summary>
    public long EventsTotal { get; set; }

    /// <summary>Bit i set when channel i (see <see cref="Events.Channel"/>) was seen.</summary>
    public int ChannelsMask { get; set; }

    /// <summary>Time of the latest purchase.</summary>
    public DateTimeOffset? LastPurchaseAt { get; set; }

    /// <summary>Time of the latest add-to-cart.</summary>
    public DateTimeOffset? LastCartAt { get; set; }

    /// <summary>Active days within the longest window, oldest first.</summary>
    public List<DayBucket> Days { get; set; } = [];

    /// <summary>The latest distinct searches, newest first (at most <see cref="RecentSearch.MaxKept"/>).</summary>
    public List<RecentSearch> Searches { get; set; } = [];

    /// <summary>The products the customer interacted with, oldest first (at most <see cref="RecentItem.MaxKept"/>; a
    /// repeat of the newest item only moves its time).</summary>
    public List<RecentItem> Items { get; set; } = [];
}
