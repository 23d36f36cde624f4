using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Training.Pipeline;

namespace EdgeProfile.Training.Graph;

/// <summary>
/// A customer embedding table: one row per customer, <see cref="Dimension"/> values. On disk a CSV
/// <c>customer,emb_0,…,emb_{d−1}</c> (RFC 4180 quoting, invariant culture, round-trip float text).
/// </summary>
public sealed class GraphEmbeddingTable
{
    private readonly Dictionary<string, float[]> rows;

    /// <summary>A table of <paramref name="rows"/> (customer → values, all of width <paramref name="dimension"/>).</summary>
    public GraphEmbeddingTable(int dimension, IEnumerable<KeyValuePair<string, float[]>> rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentNullException.ThrowIfNull(rows);
        Dimension = dimension;
        this.rows = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (customer, values) in rows)
        {
            ArgumentNullException.ThrowIfNull(values);
            if (values.Length != dimension)
            {
                throw new ArgumentException($"customer {customer}: {values.Length} values, the table has {dimension}", nameof(rows));
            }
            if (!this.rows.TryAdd(customer, (float[])values.Clone()))
            {
                throw new ArgumentException($"customer {customer} is listed twice", nameof(rows));
            }
        }
    }

    /// <summary>Width of a row.</summary>
    public int Dimension { get; }

    /// <summary>Customers in the table.</summary>
    public int Count => rows.Count;

    /// <summary>Customers, ordinal order.</summary>
    public IEnumerable<string> Customers => rows.Keys.Order(StringComparer.Ordinal);

    /// <summary>Column names after <c>customer</c>: <c>emb_0 … emb_{d−1}</c>.</summary>
    public IReadOnlyList<string> Columns => [.. Enumerable.Range(0, Dimension).Select(i => $"emb_{i}")];

    /// <summary>The table of a graph's customers (<paramref name="embeddings"/> by customer index, e.g. <see cref="GraphSageResult.CustomerEmbeddings"/>).</summary>
    public static GraphEmbeddingTable FromGraph(HeteroGraph graph, float[][] embeddings)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.Length != graph.CustomerCount || embeddings.Length == 0)
        {
            throw new ArgumentException($"{embeddings.Length} rows for {graph.CustomerCount} customers", nameof(embeddings));
        }
        return new GraphEmbeddingTable(embeddings[0].Length, graph.Customers.Select((id, i) => KeyValuePair.Create(id, embeddings[i])));
    }

    /// <summary>Whether <paramref name="customer"/> has a row.</summary>
    public bool Contains(string customer) => rows.ContainsKey(customer);

    /// <summary>The row of <paramref name="customer"/>, or all zeros when it has none (a customer the graph did not see).</summary>
    public float[] For(string customer)
    {
        ArgumentNullException.ThrowIfNull(customer);
        return rows.TryGetValue(customer, out var v) ? (float[])v.Clone() : new float[Dimension];
    }

    /// <summary>Writes the table to <paramref name="path"/> (customers in ordinal order).</summary>
    public void Write(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var text = new StringBuilder();
        text.Append("customer");
        foreach (var c in Columns)
        {
            text.Append(',').Append(c);
        }
        text.Append('\n');
        foreach (var customer in Customers)
        {
            text.Append(GraphEmbeddingFeatures.Quote(customer));
            foreach (var v in rows[customer])
            {
                text.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
            }
            text.Append('\n');
        }
        File.WriteAllText(path, text.ToString());
    }

    /// <summary>Reads a table <see cref="Write"/> wrote.</summary>
    /// <exception cref="PipelineException">The header or a value is not as expected.</exception>
    public static GraphEmbeddingTable Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var records = RfcCsv.Read(path).GetEnumerator();
        if (!records.MoveNext())
        {
            throw new PipelineException($"{path} is empty (no header)");
        }
        var header = records.Current.Fields;
        if (header.Length < 2 || header[0] != "customer" || header.Skip(1).Where((h, i) => h != $"emb_{i}").Any())
        {
            throw new PipelineException($"{path}: the header must be customer,emb_0,…,emb_{{d-1}}");
        }
        var dimension = header.Length - 1;
        var rows = new List<KeyValuePair<string, float[]>>();
        while (records.MoveNext())
        {
            var (line, fields) = records.Current;
            if (fields.Length != header.Length)
            {
                throw new PipelineException($"{path}:{line}: {fields.Length} fields, the header has {header.Length}");
            }
            var values = new float[dimension];
            for (var i = 0; i < dimension; i++)
            {
                if (!float.TryParse(fields[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                {
                    throw new PipelineException($"{path}:{line}: emb_{i} is '{fields[i + 1]}', not a number");
                }
            }
            rows.Add(KeyValuePair.Create(fields[0], values));
        }
        try
        {
            return new GraphEmbeddingTable(dimension, rows);
        }
        catch (ArgumentException ex)
        {
            throw new PipelineException($"{path}: {ex.Message}", ex);
        }
    }
}

/// <summary>A training set's feature matrix with the graph-embedding columns appended.</summary>
/// <param name="FeatureNames">Column names: the training set's feature names, then <c>graph_emb_0 …</c>.</param>
/// <param name="X">Rows <c>[row][feature]</c>, aligned with the training set's rows.</param>
/// <param name="MissingRows">Rows whose customer has no embedding (their embedding columns are zeros).</param>
public sealed record AugmentedFeatures(IReadOnlyList<string> FeatureNames, float[][] X, int MissingRows);

/// <summary>
/// Makes customer graph embeddings available to the models as features. The columns are named
/// <c>graph_emb_{i}</c> (definition id <c>graph_emb_{i}@v1</c>) and aligned by customer id; a customer without an
/// embedding (not in the graph: no purchase before the graph's cutoff) gets zeros, like an edge feature with no value.
/// The table is as of its graph's cutoff: use it for training-set rows whose cutoff is at or after that time, or the
/// embeddings carry purchases later than the row's cutoff.
/// </summary>
public static class GraphEmbeddingFeatures
{
    /// <summary>Name prefix of the appended columns.</summary>
    public const string Prefix = "graph_emb_";

    /// <summary>Appends <paramref name="table"/>'s columns to <paramref name="set"/>'s loaded features, row by row.</summary>
    public static AugmentedFeatures Append(TrainingSet set, GraphEmbeddingTable table)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(table);
        var names = set.Features.Select(f => f.Name).Concat(Enumerable.Range(0, table.Dimension).Select(i => Prefix + i)).ToArray();
        var x = new float[set.Rows][];
        var missing = 0;
        for (var r = 0; r < set.Rows; r++)
        {
            var customer = set.Customers[r];
            missing += table.Contains(customer) ? 0 : 1;
            x[r] = [.. set.X[r], .. table.For(customer)];
        }
        return new AugmentedFeatures(names, x, missing);
    }

    /// <summary>
    /// Writes a copy of the training set in <paramref name="sourceDirectory"/> to <paramref name="destinationDirectory"/>
    /// with the embedding columns appended to every row of <c>training_set.csv</c> (observed or not) and their
    /// definitions (<c>graph_emb_{i}@v1</c>, version 1) appended to <c>manifest.json</c>, so that
    /// <see cref="TrainingSet.Load"/> of the copy has them as numeric features. Returns the rows written without an
    /// embedding (zeros).
    /// </summary>
    /// <exception cref="PipelineException">A file is missing or malformed, or a column name is taken.</exception>
    public static int WriteAugmentedTrainingSet(string sourceDirectory, string destinationDirectory, GraphEmbeddingTable table)
    {
        ArgumentNullException.ThrowIfNull(sourceDirectory);
        ArgumentNullException.ThrowIfNull(destinationDirectory);
        ArgumentNullException.ThrowIfNull(table);
        var csvPath = Path.Combine(sourceDirectory, TrainingSet.CsvFile);
        var manifestPath = Path.Combine(sourceDirectory, TrainingSet.ManifestFile);
        foreach (var file in new[] { csvPath, manifestPath })
        {
            if (!File.Exists(file))
            {
                throw new PipelineException($"{file} does not exist", isUsage: true);
            }
        }
        var ids = Enumerable.Range(0, table.Dimension).Select(i => $"{Prefix}{i}@v1").ToArray();

        JsonNode manifest;
        try
        {
            manifest = JsonNode.Parse(File.ReadAllText(manifestPath)) ?? throw new PipelineException($"{manifestPath} is null");
        }
        catch (JsonException ex)
        {
            throw new PipelineException($"{manifestPath} is not valid JSON: {ex.Message}", ex);
        }
        if (manifest["definitions"] is not JsonArray definitions)
        {
            throw new PipelineException($"{manifestPath}: no 'definitions' array");
        }

        var text = new StringBuilder();
        var missing = 0;
        var first = true;
        int customerColumn = -1, width = 0;
        foreach (var (line, fields) in RfcCsv.Read(csvPath))
        {
            if (first)
            {
                first = false;
                customerColumn = Array.IndexOf(fields, "customer");
                if (customerColumn < 0)
                {
                    throw new PipelineException($"{csvPath}: no column 'customer'");
                }
                if (fields.Intersect(ids).FirstOrDefault() is { } taken)
                {
                    throw new PipelineException($"{csvPath}: already has a column '{taken}'");
                }
                width = fields.Length;
                text.AppendJoin(',', fields.Select(Quote).Concat(ids)).Append('\n');
                continue;
            }
            if (fields.Length != width)
            {
                throw new PipelineException($"{csvPath}:{line}: {fields.Length} fields, the header has {width}");
            }
            var customer = fields[customerColumn];
            missing += table.Contains(customer) ? 0 : 1;
            text.AppendJoin(',', fields.Select(Quote).Concat(table.For(customer).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).Append('\n');
        }
        if (first)
        {
            throw new PipelineException($"{csvPath} is empty (no header)");
        }

        for (var i = 0; i < ids.Length; i++)
        {
            definitions.Add(new JsonObject { ["id"] = ids[i], ["name"] = Prefix + i, ["version"] = 1 });
        }
        Directory.CreateDirectory(destinationDirectory);
        File.WriteAllText(Path.Combine(destinationDirectory, TrainingSet.CsvFile), text.ToString());
        File.WriteAllText(Path.Combine(destinationDirectory, TrainingSet.ManifestFile), manifest.ToJsonString());
        return missing;
    }

    /// <summary>An RFC 4180 field: quoted (quotes doubled) when it holds a comma, quote or line break.</summary>
    internal static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
}
