using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace EdgeProfile.Bench.Fusion;

/// <summary>One purchase line of UCI Online Retail with a customer (the clean file has no returns).</summary>
/// <param name="Invoice">InvoiceNo.</param>
/// <param name="StockCode">The product.</param>
/// <param name="Description">The line's product description (trimmed).</param>
/// <param name="Quantity">Units.</param>
/// <param name="At">InvoiceDate (UK local time, read as UTC).</param>
/// <param name="UnitPrice">GBP per unit.</param>
/// <param name="Customer">CustomerID (without a trailing ".0").</param>
/// <param name="Country">The customer's country.</param>
/// <param name="Order">Position of the line in the file (ties in time keep file order).</param>
internal sealed record RetailLine(string Invoice, string StockCode, string Description, double Quantity, DateTime At, double UnitPrice, string Customer, string Country, int Order)
{
    /// <summary>Quantity × unit price.</summary>
    public double Amount => Quantity * UnitPrice;
}

/// <summary>Reads <c>online_retail_clean.csv.gz</c>: the lines with a CustomerID, in time (then file) order.</summary>
internal static class RetailLines
{
    /// <summary>The data file's name inside <c>shared/data/online-retail</c>.</summary>
    public const string FileName = "online_retail_clean.csv.gz";

    /// <summary>Every line with a customer, sorted by time then file position; and the number of lines without one.</summary>
    public static (List<RetailLine> Lines, int WithoutCustomer) Read(string csvGz)
    {
        ArgumentNullException.ThrowIfNull(csvGz);
        var lines = new List<RetailLine>(400_000);
        var withoutCustomer = 0;
        using var file = File.OpenRead(csvGz);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        var header = EdgeProfile.Knowledge.CsvLine.Split(reader.ReadLine() ?? throw new InvalidDataException($"{csvGz} is empty"));
        int Col(string name) => Array.IndexOf(header, name) is >= 0 and var i ? i : throw new InvalidDataException($"{csvGz}: no column {name}");
        int invoice = Col("InvoiceNo"), stock = Col("StockCode"), description = Col("Description"), quantity = Col("Quantity"),
            date = Col("InvoiceDate"), price = Col("UnitPrice"), customer = Col("CustomerID"), country = Col("Country");
        var number = 1;
        while (reader.ReadLine() is { } text)
        {
            number++;
            if (text.Length == 0)
            {
                continue;
            }
            var f = EdgeProfile.Knowledge.CsvLine.Split(text);
            if (f.Length != header.Length)
            {
                throw new InvalidDataException($"{csvGz}:{number}: {f.Length} fields, the header has {header.Length}");
            }
            if (f[customer].Length == 0)
            {
                withoutCustomer++;
                continue;
            }
            var at = DateTime.SpecifyKind(DateTime.ParseExact(f[date], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), DateTimeKind.Utc);
            lines.Add(new RetailLine(f[invoice], f[stock], f[description].Trim(), double.Parse(f[quantity], CultureInfo.InvariantCulture), at,
                double.Parse(f[price], CultureInfo.InvariantCulture), f[customer].Split('.')[0], f[country], number));
        }
        lines.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : a.Order.CompareTo(b.Order));
        return (lines, withoutCustomer);
    }
}
