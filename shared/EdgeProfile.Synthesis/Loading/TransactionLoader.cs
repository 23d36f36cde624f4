using System.Globalization;
using EdgeProfile.Core.Features;
using EdgeProfile.Synthesis.Mapping;

namespace EdgeProfile.Synthesis.Loading;

/// <summary>Loads a transactions CSV (plain or <c>.gz</c>) into an <see cref="EntitySet"/> as its <see cref="ColumnMapping"/> says.</summary>
public static class TransactionLoader
{
    private const int ProgressEvery = 50_000;

    /// <summary>
    /// Reads every row of <paramref name="csvPath"/>. Rows with an empty customer are skipped and counted; any other
    /// value that does not parse stops the load with a <see cref="SynthesisException"/> naming the row, line, column and key.
    /// </summary>
    public static EntitySet Load(string csvPath, ColumnMapping mapping, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(csvPath);
        ArgumentNullException.ThrowIfNull(mapping);
        if (!File.Exists(csvPath))
        {
            throw new SynthesisException($"CSV file {Path.GetFullPath(csvPath)} does not exist", isConfiguration: true);
        }

        Dictionary<string, string>? joined = null;
        if (mapping.CategoryJoin is { } join)
        {
            var joinPath = mapping.ResolveJoinFile(csvPath);
            progress?.Report($"Reading categories from {Path.GetFileName(joinPath)}");
            joined = LoadJoin(joinPath, join, mapping.Separator, cancellationToken);
        }

        using var csv = new CsvFile(csvPath, mapping.Separator);
        var customerCol = csv.Column("customer", mapping.Customer);
        var timeCol = csv.Column("time", mapping.Time);
        var productCol = csv.Column("product", mapping.Product);
        var amountCols = mapping.Amount.Select((c, i) => csv.Column(mapping.Amount.Count == 1 ? "amount" : $"amount[{i}]", c)).ToArray();
        var nameCol = mapping.ProductName is { } pn ? csv.Column("productName", pn) : -1;
        var categoryCol = mapping.Category is { } cn ? csv.Column("category", cn) : -1;
        var quantityCol = mapping.Quantity is { } qn ? csv.Column("quantity", qn) : -1;
        var storeCol = mapping.Store is { } sn ? csv.Column("store", sn) : -1;
        var channelCol = mapping.Channel is { } chn ? csv.Column("channel", chn) : -1;
        var basketCol = mapping.Basket is { } bn ? csv.Column("basket", bn) : -1;

        Interner customers = new(), products = new(), rawCategories = new(), stores = new(), channels = new(), baskets = new();
        var names = new List<string?>();
        List<int> cust = [], prod = [], cat = [], store = [], channel = [], basket = [];
        List<long> time = [];
        List<double> amount = [], quantity = [];
        int read = 0, skipped = 0;

        progress?.Report($"Loading {csv.Name}");
        foreach (var row in csv.Reader)
        {
            read++;
            if (read % ProgressEvery == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(string.Create(CultureInfo.InvariantCulture, $"Loading {csv.Name}: {read:N0} rows ({csv.Fraction:P0})"));
            }

            var c = row[customerCol].Span.Trim();
            if (c.IsEmpty)
            {
                skipped++;
                continue;
            }

            var where = string.Create(CultureInfo.InvariantCulture, $"{csv.Name} row {read} (line {row.LineNumberFrom})");
            var t = row[timeCol].Span;
            if (!Timestamps.TryParse(t, mapping.TimeFormat, out var ms))
            {
                throw new SynthesisException($"{where}: column '{mapping.Time}' (mapping key 'time') has '{t.ToString()}', which is not a time"
                    + (mapping.TimeFormat is null ? " (ISO 8601 expected; set 'timeFormat' in the mapping for another format)" : $" in format '{mapping.TimeFormat}'"));
            }

            var a = 1.0;
            for (var i = 0; i < amountCols.Length; i++)
            {
                a *= Number(row[amountCols[i]].Span, where, mapping.Amount[i], amountCols.Length == 1 ? "amount" : $"amount[{i}]", required: true);
            }

            var p = row[productCol].Span.Trim();
            var pi = p.IsEmpty ? -1 : products.Intern(p);
            if (pi >= 0 && pi == names.Count)
            {
                names.Add(nameCol >= 0 && row[nameCol].Span.Trim() is { IsEmpty: false } nm ? nm.ToString() : null);
            }

            cust.Add(customers.Intern(c));
            time.Add(ms);
            prod.Add(pi);
            amount.Add(a);
            quantity.Add(quantityCol >= 0 ? Number(row[quantityCol].Span, where, mapping.Quantity!, "quantity", required: false) : double.NaN);
            cat.Add(Code(row, categoryCol, rawCategories));
            store.Add(Code(row, storeCol, stores));
            channel.Add(Code(row, channelCol, channels));
            basket.Add(Code(row, basketCol, baskets));
        }

        cancellationToken.ThrowIfCancellationRequested();
        progress?.Report(string.Create(CultureInfo.InvariantCulture, $"Indexing {cust.Count:N0} transactions of {customers.Values.Count:N0} customers"));

        // Category paths: normalised ('A > B'), from the column or from the join on the product id.
        var categories = new Interner();
        int[] rowCategory;
        var withoutJoined = 0;
        if (joined is not null)
        {
            var byProduct = products.Values.Select(id => joined.TryGetValue(id, out var path) ? categories.Intern(path) : -1).ToArray();
            rowCategory = prod.Select(pi => pi < 0 ? -1 : byProduct[pi]).ToArray();
            withoutJoined = rowCategory.Count(x => x < 0);
        }
        else
        {
            var byRaw = rawCategories.Values.Select(raw => CategoryMatcher.Normalize(raw) is { Length: > 0 } norm ? categories.Intern(norm) : -1).ToArray();
            rowCategory = cat.Select(ci => ci < 0 ? -1 : byRaw[ci]).ToArray();
        }

        var tops = new Interner();
        var topOf = categories.Values.Select(path => tops.Intern(CategoryMatcher.TopLevel(path) ?? path)).ToArray();
        var hasTop = categories.Values.Any(path => path.Contains('>', StringComparison.Ordinal));

        var n = cust.Count;
        var custArr = cust.ToArray();
        var timeArr = time.ToArray();
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (x, y) =>
        {
            var d = custArr[x].CompareTo(custArr[y]);
            if (d != 0)
            {
                return d;
            }

            d = timeArr[x].CompareTo(timeArr[y]);
            return d != 0 ? d : x.CompareTo(y);
        });

