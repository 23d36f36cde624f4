using System.Globalization;

namespace EdgeProfile.Bench.FederatedRetail;

/// <summary>
/// Dunnhumby / 84.51° The Complete Journey 2.0 (transactions_sample.csv: a random 75,000-line sample of 2017, 2,377
/// households, 293 stores; product categories from products.csv). Each household is assigned to the store where it has
/// the most baskets (ties: more spend, then lower store id); stores are grouped into <c>edges</c> edges, largest store
/// first onto the edge with the fewest households, so every edge carries whole real stores.
/// </summary>
internal static class CompleteJourneySource
{
    public static RetailSource Load(string directory, int edges, int stepDays)
    {
        var categories = new Dictionary<string, int>(StringComparer.Ordinal);
        var productCategory = new Dictionary<int, int>();
        foreach (var line in File.ReadLines(Path.Combine(directory, "products.csv")).Skip(1))
        {
            var f = Csv.Split(line);
            if (f[4].Length > 0)
            {
                if (!categories.TryGetValue(f[4], out var id))
                {
                    id = categories.Count;
                    categories[f[4]] = id;
                }
                productCategory[(int)Id(f[0])] = id;
            }
        }

        var purchases = new List<Purchase>();
        var stores = new List<int>();
        foreach (var line in File.ReadLines(Path.Combine(directory, "transactions_sample.csv")).Skip(1))
        {
            // household_id,store_id,basket_id,product_id,quantity,sales_value,retail_disc,coupon_disc,coupon_match_disc,week,transaction_timestamp
            var f = Csv.Split(line);
            var product = (int)Id(f[3]);
            purchases.Add(new Purchase(
                (int)Id(f[0]),
                DateTime.ParseExact(f[10], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                Id(f[2]),
                product,
                productCategory.GetValueOrDefault(product, -1),
                float.Parse(f[5], CultureInfo.InvariantCulture),
                float.Parse(f[4], CultureInfo.InvariantCulture)));
            stores.Add((int)Id(f[1]));
        }

        var home = purchases.Select((p, i) => (p.Customer, Store: stores[i], p.Basket, p.Amount))
            .GroupBy(x => x.Customer)
            .ToDictionary(g => g.Key, g => g.GroupBy(x => x.Store)
                .Select(s => (Store: s.Key, Baskets: s.Select(x => x.Basket).Distinct().Count(), Spend: s.Sum(x => (double)x.Amount)))
                .OrderByDescending(s => s.Baskets).ThenByDescending(s => s.Spend).ThenBy(s => s.Store)
                .First().Store);
        var storeEdge = new Dictionary<int, int>();
        var load = new int[edges];
        var storeNames = Enumerable.Range(0, edges).Select(_ => new List<int>()).ToArray();
        foreach (var store in home.Values.GroupBy(s => s).OrderByDescending(g => g.Count()).ThenBy(g => g.Key))
        {
            var edge = Array.IndexOf(load, load.Min());
            storeEdge[store.Key] = edge;
            load[edge] += store.Count();
            storeNames[edge].Add(store.Key);
        }
        var partitions = storeNames.Select((s, e) => $"edge-{e + 1} ({s.Count} stores, e.g. {string.Join('/', s.Take(3))})").ToArray();

        var firstTest = new DateTime(2017, 9, 17);
        return new RetailSource(
            "completejourney",
            $"households → store with most baskets → {edges} edges of whole stores (balanced by households)",
            partitions,
            home.ToDictionary(h => h.Key, h => storeEdge[h.Value]),
            purchases,
            RetailSource.TrainGrid(new DateTime(2017, 3, 1), stepDays, CustomerRows.ChurnDays, firstTest),
            [firstTest, new DateTime(2017, 10, 1)]);
    }

    // R's write.csv prints some ids in scientific notation (900000 as "9e+05").
    private static long Id(string text) => (long)decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}
