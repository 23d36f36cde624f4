using System.Text.Json;
using EdgeProfile.Hub.Profiles;

namespace EdgeProfile.Hub.Recommending;

/// <summary>A product in a customer's history across stores: what it was, how, when and at which store.</summary>
internal sealed record StoreItem(string Sku, string? Name, string Type, long AtUnixMs, string Store);

/// <summary>
/// One customer's behaviour sequence across stores, from each store's <c>store_profiles.items</c>: merged in time order
/// (ties by store), a repeat of the product just before it only moving its time (its name kept when the later one has
/// none) — the same rule the edge applies to its own sequence.
/// </summary>
internal static class StoreItems
{
    public static List<StoreItem> Merge(IEnumerable<(string Store, string Json)> rows)
    {
        var all = new List<StoreItem>();
        foreach (var (store, json) in rows)
        {
            foreach (var item in JsonSerializer.Deserialize<List<ProfileReader.ItemJson>>(json) ?? [])
            {
                all.Add(new StoreItem(item.Sku, item.Name, item.Type, item.AtUnixMs, store));
            }
        }

        all.Sort((a, b) => a.AtUnixMs != b.AtUnixMs ? a.AtUnixMs.CompareTo(b.AtUnixMs) : string.CompareOrdinal(a.Store, b.Store));
        var merged = new List<StoreItem>(all.Count);
        foreach (var item in all)
        {
            if (merged.Count > 0 && merged[^1].Sku == item.Sku)
            {
                merged[^1] = item with { Name = item.Name ?? merged[^1].Name };
                continue;
            }

            merged.Add(item);
        }

        return merged;
    }
}
