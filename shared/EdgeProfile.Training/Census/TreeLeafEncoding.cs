namespace EdgeProfile.Training.Census;

/// <summary>
/// Boosted-tree leaf encoding (He et al., "Practical Lessons from Predicting Clicks on Ads at Facebook", ADKDD 2014):
/// for each task, gradient-boosted regression trees on the logistic loss of its 0/1 labels, fitted on the training rows
/// only; a row then gets one indicator per leaf (1 for the leaf it falls into in each tree). A network's first layer
/// cannot form the conjunctions trees find ("married and capital gain above 7,000 and more than 12 years of
/// education") from one row of inputs without many units; a leaf indicator is such a conjunction, ready made.
/// Each tree is complete to <see cref="Depth"/> (a node with no useful split sends every row left), so a row's leaf is
/// found by <see cref="Depth"/> comparisons. The splits come from histograms of each column's values (at most
/// <see cref="MaxBins"/> candidate thresholds, midpoints between observed values).
/// </summary>
public sealed class TreeLeafEncoding
{
    /// <summary>Most candidate thresholds per column.</summary>
    public const int MaxBins = 64;

    // Per tree (tasks × trees, task-major): internal nodes in breadth-first order (node k has children 2k+1, 2k+2);
    // a row goes left when its value is below the threshold. Feature -1: everything goes left.
    private readonly int[][] _features;
    private readonly float[][] _thresholds;

    private TreeLeafEncoding(int depth, int[][] features, float[][] thresholds)
    {
        Depth = depth;
        _features = features;
        _thresholds = thresholds;
    }

    /// <summary>Depth of every tree.</summary>
    public int Depth { get; }

    /// <summary>Trees over all tasks.</summary>
    public int Trees => _features.Length;

    /// <summary>Indicator columns appended to every row: trees × 2^depth.</summary>
    public int Components => Trees << Depth;

    /// <summary>
    /// Fits <paramref name="trees"/> trees of <paramref name="depth"/> per task of <paramref name="labels"/> (0/1 per row
    /// of <paramref name="rows"/>): Newton boosting with shrinkage <paramref name="learningRate"/>, L2 penalty 1 on leaf
    /// values, splits only with at least <paramref name="minChildWeight"/> of hessian on each side. Uses the labels: fit
    /// on training rows only, never on the rows early stopping or a report is measured on.
    /// </summary>
    public static TreeLeafEncoding Fit(float[][] rows, IReadOnlyList<float[]> labels, int trees, int depth, double learningRate = 0.3, double minChildWeight = 5)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(trees, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(depth, 10);
        if (rows.Length == 0)
        {
            throw new ArgumentException("cannot fit an encoding on no rows", nameof(rows));
        }

        if (labels.Count == 0 || labels.Any(l => l.Length != rows.Length))
        {
            throw new ArgumentException($"every task needs {rows.Length} labels", nameof(labels));
        }

        var n = rows.Length;
        var columns = rows[0].Length;
        var (bins, cuts) = Bin(rows, columns);
        var internalNodes = (1 << depth) - 1;
        var features = new List<int[]>();
        var thresholds = new List<float[]>();
        var node = new int[n];
        var g = new double[n];
        var h = new double[n];
        foreach (var y in labels)
        {
            var score = new double[n];
            for (var t = 0; t < trees; t++)
            {
                for (var i = 0; i < n; i++)
                {
                    var p = 1 / (1 + Math.Exp(-score[i]));
                    g[i] = p - y[i];
                    h[i] = Math.Max(p * (1 - p), 1e-12);
                    node[i] = 0;
                }

                var treeFeatures = new int[internalNodes];
                var treeThresholds = new float[internalNodes];
                for (var level = 0; level < depth; level++)
                {
                    var first = (1 << level) - 1;
                    var count = 1 << level;
                    var best = new (double Gain, int Feature, int Bin)[count];
                    for (var k = 0; k < count; k++)
                    {
                        best[k] = (0, -1, -1);
                    }

                    var gs = new double[count, MaxBins + 1];
                    var hs = new double[count, MaxBins + 1];
                    for (var f = 0; f < columns; f++)
                    {
                        var nb = cuts[f].Length + 1;
                        if (nb < 2)
                        {
                            continue;
                        }

                        Array.Clear(gs);
                        Array.Clear(hs);
                        var column = bins[f];
                        for (var i = 0; i < n; i++)
                        {
                            var k = node[i] - first;
                            gs[k, column[i]] += g[i];
                            hs[k, column[i]] += h[i];
                        }

                        for (var k = 0; k < count; k++)
                        {
                            double gt = 0, ht = 0;
                            for (var b = 0; b < nb; b++)
                            {
                                gt += gs[k, b];
                                ht += hs[k, b];
                            }

                            double gl = 0, hl = 0;
                            var parent = gt * gt / (ht + 1);
                            for (var b = 0; b < nb - 1; b++)
                            {
                                gl += gs[k, b];
                                hl += hs[k, b];
                                var hr = ht - hl;
                                if (hl < minChildWeight || hr < minChildWeight)
                                {
                                    continue;
                                }

                                var gr = gt - gl;
                                var gain = (gl * gl / (hl + 1)) + (gr * gr / (hr + 1)) - parent;
                                if (gain > best[k].Gain + 1e-9)
                                {
                                    best[k] = (gain, f, b);
                                }
                            }
                        }
                    }

                    for (var k = 0; k < count; k++)
                    {
                        // Bin b holds values below cuts[b]: a split after bin b sends values below cuts[b] left.
                        treeFeatures[first + k] = best[k].Feature;
                        treeThresholds[first + k] = best[k].Feature < 0 ? float.PositiveInfinity : cuts[best[k].Feature][best[k].Bin];
                    }

                    for (var i = 0; i < n; i++)
                    {
                        node[i] = Child(node[i], treeFeatures, treeThresholds, rows[i]);
                    }
                }

                // Leaf values (Newton step, L2 penalty 1, shrunk), then the scores move.
                var leafG = new double[1 << depth];
                var leafH = new double[1 << depth];
                for (var i = 0; i < n; i++)
                {
                    leafG[node[i] - internalNodes] += g[i];
                    leafH[node[i] - internalNodes] += h[i];
                }

                for (var i = 0; i < n; i++)
                {
                    var leaf = node[i] - internalNodes;
                    score[i] -= learningRate * leafG[leaf] / (leafH[leaf] + 1);
                }

                features.Add(treeFeatures);
                thresholds.Add(treeThresholds);
            }
        }

        return new TreeLeafEncoding(depth, [.. features], [.. thresholds]);
    }

