using EdgeProfile.Cli.Partner;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.Participant;

namespace EdgeProfile.Synthesis.Tests;

/// <summary>
/// A partner's transactions CSV as federated training rows (<c>edgeprofile partner join</c>), on a hand-made history
/// whose rows and labels were worked out by hand below.
/// </summary>
public sealed class PartnerCsvDataTests : IDisposable
{
    // The newest event is c3's on 2024-03-31 12:00, so with a 30-day label and one cutoff the cutoff is 2024-03-01 12:00
    // and the 30-day feature window is [2024-01-31 12:00, 2024-03-01 12:00).
    //   c1: 3.00 on 02-10 and 10.00 on 02-20 (both in the window), buys again on 03-10 -> purchase label 1, spend ln(1 + 1.5)
    //   c2: 5.00 on 02-25, never again -> 0
    //   c4: 10.00 on 01-05 (before the window: lifetime only), never again -> 0
    //   c3: only after the cutoff -> no row; the row without a customer is skipped.
    private const string Csv = """
        customer,time,sku,qty,price,cat,store
        c1,2024-02-10 10:00:00,A,2,1.5,Food > Fruit,s1
        c1,2024-02-20 10:00:00,C,1,10,Home > Decor,s2
        c1,2024-03-10 10:00:00,A,1,1.5,Food > Fruit,s1
        c2,2024-02-25 09:00:00,B,1,5,Food > Bakery,s1
        c4,2024-01-05 09:00:00,B,2,5,Food > Bakery,s1
        ,2024-02-11 10:00:00,A,1,1.5,Food > Fruit,s1
        c3,2024-03-05 10:00:00,B,1,5,Food > Bakery,s2
        c3,2024-03-31 12:00:00,B,1,5,Food > Bakery,s2

        """;

    private const string Mapping = """
        { "customer": "customer", "time": "time", "product": "sku", "amount": ["qty", "price"], "quantity": "qty",
          "category": "cat", "store": "store" }
        """;

    private static readonly FederatedJobSpec Job = new()
    {
        Name = "partner-test",
        Features = ["purchases_30d", "spend_30d", "lifetime_purchases"],
        Tasks = [new FederatedTask("buy", "binary", "purchase_next_30d"), new FederatedTask("spend", "regression", "spend_next_30d")],
        Cutoffs = 1,
    };

    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public async Task Rows_and_labels_follow_each_customers_history_around_the_cutoff()
    {
        var data = PartnerCsvData.Open(dir.Write("t.csv", Csv), dir.Write("m.json", Mapping), "brand-x");

        var rows = await data.LoadAsync(Job, DefaultFeatures.Set, CancellationToken.None);

        Assert.Null(rows.Validation);
        var actual = Enumerable.Range(0, rows.Train.Rows)
            .Select(i => string.Join(" ", rows.Train.Features[i].Concat(rows.Train.Labels.Select(l => l[i][0])).Select(v => v.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture))))
            .Order(StringComparer.Ordinal)
            .ToList();
        var spendAgain = Math.Log(2.5).ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
        string[] expected = ["0 0 1 0 0", "1 5 1 0 0", $"2 13 2 1 {spendAgain}"];
        Assert.Equal(expected, actual);
        Assert.Contains("partner brand-x (t.csv)", rows.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_csv_row_with_a_customer_becomes_a_purchase_with_its_mapped_columns()
    {
        var data = PartnerCsvData.Open(dir.Write("t.csv", Csv), dir.Write("m.json", Mapping), "brand-x");

        var customers = await data.LoadCustomersAsync(CancellationToken.None);

        Assert.Equal(4, customers.Count);
        Assert.Equal(7, customers.Sum(c => c.Count));
        var c1 = customers.Single(c => c.Any(e => e.Sku == "C"));
        Assert.Equal(3, c1.Count);
        Assert.True(c1.Zip(c1.Skip(1)).All(p => p.First.TimestampMs < p.Second.TimestampMs), "time-ordered");
        var first = c1[0];
        Assert.Equal(new DateTimeOffset(2024, 2, 10, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), first.TimestampMs);
        Assert.Equal(EventType.Purchase, first.Type);
        Assert.Equal(3.0, first.Amount);
        Assert.Equal(2.0, first.Quantity);
        Assert.Equal(1.5, first.Price);
        Assert.Equal("A", first.Sku);
        Assert.Equal("Food > Fruit", first.Category);
        Assert.Equal("s1", first.Store);
        Assert.Null(first.Channel);
        Assert.Equal("brand-x", first.Source);
        Assert.Equal("s2", c1[1].Store);
        Assert.Equal(7, customers.SelectMany(c => c).Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task The_file_is_read_once_and_kept_for_later_jobs()
    {
        var csv = dir.Write("t.csv", Csv);
        var data = PartnerCsvData.Open(csv, dir.Write("m.json", Mapping), "brand-x");
        var first = await data.LoadAsync(Job, DefaultFeatures.Set, CancellationToken.None);

        File.Delete(csv);
        var second = await data.LoadAsync(Job with { Features = ["lifetime_spend"], Tasks = [new FederatedTask("churn", "binary", "churn_next_30d")] }, DefaultFeatures.Set, CancellationToken.None);

        Assert.Equal(first.Train.Rows, second.Train.Rows);
        // c4's 10.00 counts for all time (not in the 30-day window) and it did not come back: churn label 1.
        Assert.Contains(Enumerable.Range(0, second.Train.Rows), i => second.Train.Features[i][0] == 10f && second.Train.Labels[0][i][0] == 1f);
    }

    [Fact]
    public void A_mapping_without_a_required_key_names_the_key()
    {
        var csv = dir.Write("t.csv", Csv);

        var missing = Assert.Throws<SynthesisException>(() => PartnerCsvData.Open(csv, dir.Write("m.json", Mapping.Replace("\"time\": \"time\",", "", StringComparison.Ordinal)), "brand-x"));
        var typo = Assert.Throws<SynthesisException>(() => PartnerCsvData.Open(csv, dir.Write("m2.json", Mapping.Replace("\"store\"", "\"shop\"", StringComparison.Ordinal)), "brand-x"));

        Assert.Contains("key 'time' is required", missing.Message, StringComparison.Ordinal);
        Assert.True(missing.IsConfiguration);
        Assert.Contains("unknown key 'shop'", typo.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_csv_without_the_mapped_column_refuses_the_job_naming_column_and_key()
    {
        var data = PartnerCsvData.Open(dir.Write("t.csv", Csv), dir.Write("m.json", Mapping.Replace("\"store\": \"store\"", "\"store\": \"branch\"", StringComparison.Ordinal)), "brand-x");

        var error = await Assert.ThrowsAsync<FederatedDataException>(() => data.LoadAsync(Job, DefaultFeatures.Set, CancellationToken.None));

        Assert.Contains("partner brand-x", error.Message, StringComparison.Ordinal);
        Assert.Contains("mapping key 'store': column 'branch' is not in t.csv", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_whose_label_horizon_is_longer_than_the_history_is_refused_with_the_reason()
    {
        var data = PartnerCsvData.Open(dir.Write("t.csv", Csv), dir.Write("m.json", Mapping), "brand-x");

        var error = await Assert.ThrowsAsync<FederatedDataException>(() => data.LoadAsync(
            Job with { Tasks = [new FederatedTask("buy", "binary", "purchase_next_365d")] }, DefaultFeatures.Set, CancellationToken.None));

        Assert.Contains("365 days", error.Message, StringComparison.Ordinal);
    }
}
