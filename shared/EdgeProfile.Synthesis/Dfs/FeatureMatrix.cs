namespace EdgeProfile.Synthesis.Dfs;

/// <summary>Feature values: one row per (customer, cutoff), one column per feature; NaN is missing.</summary>
public sealed class FeatureMatrix
{
    private readonly Dictionary<string, int> byName;

    /// <summary>Creates a matrix; <paramref name="columns"/> holds one array of <paramref name="rows"/>.Count values per feature.</summary>
    public FeatureMatrix(IReadOnlyList<CutoffRow> rows, IReadOnlyList<SynthesizedFeature> features, double[][] columns)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Length != features.Count || columns.Any(c => c.Length != rows.Count))
        {
            throw new ArgumentException("one column of one value per row is needed for each feature", nameof(columns));
        }

        Rows = rows;
        Features = features;
        Columns = columns;
        byName = new Dictionary<string, int>(features.Count, StringComparer.Ordinal);
        for (var i = 0; i < features.Count; i++)
        {
            byName.Add(features[i].Name, i);
        }
    }

    /// <summary>The rows.</summary>
    public IReadOnlyList<CutoffRow> Rows { get; }

    /// <summary>The features, in column order.</summary>
    public IReadOnlyList<SynthesizedFeature> Features { get; }

    /// <summary>Values by feature, then row.</summary>
    public double[][] Columns { get; }

    /// <summary>The column of the feature named <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming it otherwise.</summary>
    public double[] Column(string name) =>
        byName.TryGetValue(name ?? throw new ArgumentNullException(nameof(name)), out var i) ? Columns[i]
            : throw new KeyNotFoundException($"no feature named '{name}'");

    /// <summary>Whether a feature of that name is in the matrix.</summary>
    public bool Contains(string name) => byName.ContainsKey(name ?? throw new ArgumentNullException(nameof(name)));

    /// <summary>The row of customer index <paramref name="customer"/> (its first, when it has several cutoffs), or -1.</summary>
    public int RowOf(int customer)
    {
        for (var i = 0; i < Rows.Count; i++)
        {
            if (Rows[i].Customer == customer)
            {
                return i;
            }
        }

        return -1;
    }
}
