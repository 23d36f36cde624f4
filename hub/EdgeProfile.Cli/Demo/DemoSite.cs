namespace EdgeProfile.Cli.Demo;

/// <summary>
/// One edge of the demo: a physical store (<see cref="Kind"/> "store") or the online/CDN node ("cdn"), with the
/// channels its devices publish on.
/// </summary>
public sealed record DemoSite(string StoreId, string Kind, IReadOnlyList<string> Channels)
{
    /// <summary>The demo's default sites: three stores (pos, kiosk) and one online/CDN edge (app, web, cdn).</summary>
    public static IReadOnlyList<DemoSite> Defaults { get; } = CreateDefaults(3);

    /// <summary>True for the online/CDN node.</summary>
    public bool IsOnline => Kind is "cdn";

    /// <summary>The topic JSON events for this site are published on (contracts.md §1).</summary>
    public string Topic => $"ep/v1/{StoreId}/events";

    /// <summary><paramref name="stores"/> physical stores (store-001...) plus the online edge cdn-001.</summary>
    public static IReadOnlyList<DemoSite> CreateDefaults(int stores)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stores, 1);
        var sites = new List<DemoSite>(stores + 1);
        for (var i = 1; i <= stores; i++)
        {
            sites.Add(new DemoSite($"store-{i:000}", "store", ["pos", "kiosk"]));
        }

        sites.Add(new DemoSite("cdn-001", "cdn", ["app", "web", "cdn"]));
        return sites;
    }
}
