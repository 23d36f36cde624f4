using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using EdgeProfile.Semantic.MiniLm;

namespace EdgeProfile.Bench.VectorSearch;

/// <summary>One group of real vectors and where it came from.</summary>
internal sealed record VectorSource(string Name, int Count);

/// <summary>
/// The real 384-d set: all-MiniLM-L6-v2 sentence embeddings of every distinct product / category text in the retail
/// data sets, then (because those are ≈ 34k) vectors of real baskets, customers and customer-months: the normalised
/// mean embedding of the distinct products they bought. Exact duplicate vectors are dropped.
/// </summary>
internal static class RealVectors
{
    public static (float[][] Vectors, IReadOnlyList<VectorSource> Sources) Build(string dataDirectory, string cacheDirectory, int wanted)
    {
        var texts = new TextTable();
        var sources = new List<VectorSource>();

        // 1. Product and category texts.
        var cjProducts = new Dictionary<string, int>();
        var cj = Csv.ReadFile(Path.Combine(dataDirectory, "completejourney", "products.csv"), Encoding.UTF8);
        var before = texts.Count;
        foreach (var row in cj.Rows)
        {
            var text = Join(row[cj.Column("department")], row[cj.Column("product_category")], row[cj.Column("product_type")], row[cj.Column("brand")], row[cj.Column("package_size")]);
            if (text.Length > 0)
            {
                cjProducts[row[cj.Column("product_id")]] = texts.Add(text);
            }
        }

        sources.Add(new("completejourney products.csv: distinct department+category+type+brand+package_size texts", texts.Count - before));

        before = texts.Count;
        var retail = Csv.ReadFile(Path.Combine(dataDirectory, "online-retail", "online_retail_clean.csv.gz"), Encoding.UTF8);
        var retailFull = Csv.ReadFile(Path.Combine(dataDirectory, "online-retail", "online_retail_full_no_invoice.csv.gz"), Encoding.UTF8);
        foreach (var table in new[] { retail, retailFull })
        {
            foreach (var row in table.Rows)
            {
                texts.Add(Join(row[table.Column("Description")]));
            }
        }

        sources.Add(new("online-retail: distinct Description texts", texts.Count - before));

        before = texts.Count;
        var olist = Csv.ReadFile(Path.Combine(dataDirectory, "olist-partial", "product_category_name_translation.csv"), Encoding.UTF8);
        foreach (var row in olist.Rows)
        {
            texts.Add(Join(row[olist.Column("product_category_name_english")].Replace('_', ' '), "(" + row[olist.Column("product_category_name")].Replace('_', ' ') + ")"));
        }

        var olistProducts = Csv.ReadFile(Path.Combine(dataDirectory, "olist-partial", "olist_products_dataset.csv"), Encoding.UTF8);
        foreach (var row in olistProducts.Rows)
        {
            var category = row[olistProducts.Column("product_category_name")];
            if (category.Length > 0)
            {
                texts.Add(category.Replace('_', ' '));
            }
        }

        sources.Add(new("olist-partial: category names (English (Portuguese), and the Portuguese names in olist_products_dataset; no other text columns exist)", texts.Count - before));

        before = texts.Count;
        foreach (var line in File.ReadLines(Path.Combine(dataDirectory, "google-taxonomy", "taxonomy-with-ids.en-US.txt")))
        {
            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (!line.StartsWith('#') && dash > 0)
            {
                texts.Add(line[(dash + 3)..].Trim());
            }
        }

        sources.Add(new("google-taxonomy: product category paths", texts.Count - before));

        before = texts.Count;
        var store = Csv.ReadFile(Path.Combine(dataDirectory, "superstore", "Sample-Superstore.csv"), Encoding.Latin1);
        foreach (var row in store.Rows)
        {
            texts.Add(Join(row[store.Column("Product Name")]));
        }

        sources.Add(new("superstore: distinct Product Name texts (Tableau sample data)", texts.Count - before));

        before = texts.Count;
        var movies = new Dictionary<string, int>();
        foreach (var line in File.ReadLines(Path.Combine(dataDirectory, "movielens-100k", "u.item"), Encoding.Latin1))
        {
            var fields = line.Split('|');
            if (fields.Length > 2)
            {
                movies[fields[0]] = texts.Add(fields[1]);
            }
        }

        sources.Add(new("movielens-100k: distinct movie titles", texts.Count - before));

        var embeddings = Embed(texts.Texts, cacheDirectory);
        var set = new VectorSet();
        for (var i = 0; i < embeddings.Length; i++)
        {
            set.Add(embeddings[i]);
        }

        var textVectors = set.Count;
        Console.WriteLine($"  {texts.Count:N0} distinct texts -> {textVectors:N0} distinct MiniLM vectors");

        // 2. Real groups: mean embedding of what a basket / customer / customer-month holds.
        var retailDescription = retail.Column("Description");
        int RetailText(string[] row) => texts.IndexOf(Join(row[retailDescription]));
        AddGroups(set, sources, embeddings, "online-retail invoices (>= 2 distinct products): basket vectors", retail.Rows, row => row[retail.Column("InvoiceNo")], RetailText);
        AddGroups(set, sources, embeddings, "online-retail customers: mean of purchased products", retail.Rows, row => row[retail.Column("CustomerID")], RetailText);
        AddGroups(set, sources, embeddings, "online-retail customer-months: mean of products bought that month", retail.Rows,
            row => row[retail.Column("CustomerID")].Length == 0 ? "" : row[retail.Column("CustomerID")] + "|" + row[retail.Column("InvoiceDate")][..7], RetailText);

        var transactions = Csv.ReadFile(Path.Combine(dataDirectory, "completejourney", "transactions_sample.csv"), Encoding.UTF8);
        int CjText(string[] row) => cjProducts.TryGetValue(row[transactions.Column("product_id")], out var t) ? t : -1;
        AddGroups(set, sources, embeddings, "completejourney baskets (>= 2 distinct products): basket vectors", transactions.Rows, row => row[transactions.Column("basket_id")], CjText);
        AddGroups(set, sources, embeddings, "completejourney households: mean of purchased products", transactions.Rows, row => row[transactions.Column("household_id")], CjText);
        AddGroups(set, sources, embeddings, "completejourney household-weeks", transactions.Rows, row => row[transactions.Column("household_id")] + "|" + row[transactions.Column("week")], CjText);

        int StoreText(string[] row) => texts.IndexOf(Join(row[store.Column("Product Name")]));
        AddGroups(set, sources, embeddings, "superstore orders (>= 2 distinct products)", store.Rows, row => row[store.Column("Order ID")], StoreText);
        AddGroups(set, sources, embeddings, "superstore customers", store.Rows, row => row[store.Column("Customer ID")], StoreText);

        var ratings = File.ReadLines(Path.Combine(dataDirectory, "movielens-100k", "u.data")).Select(l => l.Split('\t')).Where(f => f.Length >= 3).ToList();
        AddGroups(set, sources, embeddings, "movielens users: mean of movies rated >= 4", ratings.Where(f => f[2] is "4" or "5").ToList(), f => f[0], f => movies.TryGetValue(f[1], out var t) ? t : -1);

        // 3. Partial carts: the first half, then the first quarter, of each online-retail invoice, as a basket looks
        //    while it is being filled (only while more vectors are needed).
        var invoices = retail.Rows.GroupBy(row => row[retail.Column("InvoiceNo")]).Select(g => g.Select(RetailText).Where(t => t >= 0).Distinct().ToList()).ToList();
        foreach (var (share, name) in new[] { (2, "first half"), (4, "first quarter") })
        {
            if (set.Count >= wanted)
            {
                break;
            }

            var start = set.Count;
            foreach (var items in invoices.Where(items => items.Count >= 2 * share))
            {
                set.Add(Mean(embeddings, items.Take(items.Count / share)));
            }

            sources.Add(new($"online-retail partial carts: {name} of each invoice with >= {2 * share} products", set.Count - start));
        }

        return (set.Vectors.ToArray(), sources);
    }

