using EdgeProfile.Models;
using EdgeProfile.Training;

namespace EdgeProfile.Bench.FederatedRetail;

/// <summary>
/// Point-in-time customer rows: at each cutoff, every customer with a purchase in the 365 days before it gets one row of
/// features from those purchases only, and labels from what follows: <c>repurchase_30d</c> (any purchase in
/// [cutoff, cutoff + 30 d)) and <c>churn_90d</c> (none in [cutoff, cutoff + 90 d)).
/// </summary>
internal static class CustomerRows
{
    public const int RepurchaseDays = 30;
    public const int ChurnDays = 90;

    public static readonly string[] Features =
    [
        "recency_days", "baskets_30d", "baskets_90d", "baskets_365d", "spend_30d", "spend_90d", "spend_365d",
        "distinct_products_365d", "distinct_categories_365d", "mean_basket_365d", "tenure_days", "units_90d",
    ];

    public static readonly TaskSpec[] Tasks = [new("repurchase_30d", TaskKind.Binary), new("churn_90d", TaskKind.Binary)];

    /// <summary>Every feature is a non-negative count, amount or duration with a heavy tail: log1p on all.</summary>
    public static readonly bool[] Log1p = Features.Select(_ => true).ToArray();

    /// <summary>Rows of one partition: train rows (with the index of their cutoff) and test rows.</summary>
    public sealed record Partition(string Name, int Customers, TrainingData Train, int[] TrainCutoff, TrainingData Test);

    public static IReadOnlyList<Partition> Build(RetailSource source)
    {
        var byCustomer = source.Purchases.GroupBy(p => p.Customer).ToDictionary(g => g.Key, g => g.OrderBy(p => p.Time).ToArray());
        var result = new List<Partition>();
        for (var k = 0; k < source.Partitions.Count; k++)
        {
            var customers = source.CustomerPartition.Where(c => c.Value == k).Select(c => c.Key).Order().ToArray();
            var (train, trainCutoff) = Rows(customers, byCustomer, source.TrainCutoffs);
            var (test, _) = Rows(customers, byCustomer, source.TestCutoffs);
            result.Add(new Partition(source.Partitions[k], customers.Length, train, trainCutoff, test));
        }
        return result;
    }

    private static (TrainingData Data, int[] Cutoff) Rows(int[] customers, Dictionary<int, Purchase[]> byCustomer, IReadOnlyList<DateTime> cutoffs)
    {
        var features = new List<float[]>();
        var repurchase = new List<float[]>();
        var churn = new List<float[]>();
        var cutoffIndex = new List<int>();
        for (var c = 0; c < cutoffs.Count; c++)
        {
            foreach (var customer in customers)
            {
                var history = byCustomer[customer];
                if (Row(history, cutoffs[c]) is { } row)
                {
                    features.Add(row.Features);
                    repurchase.Add([row.Repurchase ? 1f : 0f]);
                    churn.Add([row.Churn ? 1f : 0f]);
                    cutoffIndex.Add(c);
                }
            }
        }
        return (new TrainingData([.. features], [repurchase.ToArray(), churn.ToArray()]), [.. cutoffIndex]);
    }

    private static (float[] Features, bool Repurchase, bool Churn)? Row(Purchase[] history, DateTime cutoff)
    {
        var before = history.TakeWhile(p => p.Time < cutoff).ToArray();
        var year = before.Where(p => p.Time >= cutoff.AddDays(-365)).ToArray();
        if (year.Length == 0)
        {
            return null;
        }
        var d90 = year.Where(p => p.Time >= cutoff.AddDays(-90)).ToArray();
        var d30 = d90.Where(p => p.Time >= cutoff.AddDays(-30)).ToArray();
        var baskets365 = year.Select(p => p.Basket).Distinct().Count();
        var spend365 = year.Sum(p => (double)p.Amount);
        var features = new float[]
        {
            (float)(cutoff - year[^1].Time).TotalDays,
            d30.Select(p => p.Basket).Distinct().Count(),
            d90.Select(p => p.Basket).Distinct().Count(),
            baskets365,
            (float)d30.Sum(p => (double)p.Amount),
            (float)d90.Sum(p => (double)p.Amount),
            (float)spend365,
            year.Select(p => p.Product).Distinct().Count(),
            year.Where(p => p.Category >= 0).Select(p => p.Category).Distinct().Count(),
            (float)(spend365 / baskets365),
            (float)(cutoff - before[0].Time).TotalDays,
            (float)d90.Sum(p => (double)p.Units),
        };
        var after = history.SkipWhile(p => p.Time < cutoff).TakeWhile(p => p.Time < cutoff.AddDays(ChurnDays)).ToArray();
        return (features, after.Any(p => p.Time < cutoff.AddDays(RepurchaseDays)), after.Length == 0);
    }
}
