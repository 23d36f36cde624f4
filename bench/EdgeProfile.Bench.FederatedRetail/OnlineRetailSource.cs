using System.Globalization;
using System.IO.Compression;

namespace EdgeProfile.Bench.FederatedRetail;

/// <summary>
/// UCI Online Retail (online_retail_clean.csv.gz: 2010-12-01..2011-12-09, rows with a customer id; returns already
/// removed). Each customer is assigned to the country of most of its lines, countries to six groups (below). Category =
/// the first three characters of the StockCode (the data set has no category column; codes share prefixes by range).
/// </summary>
internal static class OnlineRetailSource
{
    private static readonly (string Group, string[] Countries)[] Groups =
    [
        ("United Kingdom", ["United Kingdom"]),
        ("DACH", ["Germany", "Austria", "Switzerland"]),
        ("France, Benelux, Ireland, Channel Is.", ["France", "Belgium", "Netherlands", "EIRE", "Channel Islands"]),
        ("Southern Europe", ["Spain", "Portugal", "Italy", "Greece", "Cyprus", "Malta"]),
        ("Nordics and Eastern Europe", ["Finland", "Norway", "Denmark", "Sweden", "Iceland", "Poland", "Lithuania", "Czech Republic"]),
        ("Rest of world", []),
    ];

    public static RetailSource Load(string file, int stepDays)
    {
        var purchases = new List<Purchase>();
        var countries = new Dictionary<int, Dictionary<string, int>>();
        var products = new Dictionary<string, int>(StringComparer.Ordinal);
        var categories = new Dictionary<string, int>(StringComparer.Ordinal);
        using var reader = new StreamReader(new GZipStream(File.OpenRead(file), CompressionMode.Decompress));
        reader.ReadLine();
        while (reader.ReadLine() is { } line)
        {
            // InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
            var f = Csv.Split(line);
            if (f[6].Length == 0)
            {
                continue;
            }
            var customer = (int)double.Parse(f[6], CultureInfo.InvariantCulture);
            var quantity = float.Parse(f[3], CultureInfo.InvariantCulture);
            var price = float.Parse(f[5], CultureInfo.InvariantCulture);
            var code = f[1];
            var category = code.Length >= 3 ? code[..3] : code;
            purchases.Add(new Purchase(
                customer,
                DateTime.ParseExact(f[4], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                long.TryParse(f[0], CultureInfo.InvariantCulture, out var invoice) ? invoice : f[0].GetHashCode(StringComparison.Ordinal),
                Id(products, code),
                Id(categories, category),
                quantity * price,
                quantity));
            if (!countries.TryGetValue(customer, out var seen))
            {
                countries[customer] = seen = new Dictionary<string, int>(StringComparer.Ordinal);
            }
            seen[f[7]] = seen.GetValueOrDefault(f[7]) + 1;
        }

        var rest = Groups.Length - 1;
        var partition = countries.ToDictionary(
            c => c.Key,
            c =>
            {
                var country = c.Value.OrderByDescending(x => x.Value).ThenBy(x => x.Key, StringComparer.Ordinal).First().Key;
                var g = Array.FindIndex(Groups, x => x.Countries.Contains(country));
                return g < 0 ? rest : g;
            });
        var firstTest = new DateTime(2011, 8, 27);
        return new RetailSource(
            "online-retail",
            "customers → country of most lines → 6 country groups",
            Groups.Select(g => g.Group).ToArray(),
            partition,
            purchases,
            RetailSource.TrainGrid(new DateTime(2011, 1, 15), stepDays, CustomerRows.ChurnDays, firstTest),
            [firstTest, new DateTime(2011, 9, 10)]);
    }

    private static int Id(Dictionary<string, int> ids, string key)
    {
        if (!ids.TryGetValue(key, out var id))
        {
            id = ids.Count;
            ids[key] = id;
        }
        return id;
    }
}