    private static void AddGroups(VectorSet set, List<VectorSource> sources, float[][] embeddings, string name, IReadOnlyList<string[]> rows, Func<string[], string> group, Func<string[], int> text)
    {
        var members = new Dictionary<string, HashSet<int>>();
        foreach (var row in rows)
        {
            var key = group(row);
            var t = text(row);
            if (key.Length == 0 || t < 0)
            {
                continue;
            }

            if (!members.TryGetValue(key, out var items))
            {
                members[key] = items = [];
            }

            items.Add(t);
        }

        var start = set.Count;
        foreach (var items in members.Values)
        {
            if (items.Count >= 2)
            {
                set.Add(Mean(embeddings, items.Order()));
            }
        }

        sources.Add(new(name, set.Count - start));
    }

    private static float[] Mean(float[][] embeddings, IEnumerable<int> items)
    {
        var sum = new float[embeddings[0].Length];
        foreach (var item in items)
        {
            var v = embeddings[item];
            for (var d = 0; d < sum.Length; d++)
            {
                sum[d] += v[d];
            }
        }

        var norm = MathF.Sqrt(sum.Sum(x => x * x));
        for (var d = 0; d < sum.Length; d++)
        {
            sum[d] /= norm;
        }

        return sum;
    }

    private static string Join(params string[] parts) =>
        string.Join(' ', parts.Select(p => p.Trim()).Where(p => p.Length > 0)).ToLowerInvariant();

