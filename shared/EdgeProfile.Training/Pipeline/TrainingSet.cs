using System.Globalization;
using System.Text.Json;

namespace EdgeProfile.Training.Pipeline;

/// <summary>
/// A training set as <c>features training-set</c> writes it: <c>training_set.csv</c> (customer, cutoff, one column per
/// feature definition id, one per label, <c>label_observed</c>) and <c>manifest.json</c> (definitions and labels).
/// Only rows with <c>label_observed = 1</c> are kept (the others are counted); numeric feature columns become inputs
/// (an empty value, "no value", reads as 0 as on the edge), other columns (top-k rankings, texts) are left out and listed.
/// </summary>
public sealed class TrainingSet
{
    /// <summary>File names inside a training-set directory.</summary>
    public const string CsvFile = "training_set.csv", ManifestFile = "manifest.json";

    private TrainingSet(
        string directory,
        IReadOnlyList<TrainingSetFeature> features,
        IReadOnlyList<string> skippedColumns,
        IReadOnlyList<TrainingSetLabel> labels,
        string[] customers,
        DateTimeOffset[] cutoffs,
        float[][] x,
        float[][] y,
        int unobservedRows)
    {
        Directory = directory;
        Features = features;
        SkippedColumns = skippedColumns;
        Labels = labels;
        Customers = customers;
        Cutoffs = cutoffs;
        X = x;
        Y = y;
        UnobservedRows = unobservedRows;
    }

    /// <summary>The directory read.</summary>
    public string Directory { get; }

    /// <summary>Numeric feature columns, in input order (column order of the CSV).</summary>
    public IReadOnlyList<TrainingSetFeature> Features { get; }

    /// <summary>Feature columns left out, with the reason, e.g. <c>top_categories@v1 (not numeric: "Baby:0.6")</c>.</summary>
    public IReadOnlyList<string> SkippedColumns { get; }

    /// <summary>Labels, in manifest order.</summary>
    public IReadOnlyList<TrainingSetLabel> Labels { get; }

    /// <summary>Customer of each kept row.</summary>
    public IReadOnlyList<string> Customers { get; }

    /// <summary>Cutoff of each kept row.</summary>
    public IReadOnlyList<DateTimeOffset> Cutoffs { get; }

    /// <summary>Feature values <c>[row][feature]</c>, in <see cref="Features"/> order.</summary>
    public float[][] X { get; }

    /// <summary>Raw label values <c>[label][row]</c>, in <see cref="Labels"/> order.</summary>
    public float[][] Y { get; }

    /// <summary>Rows left out because their labels were not observed (<c>label_observed = 0</c>).</summary>
    public int UnobservedRows { get; }

    /// <summary>Kept rows.</summary>
    public int Rows => Cutoffs.Count;

