using EdgeProfile.Training.Census;

namespace EdgeProfile.Training.Tests;

public sealed class TreeLeafEncodingTests
{
    // Label = x0 > 0.5 AND x1 > 0.5, plus a column of noise: a conjunction, which no single column separates.
    private static (float[][] Rows, float[] Labels) Both(int n, int seed)
    {
        var random = new Random(seed);
        var rows = new float[n][];
        var labels = new float[n];
        for (var i = 0; i < n; i++)
        {
            rows[i] = [(float)random.NextDouble(), (float)random.NextDouble(), (float)random.NextDouble()];
            labels[i] = rows[i][0] > 0.5f && rows[i][1] > 0.5f ? 1f : 0f;
        }

        return (rows, labels);
    }

    [Fact]
    public void Leaf_indicators_make_an_interaction_linear()
    {
        var (train, y) = Both(2_000, 1);
        var (test, yTest) = Both(1_000, 2);

        var encoding = TreeLeafEncoding.Fit(train, [y], trees: 5, depth: 2);
        var encoded = encoding.Transform(test);

        Assert.Equal(5 * 4, encoding.Components);
        Assert.All(encoded, row => Assert.Equal(3 + 20, row.Length));
        // Exactly one leaf per tree is set.
        Assert.All(encoded, row => Assert.Equal(5f, row[3..].Sum()));
        // The leaf indicators alone, each weighted by its leaf's label rate on the training rows, rank the held-out rows
        // nearly perfectly: a depth-2 leaf can be the quadrant itself.
        var encodedTrain = encoding.Transform(train);
        var rate = new double[encoding.Components];
        var count = new double[encoding.Components];
        for (var i = 0; i < train.Length; i++)
        {
            for (var c = 0; c < encoding.Components; c++)
            {
                if (encodedTrain[i][3 + c] > 0)
                {
                    rate[c] += y[i];
                    count[c]++;
                }
            }
        }

        var scores = encoded.Select(row => (float)Enumerable.Range(0, encoding.Components).Where(c => row[3 + c] > 0).Sum(c => rate[c] / Math.Max(count[c], 1))).ToArray();
        Assert.True(Metrics.RocAuc(scores, yTest) > 0.97, $"AUC {Metrics.RocAuc(scores, yTest)}");
        // No single input column does (about 0.83 each): the conjunction is what the leaves add.
        Assert.InRange(Metrics.RocAuc([.. test.Select(r => r[0])], yTest), 0.75, 0.9);
    }

    [Fact]
    public void Every_row_gets_one_leaf_per_tree_of_every_task_and_fitting_is_deterministic()
    {
        var (rows, y) = Both(500, 3);
        var a = TreeLeafEncoding.Fit(rows, [y, [.. y.Select(v => 1 - v)]], trees: 3, depth: 3);
        var b = TreeLeafEncoding.Fit(rows, [y, [.. y.Select(v => 1 - v)]], trees: 3, depth: 3);

        Assert.Equal(6, a.Trees);
        foreach (var row in rows)
        {
            for (var t = 0; t < a.Trees; t++)
            {
                Assert.InRange(a.Leaf(t, row), 0, 7);
                Assert.Equal(a.Leaf(t, row), b.Leaf(t, row));
            }
        }

        Assert.Equal(a.Transform(rows), b.Transform(rows));
        Assert.Equal(["x", "leaf:0:0", "leaf:0:1"], a.FeatureNames(["x"]).Take(3));
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        var (rows, y) = Both(10, 4);
        Assert.Throws<ArgumentException>(() => TreeLeafEncoding.Fit([], [[]], 1, 2));
        Assert.Throws<ArgumentException>(() => TreeLeafEncoding.Fit(rows, [y[..5]], 1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => TreeLeafEncoding.Fit(rows, [y], 0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => TreeLeafEncoding.Fit(rows, [y], 1, 0));
    }
}