    /// <summary>MiniLM embeddings of <paramref name="texts"/>, cached in a file named by a hash of the texts.</summary>
    private static float[][] Embed(IReadOnlyList<string> texts, string cacheDirectory)
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', texts))))[..16];
        var path = Path.Combine(cacheDirectory, $"minilm-{texts.Count}-{hash}.f32");
        const int dimensions = MiniLmTextEmbedder.ModelDimensions;
        if (File.Exists(path) && new FileInfo(path).Length == (long)texts.Count * dimensions * sizeof(float))
        {
            Console.WriteLine($"  embeddings from cache {path}");
            var flat = new float[texts.Count * dimensions];
            using (var file = File.OpenRead(path))
            {
                file.ReadExactly(MemoryMarshal.AsBytes(flat.AsSpan()));
            }

            return Enumerable.Range(0, texts.Count).Select(i => flat.AsSpan(i * dimensions, dimensions).ToArray()).ToArray();
        }

        Console.WriteLine($"  embedding {texts.Count:N0} texts with {MiniLmTextEmbedder.ModelName} (cached afterwards in {path}) ...");
        using var embedder = new MiniLmTextEmbedder(batchSize: MiniLmTextEmbedder.MaxBatchSize);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = new float[texts.Count][];
        const int chunk = 4096;
        for (var from = 0; from < texts.Count; from += chunk)
        {
            var part = embedder.Embed(texts.Skip(from).Take(chunk).ToList());
            part.CopyTo(result, from);
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
            Console.WriteLine($"    {from + part.Length:N0}/{texts.Count:N0} ({elapsed:F0} s, {elapsed * 1000 / (from + part.Length):F2} ms/text)");
        }

        Directory.CreateDirectory(cacheDirectory);
        var temporary = path + ".tmp";
        using (var file = File.Create(temporary))
        {
            foreach (var vector in result)
            {
                file.Write(MemoryMarshal.AsBytes(vector.AsSpan()));
            }
        }

        File.Move(temporary, path, overwrite: true);
        return result;
    }

    /// <summary>Distinct texts in first-seen order.</summary>
    private sealed class TextTable
    {
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

        public List<string> Texts { get; } = [];

        public int Count => Texts.Count;

        public int Add(string text)
        {
            if (text.Length == 0)
            {
                return -1;
            }

            if (!_index.TryGetValue(text, out var i))
            {
                i = Texts.Count;
                _index[text] = i;
                Texts.Add(text);
            }

            return i;
        }

        public int IndexOf(string text) => _index.TryGetValue(text, out var i) ? i : -1;
    }

    /// <summary>Vectors without exact duplicates.</summary>
    private sealed class VectorSet
    {
        private readonly HashSet<string> _seen = [];

        public List<float[]> Vectors { get; } = [];

        public int Count => Vectors.Count;

        public void Add(float[] vector)
        {
            if (vector.Any(x => !float.IsFinite(x)) || !_seen.Add(Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan()))))
            {
                return;
            }

            Vectors.Add(vector);
        }
    }
}

/// <summary>A minimal RFC-4180 CSV reader (quoted fields, doubled quotes, commas and newlines inside quotes), for
/// plain or .gz files.</summary>
internal sealed class Csv
{
    private readonly Dictionary<string, int> _columns;

    private Csv(string[] header, List<string[]> rows)
    {
        _columns = header.Select((name, i) => (name: name.Trim().TrimStart('\uFEFF'), i)).ToDictionary(p => p.name, p => p.i);
        Rows = rows;
    }

    public List<string[]> Rows { get; }

    public int Column(string name) => _columns.TryGetValue(name, out var i) ? i : throw new InvalidDataException($"no column {name}; have {string.Join(", ", _columns.Keys)}");

    public static Csv ReadFile(string path, Encoding encoding)
    {
        using Stream file = File.OpenRead(path);
        using var stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: true);
        var text = reader.ReadToEnd();
        var records = Parse(text);
        var header = records[0];
        return new Csv(header, records.Skip(1).Where(r => r.Length == header.Length).ToList());
    }

    private static List<string[]> Parse(string text)
    {
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                fields.Add(field.ToString());
                field.Clear();
                records.Add([.. fields]);
                fields.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        if (field.Length > 0 || fields.Count > 0)
        {
            fields.Add(field.ToString());
            records.Add([.. fields]);
        }

        return records;
    }
}

/// <summary>Invariant-culture number formatting for the tables.</summary>
internal static class Format
{
    public static string N0(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string F(double value, int decimals) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