    /// <summary>Reads the training set in <paramref name="directory"/>.</summary>
    /// <exception cref="PipelineException">A file or column is missing, or a value cannot be read.</exception>
    public static TrainingSet Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new PipelineException($"training set directory {directory} does not exist", isUsage: true);
        }

        var csvPath = Path.Combine(directory, CsvFile);
        var manifestPath = Path.Combine(directory, ManifestFile);
        foreach (var file in new[] { csvPath, manifestPath })
        {
            if (!File.Exists(file))
            {
                throw new PipelineException($"{file} does not exist (write it with `edgeprofile features training-set`)", isUsage: true);
            }
        }

        var (definitions, labels) = ReadManifest(manifestPath);
        using var records = RfcCsv.Read(csvPath).GetEnumerator();
        if (!records.MoveNext())
        {
            throw new PipelineException($"{csvPath} is empty (no header)");
        }

        var header = records.Current.Fields;
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++)
        {
            columns.TryAdd(header[i], i);
        }

        int Column(string name, string what) => columns.TryGetValue(name, out var i)
            ? i
            : throw new PipelineException($"{csvPath}: no column '{name}' ({what})");

        var customerColumn = Column("customer", "the customer");
        var cutoffColumn = Column("cutoff", "the cutoff");
        var observedColumn = Column("label_observed", "whether the labels were observed");
        var featureColumns = definitions.Select(d => Column(d.Id, $"feature {d.Name} v{d.Version} in {ManifestFile}")).ToArray();
        var labelColumns = labels.Select(l => Column(l.Name, $"label in {ManifestFile}")).ToArray();

        var kept = new List<string[]>();
        var lines = new List<int>();
        var unobserved = 0;
        while (records.MoveNext())
        {
            var (line, fields) = records.Current;
            if (fields.Length != header.Length)
            {
                throw new PipelineException($"{csvPath}:{line}: {fields.Length} fields, the header has {header.Length}");
            }

            switch (fields[observedColumn])
            {
                case "1":
                    kept.Add(fields);
                    lines.Add(line);
                    break;
                case "0":
                    unobserved++;
                    break;
                default:
                    throw new PipelineException($"{csvPath}:{line}: label_observed is '{fields[observedColumn]}', expected 0 or 1");
            }
        }

        // Numeric = every kept row's value is empty or a number. The newest version of a name wins (the edge serves one per name).
        var numeric = new List<int>();
        var skipped = new List<string>();
        for (var f = 0; f < definitions.Count; f++)
        {
            var bad = kept.Select(r => r[featureColumns[f]]).FirstOrDefault(v => v.Length > 0 && !TryNumber(v, out _));
            if (bad is not null)
            {
                skipped.Add($"{definitions[f].Id} (not numeric: \"{(bad.Length > 24 ? bad[..24] + "…" : bad)}\")");
            }
            else if (definitions.Any(d => d.Name == definitions[f].Name && d.Version > definitions[f].Version))
            {
                skipped.Add($"{definitions[f].Id} (a newer version is in the set)");
            }
            else
            {
                numeric.Add(f);
            }
        }

        var customers = new string[kept.Count];
        var cutoffs = new DateTimeOffset[kept.Count];
        var x = new float[kept.Count][];
        var y = labels.Select(_ => new float[kept.Count]).ToArray();
        for (var r = 0; r < kept.Count; r++)
        {
            var fields = kept[r];
            customers[r] = fields[customerColumn];
            if (!DateTimeOffset.TryParse(fields[cutoffColumn], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out cutoffs[r]))
            {
                throw new PipelineException($"{csvPath}:{lines[r]}: cutoff '{fields[cutoffColumn]}' is not a time");
            }

            var row = new float[numeric.Count];
            for (var j = 0; j < numeric.Count; j++)
            {
                var text = fields[featureColumns[numeric[j]]];
                row[j] = text.Length == 0 ? 0f : (float)Number(text);
            }
            x[r] = row;
            for (var l = 0; l < labels.Count; l++)
            {
                var text = fields[labelColumns[l]];
                if (!TryNumber(text, out var value))
                {
                    throw new PipelineException($"{csvPath}:{lines[r]}: label {labels[l].Name} is '{text}', not a number");
                }
                y[l][r] = (float)value;
            }
        }

        return new TrainingSet(directory, [.. numeric.Select(f => definitions[f])], skipped, labels, customers, cutoffs, x, y, unobserved);
    }

    private static (List<TrainingSetFeature> Definitions, List<TrainingSetLabel> Labels) ReadManifest(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            if (!root.TryGetProperty("definitions", out var defs) || defs.ValueKind != JsonValueKind.Array)
            {
                throw new PipelineException($"{path}: no 'definitions' array");
            }

            if (!root.TryGetProperty("labels", out var labs) || labs.ValueKind != JsonValueKind.Array || labs.GetArrayLength() == 0)
            {
                throw new PipelineException($"{path}: no 'labels' array (or it is empty)");
            }

            var definitions = defs.EnumerateArray().Select((d, i) => new TrainingSetFeature(
                Text(d, "id", path, $"definitions[{i}]"),
                Text(d, "name", path, $"definitions[{i}]"),
                d.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : throw new PipelineException($"{path}: definitions[{i}] has no numeric 'version'"))).ToList();
            var labels = labs.EnumerateArray().Select((l, i) => new TrainingSetLabel(
                Text(l, "name", path, $"labels[{i}]"),
                l.TryGetProperty("kind", out var k) ? k.GetString() ?? "" : "",
                l.TryGetProperty("horizon", out var h) ? h.GetString() ?? "" : "")).ToList();
            return (definitions, labels);
        }
        catch (JsonException ex)
        {
            throw new PipelineException($"{path} is not valid JSON: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new PipelineException($"{path}: unexpected JSON value types: {ex.Message}", ex);
        }
    }

    private static string Text(JsonElement e, string name, string path, string where) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
            ? s
            : throw new PipelineException($"{path}: {where} has no '{name}'");

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static double Number(string text) => TryNumber(text, out var v) ? v : 0;
}
