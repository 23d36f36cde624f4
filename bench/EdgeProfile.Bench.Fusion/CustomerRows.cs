namespace EdgeProfile.Bench.Fusion;

/// <summary>
/// Point-in-time rows, one per customer with at least one line strictly before the cutoff (customers in ordinal id
/// order): every input from the lines before the cutoff, every label from the lines in the windows from it.
/// </summary>
internal sealed class CustomerRows
{
    /// <summary>Tabular (RFM-style) columns, in order; counts and amounts are on the log1p scale, days as they are.</summary>
    public static readonly string[] TabularNames =
    [
        "days_since_last", "days_since_first", "mean_days_between_invoices",
        "log_invoices_all", "log_invoices_30d", "log_invoices_90d",
        "log_spend_all", "log_spend_30d", "log_spend_90d", "log_mean_invoice_value",
        "log_lines_all", "log_mean_lines_per_invoice", "log_mean_units_per_invoice", "log_distinct_products",
    ];

    /// <summary>Label window of the repurchase task, in days from the cutoff.</summary>
    public const int RepurchaseDays = 30;

    /// <summary>Label window of the category task, in days from the cutoff.</summary>
    public const int CategoryDays = 90;

    private CustomerRows() { }

    /// <summary>The cutoff.</summary>
    public DateTime Cutoff { get; private init; }

    /// <summary>Customer ids.</summary>
    public string[] Customers { get; private init; } = [];

    /// <summary>Names of the tabular columns: <see cref="TabularNames"/> then the country one-hot columns.</summary>
    public string[] FeatureNames { get; private init; } = [];

    /// <summary>Indices of the one-hot columns in <see cref="FeatureNames"/> (left unstandardised).</summary>
    public int[] OneHotColumns { get; private init; } = [];

    /// <summary>Tabular features per row.</summary>
    public float[][] Tabular { get; private init; } = [];

    /// <summary>Product sequence before the cutoff per row: item ids 1..<see cref="ItemCount"/>, chronological, consecutive repeats collapsed.</summary>
    public int[][] Sequences { get; private init; } = [];

    /// <summary>Items of <see cref="Sequences"/>: the products sold before the cutoff.</summary>
    public int ItemCount { get; private init; }

    /// <summary>Distinct catalogue indices of the products bought before the cutoff per row.</summary>
    public int[][] ProductsBefore { get; private init; } = [];

    /// <summary>Catalogue index of each line's product before the cutoff per row, for per-customer category counts.</summary>
    public int[][] LinesBefore { get; private init; } = [];

    /// <summary>Whether the row's customer bought in the <see cref="RepurchaseDays"/> days from the cutoff.</summary>
    public bool[] Repurchase { get; private init; } = [];

    /// <summary>Catalogue indices of the products bought in the <see cref="CategoryDays"/> days from the cutoff per row (in order).</summary>
    public int[][] LinesAfter { get; private init; } = [];

    /// <summary>Catalogue indices of the lines of the row's first invoice from the cutoff (empty: no purchase in the window).</summary>
    public int[][] FirstInvoiceAfter { get; private init; } = [];

    /// <summary>Lines before the cutoff, over all rows.</summary>
    public int LinesBeforeCount { get; private init; }

