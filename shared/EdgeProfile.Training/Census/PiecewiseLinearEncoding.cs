namespace EdgeProfile.Training.Census;

/// <summary>
/// Piecewise-linear encoding of numeric columns (Gorishniy, Rubachev and Babenko, "On Embeddings for Numerical Features
/// in Tabular Deep Learning", NeurIPS 2022) with bin edges at quantiles of the training rows. A value <c>x</c> of a
/// column with edges <c>b0 &lt; b1 &lt; … &lt; bT</c> becomes T components: component <c>t</c> is 1 when
/// <c>x ≥ b(t+1)</c>, 0 when <c>x &lt; bt</c>, and <c>(x − bt) / (b(t+1) − bt)</c> in between (the first component also
/// runs below <c>b0</c> and the last above <c>bT</c>, so out-of-range values stay ordered). Networks get the threshold
/// shapes trees find by themselves (capital gain above ~7,000, age bands) without having to learn them from a single
/// standardised input. Fitted on training rows only (no labels); the edges are all that a served model needs besides
/// its own weights.
/// </summary>
public sealed record PiecewiseLinearEncoding
{
    private PiecewiseLinearEncoding(IReadOnlyList<int> columns, IReadOnlyList<double[]> edges)
    {
        Columns = columns;
        Edges = edges;
    }

    /// <summary>Indices of the encoded input columns.</summary>
    public IReadOnlyList<int> Columns { get; }

    /// <summary>Bin edges per encoded column, strictly increasing, at least two each (one bin) unless the column is constant.</summary>
    public IReadOnlyList<double[]> Edges { get; }

    /// <summary>Number of components appended to every row.</summary>
    public int Components => Edges.Sum(e => Math.Max(e.Length - 1, 0));

