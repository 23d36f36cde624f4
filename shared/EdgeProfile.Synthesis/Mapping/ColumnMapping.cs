using System.Text.Json;

namespace EdgeProfile.Synthesis.Mapping;

/// <summary>
/// Which columns of a transactions CSV play which part: customer, time, product, amount and the optional ones.
/// Read from JSON with <see cref="Parse"/>; every error names the key at fault.
/// </summary>
/// <remarks>
/// <code>
/// { "customer": "CustomerID", "time": "InvoiceDate", "product": "StockCode", "productName": "Description",
///   "amount": ["Quantity", "UnitPrice"], "quantity": "Quantity", "store": "Country", "basket": "InvoiceNo",
///   "category": { "file": "products.csv", "key": "product_id", "category": "product_category", "department": "department" } }
/// </code>
/// </remarks>
public sealed record ColumnMapping
{
    /// <summary>The keys a mapping may have (keys starting with <c>$</c> or <c>_</c> are comments).</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["customer", "time", "timeFormat", "product", "productName", "category", "amount", "quantity", "store", "channel", "basket", "separator"];

    /// <summary>Customer id column; rows where it is empty are skipped (unknown customer).</summary>
    public required string Customer { get; init; }

    /// <summary>Event time column.</summary>
    public required string Time { get; init; }

    /// <summary>
    /// .NET exact format of <see cref="Time"/> (e.g. <c>M/d/yyyy H:mm</c>), or <c>unix</c> / <c>unix_ms</c> for epoch
    /// seconds / milliseconds; null accepts ISO 8601 (<c>2011-09-01 08:26:00</c>, <c>2011-09-01T08:26:00Z</c>, <c>2011-09-01</c>).
    /// Times without an offset are taken as UTC.
    /// </summary>
    public string? TimeFormat { get; init; }

    /// <summary>Product (SKU) column.</summary>
    public required string Product { get; init; }

    /// <summary>Optional product name column, used in reports.</summary>
    public string? ProductName { get; init; }

    /// <summary>Optional category path column (levels separated by <c>&gt;</c>); exclusive with <see cref="CategoryJoin"/>.</summary>
    public string? Category { get; init; }

    /// <summary>Optional category taken from a joined product file; exclusive with <see cref="Category"/>.</summary>
    public CategoryJoin? CategoryJoin { get; init; }

    /// <summary>The columns whose product is the amount of money: one column (<c>sales_value</c>) or several (<c>Quantity</c> × <c>UnitPrice</c>).</summary>
    public required IReadOnlyList<string> Amount { get; init; }

    /// <summary>Optional units column.</summary>
    public string? Quantity { get; init; }

    /// <summary>Optional store column.</summary>
    public string? Store { get; init; }

    /// <summary>Optional channel column.</summary>
    public string? Channel { get; init; }

    /// <summary>Optional basket (invoice, order) column: several rows of one purchase share it.</summary>
    public string? Basket { get; init; }

    /// <summary>Column separator; <c>,</c> unless given.</summary>
    public char Separator { get; init; } = ',';

    /// <summary>The folder of the mapping file, for relative join files; null when the mapping did not come from a file.</summary>
    public string? BaseDirectory { get; init; }