        T[] Permute<T>(IReadOnlyList<T> source)
        {
            var result = new T[n];
            for (var i = 0; i < n; i++)
            {
                result[i] = source[order[i]];
            }

            return result;
        }

        var rowCat = Permute(rowCategory);
        var rowTop = new int[n];
        for (var i = 0; i < n; i++)
        {
            rowTop[i] = rowCat[i] < 0 ? -1 : topOf[rowCat[i]];
        }

        var columns = new TransactionColumns(
            Permute(custArr), Permute(timeArr), Permute(prod), rowCat, rowTop, Permute(store), Permute(channel), Permute(basket), Permute(amount), Permute(quantity));
        var start = new int[customers.Values.Count + 1];
        foreach (var ci in custArr)
        {
            start[ci + 1]++;
        }

        for (var i = 0; i < customers.Values.Count; i++)
        {
            start[i + 1] += start[i];
        }

        var flags = new EntitySetFlags(
            HasQuantity: quantityCol >= 0,
            HasCategory: categories.Values.Count > 0,
            HasCategoryTop: hasTop,
            HasStore: storeCol >= 0,
            HasChannel: channelCol >= 0,
            HasBasket: basketCol >= 0);
        return new EntitySet(customers.Values, products.Values, names, categories.Values, tops.Values, stores.Values, channels.Values, baskets.Values.Count, columns, start, flags)
        {
            RowsRead = read,
            RowsSkipped = skipped,
            RowsWithoutJoinedCategory = withoutJoined,
        };
    }

    private static int Code(nietras.SeparatedValues.SepReader.Row row, int col, Interner interner)
    {
        if (col < 0)
        {
            return -1;
        }

        var s = row[col].Span.Trim();
        return s.IsEmpty ? -1 : interner.Intern(s);
    }

    private static double Number(ReadOnlySpan<char> text, string where, string column, string key, bool required)
    {
        var s = text.Trim();
        if (s.IsEmpty)
        {
            return required ? throw new SynthesisException($"{where}: column '{column}' (mapping key '{key}') is empty") : double.NaN;
        }

        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
        {
            throw new SynthesisException($"{where}: column '{column}' (mapping key '{key}') has '{s.ToString()}', which is not a number");
        }

        return v;
    }

    private static Dictionary<string, string> LoadJoin(string path, CategoryJoin join, char separator, CancellationToken ct)
    {
        using var csv = new CsvFile(path, separator);
        var key = csv.Column("category.key", join.Key);
        var category = csv.Column("category.category", join.Category);
        var department = join.Department is { } d ? csv.Column("category.department", d) : -1;
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var read = 0;
        foreach (var row in csv.Reader)
        {
            if (++read % ProgressEvery == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            var k = row[key].Span.Trim();
            if (k.IsEmpty)
            {
                continue;
            }

            var leaf = row[category].Span.Trim();
            var top = department >= 0 ? row[department].Span.Trim() : [];
            var joinedPath = (top.IsEmpty, leaf.IsEmpty) switch
            {
                (true, true) => null,
                (false, true) => top.ToString(),
                (true, false) => leaf.ToString(),
                _ => string.Concat(top, " > ", leaf),
            };
            if (joinedPath is not null)
            {
                map.TryAdd(k.ToString(), CategoryMatcher.Normalize(joinedPath));
            }
        }

        return map;
    }
}