    /// <summary>
    /// Edges at the <c>k / bins</c> quantiles (k = 0 … bins) of each column of <paramref name="columns"/> over
    /// <paramref name="rows"/>, duplicates removed (a column that is mostly one value gets fewer bins).
    /// </summary>
    public static PiecewiseLinearEncoding Fit(float[][] rows, IReadOnlyList<int> columns, int bins)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (rows.Length == 0)
        {
            throw new ArgumentException("cannot fit an encoding on no rows", nameof(rows));
        }
        var edges = new double[columns.Count][];
        for (var c = 0; c < columns.Count; c++)
        {
            var values = rows.Select(r => (double)r[columns[c]]).Order().ToArray();
            var list = new List<double>();
            for (var k = 0; k <= bins; k++)
            {
                // Lower quantile (an observed value), so a bin edge sits exactly on a frequent value such as 0.
                var q = values[(int)Math.Round((double)k / bins * (values.Length - 1))];
                if (list.Count == 0 || q > list[^1])
                {
                    list.Add(q);
                }
            }
            edges[c] = list.Count >= 2 ? [.. list] : [];
        }
        return new PiecewiseLinearEncoding([.. columns], edges);
    }

    /// <summary>
    /// Target-aware edges (the paper's tree-based bins): for each column and each task's 0/1 labels in
    /// <paramref name="labels"/>, a one-feature decision tree grown best-first by Gini decrease to at most
    /// <paramref name="bins"/> leaves of at least <paramref name="minLeaf"/> rows; the edges are the column's minimum and
    /// maximum and every task's split points (midpoints between adjacent observed values), merged. Uses the training
    /// rows' labels, so fit it on training rows only, never on the rows early stopping or a report is measured on.
    /// </summary>
    public static PiecewiseLinearEncoding FitTargetAware(float[][] rows, IReadOnlyList<int> columns, IReadOnlyList<float[]> labels, int bins, int minLeaf)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minLeaf, 1);
        if (rows.Length == 0)
        {
            throw new ArgumentException("cannot fit an encoding on no rows", nameof(rows));
        }
        if (labels.Any(l => l.Length != rows.Length))
        {
            throw new ArgumentException($"every task needs {rows.Length} labels", nameof(labels));
        }
        var edges = new double[columns.Count][];
        for (var c = 0; c < columns.Count; c++)
        {
            var column = columns[c];
            // Distinct values in ascending order with their row count and positive count per task.
            var groups = Enumerable.Range(0, rows.Length)
                .GroupBy(i => (double)rows[i][column])
                .OrderBy(g => g.Key)
                .Select(g => (Value: g.Key, Count: g.Count(), Positives: labels.Select(l => g.Count(i => l[i] > 0.5f)).ToArray()))
                .ToArray();
            var points = new SortedSet<double> { groups[0].Value, groups[^1].Value };
            for (var t = 0; t < labels.Count; t++)
            {
                var count = new long[groups.Length + 1];
                var positives = new long[groups.Length + 1];
                for (var g = 0; g < groups.Length; g++)
                {
                    count[g + 1] = count[g] + groups[g].Count;
                    positives[g + 1] = positives[g] + groups[g].Positives[t];
                }
                foreach (var split in TreeSplits(count, positives, bins, minLeaf))
                {
                    points.Add((groups[split - 1].Value + groups[split].Value) / 2);
                }
            }
            edges[c] = points.Count >= 2 ? [.. points] : [];
        }
        return new PiecewiseLinearEncoding([.. columns], edges);
    }

    // Best-first growth of a one-feature tree over groups [0, n) given prefix sums of rows and positives: returns the
    // group indices s where a split puts groups [.., s) left and [s, ..) right.
    private static List<int> TreeSplits(long[] count, long[] positives, int leaves, int minLeaf)
    {
        var splits = new List<int>();
        var queue = new PriorityQueue<(int From, int To, int Split), double>();
        Push(0, count.Length - 1);
        while (splits.Count + 1 < leaves && queue.TryDequeue(out var leaf, out _))
        {
            splits.Add(leaf.Split);
            Push(leaf.From, leaf.Split);
            Push(leaf.Split, leaf.To);
        }
        splits.Sort();
        return splits;

        void Push(int from, int to)
        {
            var bestGain = 0.0;
            var best = -1;
            var n = count[to] - count[from];
            var p = positives[to] - positives[from];
            var parent = Impurity(n, p);
            for (var s = from + 1; s < to; s++)
            {
                var nl = count[s] - count[from];
                var nr = n - nl;
                if (nl < minLeaf || nr < minLeaf)
                {
                    continue;
                }
                var pl = positives[s] - positives[from];
                var gain = parent - Impurity(nl, pl) - Impurity(nr, p - pl);
                if (gain > bestGain + 1e-12)
                {
                    bestGain = gain;
                    best = s;
                }
            }
            if (best > 0)
            {
                queue.Enqueue((from, to, best), -bestGain);
            }
        }

        // Gini impurity times the number of rows, so gains add up over the whole column.
        static double Impurity(long n, long positive) => n == 0 ? 0 : 2.0 * positive * (n - positive) / n;
    }

    /// <summary>Each row with its encoding components appended (the input columns are kept as they are).</summary>
    public float[][] Transform(float[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var components = Components;
        var result = new float[rows.Length][];
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            var x = new float[row.Length + components];
            row.CopyTo(x, 0);
            var offset = row.Length;
            for (var c = 0; c < Columns.Count; c++)
            {
                var e = Edges[c];
                var value = row[Columns[c]];
                for (var t = 0; t + 1 < e.Length; t++, offset++)
                {
                    var z = (value - e[t]) / (e[t + 1] - e[t]);
                    var first = t == 0;
                    var last = t + 2 == e.Length;
                    x[offset] = (float)(first && last ? z : first ? Math.Min(z, 1) : last ? Math.Max(z, 0) : Math.Clamp(z, 0, 1));
                }
            }
            result[i] = x;
        }
        return result;
    }

    /// <summary><paramref name="names"/> followed by <c>name#t</c> for each appended component.</summary>
    public IReadOnlyList<string> FeatureNames(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return [.. names, .. Columns.SelectMany((column, c) => Enumerable.Range(0, Math.Max(Edges[c].Length - 1, 0)).Select(t => $"{names[column]}#{t}"))];
    }
}
