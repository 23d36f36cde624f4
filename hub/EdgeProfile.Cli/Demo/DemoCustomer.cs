namespace EdgeProfile.Cli.Demo;

/// <summary>
/// A simulated customer: identifiers (which decide how the hub links them across stores and channels), habits,
/// and what the last <see cref="DemoEventGenerator.Generate"/> produced for them.
/// </summary>
public sealed class DemoCustomer
{
    private readonly HashSet<string> _sites = new(StringComparer.Ordinal);
    private readonly HashSet<string> _channels = new(StringComparer.Ordinal);

    internal DemoCustomer(int index)
    {
        Index = index;
    }

    /// <summary>Position in <see cref="DemoEventGenerator.Customers"/>.</summary>
    public int Index { get; }

    /// <summary>Loyalty card number, e.g. <c>L-100042</c>; null for customers without a card.</summary>
    public string? LoyaltyId { get; internal set; }

    /// <summary>App account, e.g. <c>u-42</c>; null for customers without the app.</summary>
    public string? AppUserId { get; internal set; }

    /// <summary>Raw email (pseudonymised by the edge); may be null.</summary>
    public string? Email { get; internal set; }

    /// <summary>Raw phone (pseudonymised by the edge); may be null.</summary>
    public string? Phone { get; internal set; }

    /// <summary>Payment card token (pseudonymised by the edge).</summary>
    public string CardToken { get; internal set; } = "";

    /// <summary>True when the app account is linked to the loyalty card, so app events carry both ids.</summary>
    public bool AppLinkedToLoyalty { get; internal set; }

    /// <summary>The physical store the customer mostly visits.</summary>
    public string HomeStore { get; internal set; } = "";

    /// <summary>A second store visited now and then, or null.</summary>
    public string? SecondStore { get; internal set; }

    /// <summary>Departments of interest (most browsing and buying happens there).</summary>
    public IReadOnlyList<string> Interests { get; internal set; } = [];

    /// <summary>Relative activity (how often the customer shows up).</summary>
    public double Activity { get; internal set; }

    /// <summary>
    /// The key to look the customer up with (contracts.md §2): <c>loyalty:…</c> when they have a card, else
    /// <c>app:…</c>, else null (only pseudonymised identifiers, which are not typed by hand).
    /// </summary>
    public string? PrimaryKey => LoyaltyId is not null ? "loyalty:" + LoyaltyId : AppUserId is not null ? "app:" + AppUserId : null;

    /// <summary>Sites that received valid events of this customer in the last generation.</summary>
    public IReadOnlyCollection<string> Sites => _sites;

    /// <summary>Channels of those events.</summary>
    public IReadOnlyCollection<string> Channels => _channels;

    /// <summary>Valid events in the last generation.</summary>
    public int Events { get; private set; }

    /// <summary>Purchases minus returns in CNY in the last generation.</summary>
    public double NetSpend { get; private set; }

    internal DemoProduct? LastPurchase { get; set; }

    internal string? LastPurchaseStore { get; set; }

    internal void ResetStats()
    {
        _sites.Clear();
        _channels.Clear();
        Events = 0;
        NetSpend = 0;
        LastPurchase = null;
        LastPurchaseStore = null;
    }

    internal void Record(string site, string channel, double spend)
    {
        _sites.Add(site);
        _channels.Add(channel);
        Events++;
        NetSpend += spend;
    }
}