    /// <summary>Reads a mapping file; relative join files resolve against the CSV's folder, then this file's folder.</summary>
    public static ColumnMapping Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!System.IO.File.Exists(path))
        {
            throw new SynthesisException($"mapping file {Path.GetFullPath(path)} does not exist", isConfiguration: true);
        }

        var full = Path.GetFullPath(path);
        return Parse(System.IO.File.ReadAllText(full), full) with { BaseDirectory = Path.GetDirectoryName(full) };
    }

    /// <summary>Reads a mapping from JSON; <paramref name="source"/> names it in error messages.</summary>
    public static ColumnMapping Parse(string json, string source = "mapping")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw Error(source, $"is not valid JSON (line {ex.LineNumber + 1}): {ex.Message}");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error(source, "must be a JSON object with keys " + string.Join(", ", Keys));
            }

            foreach (var p in root.EnumerateObject())
            {
                if (!Keys.Contains(p.Name, StringComparer.Ordinal) && !p.Name.StartsWith('$') && !p.Name.StartsWith('_'))
                {
                    throw Error(source, $"unknown key '{p.Name}' (known: {string.Join(", ", Keys)})");
                }
            }

            string? category = null;
            CategoryJoin? join = null;
            if (root.TryGetProperty("category", out var cat))
            {
                switch (cat.ValueKind)
                {
                    case JsonValueKind.String:
                        category = NonEmpty(cat, "category", source);
                        break;
                    case JsonValueKind.Object:
                        join = ParseJoin(cat, source);
                        break;
                    case JsonValueKind.Null:
                        break;
                    default:
                        throw Error(source, "key 'category' must be a column name or a join object {\"file\", \"key\", \"category\", \"department\"}");
                }
            }

            var separator = OptionalString(root, "separator", source) switch
            {
                null => ',',
                "\\t" or "tab" => '\t',
                { Length: 1 } s => s[0],
                var s => throw Error(source, $"key 'separator' must be one character (got '{s}')"),
            };

            return new ColumnMapping
            {
                Customer = RequiredString(root, "customer", source),
                Time = RequiredString(root, "time", source),
                TimeFormat = OptionalString(root, "timeFormat", source),
                Product = RequiredString(root, "product", source),
                ProductName = OptionalString(root, "productName", source),
                Category = category,
                CategoryJoin = join,
                Amount = ParseAmount(root, source),
                Quantity = OptionalString(root, "quantity", source),
                Store = OptionalString(root, "store", source),
                Channel = OptionalString(root, "channel", source),
                Basket = OptionalString(root, "basket", source),
                Separator = separator,
            };
        }
    }

    /// <summary>
    /// The join file's full path: <see cref="CategoryJoin.File"/> if absolute, else the first that exists of the CSV's
    /// folder and <see cref="BaseDirectory"/>.
    /// </summary>
    public string ResolveJoinFile(string csvPath)
    {
        ArgumentNullException.ThrowIfNull(csvPath);
        if (CategoryJoin is null)
        {
            throw new InvalidOperationException("the mapping has no category join");
        }

        var file = CategoryJoin.File;
        if (Path.IsPathRooted(file))
        {
            return System.IO.File.Exists(file) ? file
                : throw new SynthesisException($"mapping key 'category.file': {file} does not exist", isConfiguration: true);
        }

        var tried = new List<string>();
        foreach (var dir in new[] { Path.GetDirectoryName(Path.GetFullPath(csvPath)), BaseDirectory })
        {
            if (dir is null)
            {
                continue;
            }

            var candidate = Path.GetFullPath(Path.Combine(dir, file));
            if (System.IO.File.Exists(candidate))
            {
                return candidate;
            }

            tried.Add(candidate);
        }

        throw new SynthesisException($"mapping key 'category.file': '{file}' not found (tried {string.Join(", ", tried)})", isConfiguration: true);
    }

    private static CategoryJoin ParseJoin(JsonElement e, string source)
    {
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name is not ("file" or "key" or "category" or "department") && !p.Name.StartsWith('$') && !p.Name.StartsWith('_'))
            {
                throw Error(source, $"unknown key 'category.{p.Name}' (known: file, key, category, department)");
            }
        }

        return new CategoryJoin
        {
            File = RequiredString(e, "file", source, "category."),
            Key = RequiredString(e, "key", source, "category."),
            Category = RequiredString(e, "category", source, "category."),
            Department = OptionalString(e, "department", source, "category."),
        };
    }

    private static List<string> ParseAmount(JsonElement root, string source)
    {
        if (!root.TryGetProperty("amount", out var a) || a.ValueKind == JsonValueKind.Null)
        {
            throw Error(source, "key 'amount' is required: a column name, or an array of columns to multiply (e.g. [\"Quantity\", \"UnitPrice\"])");
        }

        if (a.ValueKind == JsonValueKind.String)
        {
            return [NonEmpty(a, "amount", source)];
        }

        if (a.ValueKind != JsonValueKind.Array || a.GetArrayLength() == 0)
        {
            throw Error(source, "key 'amount' must be a column name or a non-empty array of column names");
        }

        var list = new List<string>();
        var i = 0;
        foreach (var item in a.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw Error(source, $"key 'amount[{i}]' must be a column name (a string)");
            }

            list.Add(NonEmpty(item, $"amount[{i}]", source));
            i++;
        }

        return list;
    }

    private static string RequiredString(JsonElement e, string key, string source, string prefix = "") =>
        OptionalString(e, key, source, prefix) ?? throw Error(source, $"key '{prefix}{key}' is required (the name of a column)");

    private static string? OptionalString(JsonElement e, string key, string source, string prefix = "")
    {
        if (!e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            throw Error(source, $"key '{prefix}{key}' must be a string (got {v.ValueKind.ToString().ToLowerInvariant()})");
        }

        return NonEmpty(v, prefix + key, source);
    }

    private static string NonEmpty(JsonElement v, string key, string source)
    {
        var s = v.GetString();
        return string.IsNullOrWhiteSpace(s) ? throw Error(source, $"key '{key}' must not be empty") : s.Trim();
    }

    private static SynthesisException Error(string source, string message) => new($"{source}: {message}", isConfiguration: true);
}
