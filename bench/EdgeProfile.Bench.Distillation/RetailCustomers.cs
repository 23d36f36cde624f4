using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace EdgeProfile.Bench.Distillation;

/// <summary>
/// UCI Online Retail as invoices per customer, and point-in-time rows from them: features from the invoices before a
/// cutoff, labels from the invoices after it. Lines without a CustomerID are skipped; InvoiceDate (UK local time) is
/// read as UTC; an invoice's amount is the sum of quantity × unit price over its lines (the file has no returns).
/// </summary>
internal static class RetailCustomers
{
    /// <summary>Feature columns of a row, in order (the names the rules read).</summary>
    public static readonly string[] FeatureNames =
    [
        "days_since_last", "days_since_first", "orders_30d", "orders_90d", "orders_lifetime",
        "spend_30d", "spend_90d", "spend_lifetime", "avg_order_value", "items_90d",
        "log_spend_30d", "log_spend_90d", "log_spend_lifetime", "log_avg_order_value",
    ];

    /// <summary>Label tasks of a row, in order.</summary>
    public static readonly string[] TaskNames = ["churn_90d", "repurchase_30d"];

    /// <summary>One invoice: when, how much, how many items.</summary>
    public sealed record Invoice(DateTime At, double Amount, double Items);

    /// <summary>Invoices per customer, each customer's in time order; and the last invoice time in the file.</summary>
    public static (Dictionary<string, List<Invoice>> Customers, DateTime End) Read(string csvGz)
    {
        var invoices = new Dictionary<string, (string Customer, DateTime At, double Amount, double Items)>(StringComparer.Ordinal);
        using var file = File.OpenRead(csvGz);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        var header = EdgeProfile.Knowledge.CsvLine.Split(reader.ReadLine() ?? throw new InvalidDataException($"{csvGz} is empty"));
        int Col(string name) => Array.IndexOf(header, name) is >= 0 and var i ? i : throw new InvalidDataException($"{csvGz}: no column {name}");
        int invoice = Col("InvoiceNo"), quantity = Col("Quantity"), date = Col("InvoiceDate"), price = Col("UnitPrice"), customer = Col("CustomerID");
        string? text;
        while ((text = reader.ReadLine()) is not null)
        {
            var f = EdgeProfile.Knowledge.CsvLine.Split(text);
            if (f.Length != header.Length || f[customer].Length == 0)
            {
                continue;
            }

            var q = double.Parse(f[quantity], CultureInfo.InvariantCulture);
            var amount = q * double.Parse(f[price], CultureInfo.InvariantCulture);
            var at = DateTime.SpecifyKind(DateTime.ParseExact(f[date], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), DateTimeKind.Utc);
            invoices[f[invoice]] = invoices.TryGetValue(f[invoice], out var seen)
                ? (seen.Customer, seen.At < at ? seen.At : at, seen.Amount + amount, seen.Items + q)
                : (f[customer].Split('.')[0], at, amount, q);
        }

        var customers = invoices.Values
            .GroupBy(v => v.Customer, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(v => new Invoice(v.At, v.Amount, v.Items)).OrderBy(v => v.At).ToList(), StringComparer.Ordinal);
        return (customers, invoices.Values.Max(v => v.At));
    }

    /// <summary>
    /// One row per customer with an invoice before <paramref name="cutoff"/> (customers in ordinal id order):
    /// <see cref="FeatureNames"/> from the invoices before it; churn_90d = no invoice in the 90 days from it,
    /// repurchase_30d = an invoice in the 30 days from it.
    /// </summary>
    public static (float[][] Features, float[][][] Labels) Rows(Dictionary<string, List<Invoice>> customers, DateTime cutoff)
    {
        var features = new List<float[]>();
        var churn = new List<float[]>();
        var repurchase = new List<float[]>();
        foreach (var id in customers.Keys.Order(StringComparer.Ordinal))
        {
            var all = customers[id];
            var before = all.Where(v => v.At < cutoff).ToArray();
            if (before.Length == 0)
            {
                continue;
            }

            var last30 = before.Where(v => v.At >= cutoff.AddDays(-30)).ToArray();
            var last90 = before.Where(v => v.At >= cutoff.AddDays(-90)).ToArray();
            double spend30 = last30.Sum(v => v.Amount), spend90 = last90.Sum(v => v.Amount), spend = before.Sum(v => v.Amount);
            var average = spend / before.Length;
            features.Add(
            [
                (float)(cutoff - before[^1].At).TotalDays,
                (float)(cutoff - before[0].At).TotalDays,
                last30.Length,
                last90.Length,
                before.Length,
                (float)spend30,
                (float)spend90,
                (float)spend,
                (float)average,
                (float)last90.Sum(v => v.Items),
                (float)Math.Log(1 + spend30),
                (float)Math.Log(1 + spend90),
                (float)Math.Log(1 + spend),
                (float)Math.Log(1 + average),
            ]);
            churn.Add([all.Any(v => v.At >= cutoff && v.At < cutoff.AddDays(90)) ? 0f : 1f]);
            repurchase.Add([all.Any(v => v.At >= cutoff && v.At < cutoff.AddDays(30)) ? 1f : 0f]);
        }
        return ([.. features], [[.. churn], [.. repurchase]]);
    }

}
