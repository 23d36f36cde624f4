namespace EdgeProfile.Bench.FederatedRetail;

/// <summary>Splits one CSV line (RFC 4180 quoting, no line breaks inside fields, which holds for both data sets).</summary>
internal static class Csv
{
    public static string[] Split(string line) => EdgeProfile.Knowledge.CsvLine.Split(line);
}