    /// <summary>The leaf <paramref name="row"/> falls into in tree <paramref name="tree"/> (0 … 2^depth − 1).</summary>
    public int Leaf(int tree, float[] row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var features = _features[tree];
        var thresholds = _thresholds[tree];
        var k = 0;
        for (var level = 0; level < Depth; level++)
        {
            k = Child(k, features, thresholds, row);
        }

        return k - features.Length;
    }

    // The child of internal node k that row goes to: left (2k+1) below the threshold or when the node has no split.
    private static int Child(int k, int[] features, float[] thresholds, float[] row)
    {
        var f = features[k];
        return (2 * k) + (f < 0 || row[f] < thresholds[k] ? 1 : 2);
    }

    /// <summary>Each row with the leaf indicators appended (tree by tree, leaf by leaf).</summary>
    public float[][] Transform(float[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var leaves = 1 << Depth;
        var result = new float[rows.Length][];
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            var encoded = new float[row.Length + Components];
            row.CopyTo(encoded, 0);
            for (var t = 0; t < Trees; t++)
            {
                encoded[row.Length + (t * leaves) + Leaf(t, row)] = 1;
            }

            result[i] = encoded;
        }

        return result;
    }

    /// <summary>The names of <paramref name="names"/> followed by one per indicator: <c>leaf:TREE:LEAF</c>.</summary>
    public IReadOnlyList<string> FeatureNames(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var leaves = 1 << Depth;
        return [.. names, .. Enumerable.Range(0, Components).Select(c => $"leaf:{c / leaves}:{c % leaves}")];
    }

    // Each column's candidate thresholds (midpoints between adjacent distinct values, at most MaxBins of them, spread
    // by row count) and every row's bin: the number of thresholds at or below its value.
    private static (byte[][] Bins, float[][] Cuts) Bin(float[][] rows, int columns)
    {
        var n = rows.Length;
        var bins = new byte[columns][];
        var cuts = new float[columns][];
        var values = new float[n];
        for (var f = 0; f < columns; f++)
        {
            for (var i = 0; i < n; i++)
            {
                values[i] = rows[i][f];
            }

            Array.Sort(values);
            var distinct = new List<(float Value, int Count)>();
            foreach (var v in values)
            {
                if (distinct.Count > 0 && distinct[^1].Value == v)
                {
                    distinct[^1] = (v, distinct[^1].Count + 1);
                }
                else
                {
                    distinct.Add((v, 1));
                }
            }

            var list = new List<float>();
            if (distinct.Count <= MaxBins)
            {
                for (var d = 1; d < distinct.Count; d++)
                {
                    list.Add((distinct[d - 1].Value + distinct[d].Value) / 2);
                }
            }
            else
            {
                // Thresholds where the running row count passes each k / MaxBins of the rows.
                var seen = 0;
                var next = 1;
                for (var d = 0; d + 1 < distinct.Count && list.Count < MaxBins - 1; d++)
                {
                    seen += distinct[d].Count;
                    if (seen >= (long)next * n / MaxBins)
                    {
                        list.Add((distinct[d].Value + distinct[d + 1].Value) / 2);
                        while ((long)next * n / MaxBins <= seen)
                        {
                            next++;
                        }
                    }
                }
            }

            cuts[f] = [.. list];
            var column = new byte[n];
            for (var i = 0; i < n; i++)
            {
                var v = rows[i][f];
                var b = 0;
                while (b < list.Count && v >= list[b])
                {
                    b++;
                }

                column[i] = (byte)b;
            }

            bins[f] = column;
        }

        return (bins, cuts);
    }
}
