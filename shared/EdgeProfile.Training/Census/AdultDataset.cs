using System.Globalization;

namespace EdgeProfile.Training.Census;

/// <summary>
/// UCI Adult (census income, 1994) as two tasks, after the census set-up of the MMoE paper (Ma et al., KDD 2018):
/// task 0 <c>income</c> = income &gt; 50K, task 1 <c>never_married</c> = marital status is Never-married. Features: the
/// numeric columns (capital gain and loss as log1p; left unstandardised because the trained model's own
/// standardisation, fitted on the training split, does that) and one-hot categorical columns with the categories of the
/// training file (a category seen only in the test file maps to all zeros; "?" is a category of its own). Marital
/// status is the second task's label and so is not a feature.
/// </summary>
public sealed class AdultDataset
{
    /// <summary>Task names, in label order.</summary>
    public static readonly IReadOnlyList<string> Tasks = ["income", "never_married"];

    private static readonly string[] Numeric = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"];
    private static readonly string[] Log1p = ["capital-gain", "capital-loss"];
    private static readonly string[] Categorical = ["workclass", "education", "occupation", "relationship", "race", "sex", "native-country"];

    private AdultDataset(IReadOnlyList<string> features, TrainingData train, TrainingData test)
    {
        Features = features;
        Train = train;
        Test = test;
    }

    /// <summary>Feature names: the numeric columns, then <c>column=category</c> for each one-hot column.</summary>
    public IReadOnlyList<string> Features { get; }

    /// <summary>Indices of the numeric features (the first ones); every other feature is a 0/1 one-hot column.</summary>
    public static IReadOnlyList<int> NumericFeatures { get; } = [.. Enumerable.Range(0, Numeric.Length)];

    /// <summary>Rows of <c>adult.data</c> (32,561).</summary>
    public TrainingData Train { get; }

    /// <summary>Rows of <c>adult.test</c> (16,281).</summary>
    public TrainingData Test { get; }

    /// <summary>Reads <c>adult.data</c> and <c>adult.test</c> (comma-separated, with a header line) from <paramref name="directory"/>.</summary>
    public static AdultDataset Load(string directory)
    {
        var train = Read(Path.Combine(directory, "adult.data"));
        var test = Read(Path.Combine(directory, "adult.test"));
        var header = train.Header;
        var numeric = Numeric.Select(c => Column(header, c)).ToArray();
        var categorical = Categorical.Select(c => Column(header, c)).ToArray();
        var categories = categorical
            .Select(c => train.Rows.Select(r => r[c]).Distinct().Order(StringComparer.Ordinal).ToArray())
            .ToArray();
        var features = Numeric.Concat(Categorical.SelectMany((c, k) => categories[k].Select(v => $"{c}={v}"))).ToArray();
        var encoder = new Encoder(numeric, Numeric.Select(c => Log1p.Contains(c)).ToArray(), categorical, categories,
            Column(header, "classification"), Column(header, "marital-status"));
        return new AdultDataset(features, encoder.Encode(train.Rows, features.Length), encoder.Encode(test.Rows, features.Length));
    }

    private static int Column(string[] header, string name)
    {
        var index = Array.IndexOf(header, name);
        return index >= 0 ? index : throw new InvalidDataException($"adult: no column '{name}' in header");
    }

    private static (string[] Header, List<string[]> Rows) Read(string path)
    {
        string[]? header = null;
        var rows = new List<string[]>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line) || line.StartsWith('|'))
            {
                continue;
            }
            var fields = line.Split(',').Select(f => f.Trim()).ToArray();
            if (header is null)
            {
                header = fields;
                continue;
            }
            if (fields.Length != header.Length)
            {
                throw new InvalidDataException($"{path}: {fields.Length} fields, header has {header.Length}: {line}");
            }
            rows.Add(fields);
        }
        return (header ?? throw new InvalidDataException($"{path}: empty"), rows);
    }

    private sealed class Encoder(int[] numeric, bool[] log1p, int[] categorical, string[][] categories, int income, int marital)
    {
        public TrainingData Encode(List<string[]> rows, int width)
        {
            var features = new float[rows.Count][];
            var incomeLabels = new float[rows.Count][];
            var maritalLabels = new float[rows.Count][];
            var offsets = new int[categorical.Length];
            for (int k = 0, offset = numeric.Length; k < categorical.Length; offset += categories[k].Length, k++)
            {
                offsets[k] = offset;
            }
            for (var i = 0; i < rows.Count; i++)
            {
                var row = rows[i];
                var x = new float[width];
                for (var j = 0; j < numeric.Length; j++)
                {
                    var value = double.Parse(row[numeric[j]], CultureInfo.InvariantCulture);
                    x[j] = (float)(log1p[j] ? Math.Log(1 + value) : value);
                }
                for (var k = 0; k < categorical.Length; k++)
                {
                    var index = Array.BinarySearch(categories[k], row[categorical[k]], StringComparer.Ordinal);
                    if (index >= 0)
                    {
                        x[offsets[k] + index] = 1f;
                    }
                }
                features[i] = x;
                incomeLabels[i] = [row[income].TrimEnd('.') == ">50K" ? 1f : 0f];
                maritalLabels[i] = [row[marital] == "Never-married" ? 1f : 0f];
            }
            return new TrainingData(features, [incomeLabels, maritalLabels]);
        }
    }
}
