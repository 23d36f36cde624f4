using System.Globalization;
using EdgeProfile.Training.Pipeline;

namespace EdgeProfile.Training.Graph;

/// <summary>
/// Purchase lines of the Dunnhumby / 84.51° "Complete Journey 2.0" files (shared/data/completejourney):
/// <c>transactions_sample.csv</c> (household_id, product_id, transaction_timestamp, …) joined with <c>products.csv</c>
/// (product_id → product_category). Lines whose product is not in the catalogue or has no category are left out and
/// counted.
/// </summary>
/// <param name="Purchases">Purchase lines with a category, in file order.</param>
/// <param name="Lines">Transaction lines read.</param>
/// <param name="WithoutCategory">Lines left out (product unknown or without a category).</param>
public sealed record CompleteJourneyPurchases(IReadOnlyList<GraphPurchase> Purchases, int Lines, int WithoutCategory)
{
    /// <summary>Transaction file name.</summary>
    public const string TransactionsFile = "transactions_sample.csv";

    /// <summary>Catalogue file name.</summary>
    public const string ProductsFile = "products.csv";

    /// <summary>Reads the purchases in <paramref name="directory"/>.</summary>
    /// <exception cref="PipelineException">A file or column is missing, or a timestamp cannot be read.</exception>
    public static CompleteJourneyPurchases Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var categories = new Dictionary<string, string>(StringComparer.Ordinal);
        var productsPath = Path.Combine(directory, ProductsFile);
        var first = true;
        int productColumn = 0, categoryColumn = 0;
        foreach (var (_, fields) in Read(productsPath))
        {
            if (first)
            {
                first = false;
                productColumn = Column(fields, "product_id", productsPath);
                categoryColumn = Column(fields, "product_category", productsPath);
                continue;
            }
            if (fields[categoryColumn].Length > 0)
            {
                categories[fields[productColumn]] = fields[categoryColumn];
            }
        }

        var transactionsPath = Path.Combine(directory, TransactionsFile);
        var purchases = new List<GraphPurchase>();
        int lines = 0, withoutCategory = 0, customerColumn = 0, timeColumn = 0;
        first = true;
        foreach (var (line, fields) in Read(transactionsPath))
        {
            if (first)
            {
                first = false;
                customerColumn = Column(fields, "household_id", transactionsPath);
                productColumn = Column(fields, "product_id", transactionsPath);
                timeColumn = Column(fields, "transaction_timestamp", transactionsPath);
                continue;
            }
            lines++;
            if (!categories.TryGetValue(fields[productColumn], out var category))
            {
                withoutCategory++;
                continue;
            }
            if (!DateTimeOffset.TryParseExact(fields[timeColumn], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            {
                throw new PipelineException($"{transactionsPath}:{line}: transaction_timestamp '{fields[timeColumn]}' is not yyyy-MM-dd HH:mm:ss");
            }
            purchases.Add(new GraphPurchase(fields[customerColumn], fields[productColumn], category, time));
        }
        return new CompleteJourneyPurchases(purchases, lines, withoutCategory);
    }

    private static IEnumerable<(int Line, string[] Fields)> Read(string path) =>
        File.Exists(path) ? RfcCsv.Read(path) : throw new PipelineException($"{path} does not exist", isUsage: true);

    private static int Column(string[] header, string name, string path)
    {
        var i = Array.IndexOf(header, name);
        return i >= 0 ? i : throw new PipelineException($"{path}: no column '{name}'");
    }
}
