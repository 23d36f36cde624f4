namespace EdgeProfile.Synthesis.Loading;

/// <summary>
/// Transactions in memory, Featuretools style: <c>customers</c> → <c>transactions</c> (one row per CSV line) →
/// <c>products</c> → <c>categories</c>, and <c>stores</c> when mapped. Columns are arrays indexed by row; rows are
/// sorted by customer, then time (then file order), so a customer's history is the slice
/// <c>[CustomerStart[c], CustomerStart[c + 1])</c>. Categorical columns hold an index into their entity's list, or -1
/// when the row has no value.
/// </summary>
public sealed class EntitySet
{
    private readonly Dictionary<string, int> customerIndex;

    internal EntitySet(
        IReadOnlyList<string> customerIds,
        IReadOnlyList<string> productIds,
        IReadOnlyList<string?> productNames,
        IReadOnlyList<string> categories,
        IReadOnlyList<string> categoryTops,
        IReadOnlyList<string> stores,
        IReadOnlyList<string> channels,
        int basketCount,
        TransactionColumns rows,
        int[] customerStart,
        EntitySetFlags flags)
    {
        CustomerIds = customerIds;
        ProductIds = productIds;
        ProductNames = productNames;
        Categories = categories;
        CategoryTops = categoryTops;
        Stores = stores;
        Channels = channels;
        BasketCount = basketCount;
        Customer = rows.Customer;
        Time = rows.Time;
        Product = rows.Product;
        Category = rows.Category;
        CategoryTop = rows.CategoryTop;
        Store = rows.Store;
        Channel = rows.Channel;
        Basket = rows.Basket;
        Amount = rows.Amount;
        Quantity = rows.Quantity;
        CustomerStart = customerStart;
        HasQuantity = flags.HasQuantity;
        HasCategory = flags.HasCategory;
        HasCategoryTop = flags.HasCategoryTop;
        HasStore = flags.HasStore;
        HasChannel = flags.HasChannel;
        HasBasket = flags.HasBasket;
        customerIndex = new Dictionary<string, int>(customerIds.Count, StringComparer.Ordinal);
        for (var i = 0; i < customerIds.Count; i++)
        {
            customerIndex[customerIds[i]] = i;
        }

        MinTime = Time.Length == 0 ? 0 : Time.Min();
        MaxTime = Time.Length == 0 ? 0 : Time.Max();
    }

    /// <summary>Customer ids (the target entity).</summary>
    public IReadOnlyList<string> CustomerIds { get; }

    /// <summary>Product ids.</summary>
    public IReadOnlyList<string> ProductIds { get; }

    /// <summary>Product names (first seen), null when not mapped or empty.</summary>
    public IReadOnlyList<string?> ProductNames { get; }

    /// <summary>Category paths (<c>department &gt; category</c>), normalised.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>Top levels of the category paths.</summary>
    public IReadOnlyList<string> CategoryTops { get; }

    /// <summary>Store ids.</summary>
    public IReadOnlyList<string> Stores { get; }

    /// <summary>Channel names.</summary>
    public IReadOnlyList<string> Channels { get; }

    /// <summary>Number of distinct baskets (0 when not mapped).</summary>
    public int BasketCount { get; }

    /// <summary>Per row: customer index.</summary>
    public int[] Customer { get; }

    /// <summary>Per row: time, Unix milliseconds (UTC).</summary>
    public long[] Time { get; }

    /// <summary>Per row: product index, or -1.</summary>
    public int[] Product { get; }

    /// <summary>Per row: category index, or -1.</summary>
    public int[] Category { get; }

    /// <summary>Per row: top-level category index, or -1.</summary>
    public int[] CategoryTop { get; }

    /// <summary>Per row: store index, or -1.</summary>
    public int[] Store { get; }

    /// <summary>Per row: channel index, or -1.</summary>
    public int[] Channel { get; }

    /// <summary>Per row: basket index, or -1.</summary>
    public int[] Basket { get; }

    /// <summary>Per row: amount of money.</summary>
    public double[] Amount { get; }

    /// <summary>Per row: quantity, NaN when missing or not mapped.</summary>
    public double[] Quantity { get; }

    /// <summary>Row ranges per customer: customer <c>c</c> owns rows <c>[CustomerStart[c], CustomerStart[c + 1])</c>.</summary>
    public int[] CustomerStart { get; }

    /// <summary>Whether a quantity column is mapped.</summary>
    public bool HasQuantity { get; }

    /// <summary>Whether a category (column or join) is mapped and any row has one.</summary>
    public bool HasCategory { get; }

    /// <summary>Whether category paths have more than one level (so the top level is a variable of its own).</summary>
    public bool HasCategoryTop { get; }

    /// <summary>Whether a store column is mapped.</summary>
    public bool HasStore { get; }

    /// <summary>Whether a channel column is mapped.</summary>
    public bool HasChannel { get; }

    /// <summary>Whether a basket column is mapped.</summary>
    public bool HasBasket { get; }

    /// <summary>Number of transactions.</summary>
    public int RowCount => Time.Length;

    /// <summary>Earliest transaction time, Unix ms.</summary>
    public long MinTime { get; }

    /// <summary>Latest transaction time, Unix ms.</summary>
    public long MaxTime { get; }

    /// <summary>Lines read from the CSV (data rows, with or without a customer).</summary>
    public int RowsRead { get; init; }

    /// <summary>Rows skipped because the customer was empty.</summary>
    public int RowsSkipped { get; init; }

    /// <summary>Rows whose product was not found in the category join file (they have no category).</summary>
    public int RowsWithoutJoinedCategory { get; init; }

    /// <summary>The customer's index, or -1 when unknown.</summary>
    public int IndexOfCustomer(string customerId) =>
        customerIndex.TryGetValue(customerId ?? throw new ArgumentNullException(nameof(customerId)), out var i) ? i : -1;

    /// <summary>The first row of customer <paramref name="customer"/> at or after <paramref name="time"/> (its end when none).</summary>
    public int FirstRowAtOrAfter(int customer, long time)
    {
        int lo = CustomerStart[customer], hi = CustomerStart[customer + 1];
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (Time[mid] < time)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>The first row of customer <paramref name="customer"/> strictly after <paramref name="time"/> (its end when none).</summary>
    public int FirstRowAfter(int customer, long time) => time == long.MaxValue ? CustomerStart[customer + 1] : FirstRowAtOrAfter(customer, time + 1);
}

/// <summary>The per-row arrays handed from the loader to <see cref="EntitySet"/>.</summary>
internal sealed record TransactionColumns(
    int[] Customer,
    long[] Time,
    int[] Product,
    int[] Category,
    int[] CategoryTop,
    int[] Store,
    int[] Channel,
    int[] Basket,
    double[] Amount,
    double[] Quantity);

/// <summary>Which optional variables an <see cref="EntitySet"/> has.</summary>
internal readonly record struct EntitySetFlags(bool HasQuantity, bool HasCategory, bool HasCategoryTop, bool HasStore, bool HasChannel, bool HasBasket);