    /// <summary>Builds the rows at <paramref name="cutoff"/>; <paramref name="countries"/> get a one-hot column each.</summary>
    public static CustomerRows Build(IReadOnlyList<RetailLine> lines, Catalogue catalogue, DateTime cutoff, IReadOnlyList<string> countries)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(countries);
        // Item ids for the sequence model: products sold before the cutoff, in catalogue (ordinal) order, from 1.
        var itemOf = new int[catalogue.Count];
        var items = 0;
        for (var p = 0; p < catalogue.Count; p++)
        {
            itemOf[p] = catalogue.SoldBefore[p] ? ++items : 0;
        }
        var byCustomer = lines.GroupBy(l => l.Customer, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var customers = byCustomer.Where(p => p.Value[0].At < cutoff).Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();
        var tabular = new float[customers.Length][];
        var sequences = new int[customers.Length][];
        var productsBefore = new int[customers.Length][];
        var linesBefore = new int[customers.Length][];
        var repurchase = new bool[customers.Length];
        var linesAfter = new int[customers.Length][];
        var firstInvoice = new int[customers.Length][];
        var beforeCount = 0;
        for (var r = 0; r < customers.Length; r++)
        {
            var all = byCustomer[customers[r]];
            var before = all.Where(l => l.At < cutoff).ToList();
            var after = all.Where(l => l.At >= cutoff && l.At < cutoff.AddDays(CategoryDays)).ToList();
            beforeCount += before.Count;
            tabular[r] = [.. Features(before, cutoff), .. countries.Select(c => before[^1].Country == c ? 1f : 0f)];
            var indices = before.Select(l => catalogue.IndexOf(l.StockCode)).ToArray();
            linesBefore[r] = indices;
            productsBefore[r] = [.. indices.Distinct().Order()];
            var sequence = new List<int>(indices.Length);
            foreach (var p in indices)
            {
                var item = itemOf[p];
                if (sequence.Count == 0 || sequence[^1] != item)
                {
                    sequence.Add(item);
                }
            }
            sequences[r] = [.. sequence];
            repurchase[r] = after.Any(l => l.At < cutoff.AddDays(RepurchaseDays));
            linesAfter[r] = [.. after.Select(l => catalogue.IndexOf(l.StockCode))];
            firstInvoice[r] = after.Count == 0 ? [] : [.. after.Where(l => l.Invoice == after[0].Invoice).Select(l => catalogue.IndexOf(l.StockCode))];
        }
        var oneHot = Enumerable.Range(TabularNames.Length, countries.Count).ToArray();
        return new CustomerRows
        {
            Cutoff = cutoff,
            Customers = customers,
            FeatureNames = [.. TabularNames, .. countries.Select(c => "country_" + c.ToLowerInvariant().Replace(' ', '_'))],
            OneHotColumns = oneHot,
            Tabular = tabular,
            Sequences = sequences,
            ItemCount = items,
            ProductsBefore = productsBefore,
            LinesBefore = linesBefore,
            Repurchase = repurchase,
            LinesAfter = linesAfter,
            FirstInvoiceAfter = firstInvoice,
            LinesBeforeCount = beforeCount,
        };
    }

    /// <summary>The <paramref name="count"/> countries with the most customers before <paramref name="cutoff"/> (a customer's country = that of their last line).</summary>
    public static string[] TopCountries(IReadOnlyList<RetailLine> lines, DateTime cutoff, int count)
    {
        ArgumentNullException.ThrowIfNull(lines);
        return
        [
            .. lines.Where(l => l.At < cutoff).GroupBy(l => l.Customer, StringComparer.Ordinal).Select(g => g.Last().Country)
                .GroupBy(c => c, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Take(count).Select(g => g.Key),
        ];
    }

    /// <summary>Number of rows.</summary>
    public int Count => Customers.Length;

    /// <summary><see cref="TabularNames"/> of one customer's lines before <paramref name="cutoff"/> (at least one, time order).</summary>
    private static float[] Features(List<RetailLine> before, DateTime cutoff)
    {
        var invoices = before.GroupBy(l => l.Invoice, StringComparer.Ordinal)
            .Select(g => (At: g.Min(l => l.At), Amount: g.Sum(l => l.Amount), Lines: g.Count(), Units: g.Sum(l => l.Quantity)))
            .OrderBy(i => i.At).ToList();
        double Days(DateTime t) => (cutoff - t).TotalDays;
        var last30 = invoices.Where(i => Days(i.At) <= 30).ToList();
        var last90 = invoices.Where(i => Days(i.At) <= 90).ToList();
        var spend = invoices.Sum(i => i.Amount);
        static float Log(double x) => (float)Math.Log(1 + Math.Max(x, 0));
        return
        [
            (float)Days(invoices[^1].At),
            (float)Days(invoices[0].At),
            (float)((invoices[^1].At - invoices[0].At).TotalDays / Math.Max(invoices.Count - 1, 1)),
            Log(invoices.Count), Log(last30.Count), Log(last90.Count),
            Log(spend), Log(last30.Sum(i => i.Amount)), Log(last90.Sum(i => i.Amount)), Log(spend / invoices.Count),
            Log(before.Count), Log(before.Count / (double)invoices.Count), Log(invoices.Sum(i => i.Units) / invoices.Count),
            Log(before.Select(l => l.StockCode).Distinct(StringComparer.Ordinal).Count()),
        ];
    }
}
