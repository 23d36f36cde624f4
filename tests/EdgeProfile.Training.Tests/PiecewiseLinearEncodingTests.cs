using EdgeProfile.Training.Census;

namespace EdgeProfile.Training.Tests;

public sealed class PiecewiseLinearEncodingTests
{
    private static readonly float[][] Rows =
    [
        [0f, 5f, 1f], [0f, 6f, 2f], [0f, 7f, 3f], [0f, 8f, 4f], [0f, 9f, 5f],
        [0f, 5f, 6f], [0f, 6f, 7f], [100f, 7f, 8f], [200f, 8f, 9f],
    ];

    [Fact]
    public void Edges_are_quantiles_of_the_fitted_rows_without_duplicates()
    {
        var encoding = PiecewiseLinearEncoding.Fit(Rows, [0, 2], bins: 4);

        Assert.Equal([0, 2], encoding.Columns);
        // column 0 is mostly 0: the quantile edges collapse to 0 and the largest value
        Assert.Equal([0d, 200d], encoding.Edges[0]);
        Assert.Equal([1d, 3d, 5d, 7d, 9d], encoding.Edges[1]);
        Assert.Equal(1 + 4, encoding.Components);
    }

    [Fact]
    public void Components_are_one_below_the_value_zero_above_and_the_fraction_in_its_bin()
    {
        var encoding = PiecewiseLinearEncoding.Fit(Rows, [2], bins: 4);

        var encoded = encoding.Transform([[0f, 0f, 4f], [0f, 0f, 9f], [0f, 0f, 1f]]);

        // edges 1, 3, 5, 7, 9: 4 lies half-way through the second bin
        Assert.Equal([0f, 0f, 4f, 1f, 0.5f, 0f, 0f], encoded[0]);
        Assert.Equal([0f, 0f, 9f, 1f, 1f, 1f, 1f], encoded[1]);
        Assert.Equal([0f, 0f, 1f, 0f, 0f, 0f, 0f], encoded[2]);
    }

    [Fact]
    public void Values_outside_the_fitted_range_stay_ordered_in_the_first_and_last_components()
    {
        var encoding = PiecewiseLinearEncoding.Fit(Rows, [2], bins: 4);

        var encoded = encoding.Transform([[0f, 0f, -1f], [0f, 0f, 11f]]);

        Assert.Equal([-1f, 0f, 0f, 0f], encoded[0][3..]);
        Assert.Equal([1f, 1f, 1f, 2f], encoded[1][3..]);
    }

    [Fact]
    public void Encoding_depends_only_on_the_rows_it_was_fitted_on_and_is_deterministic()
    {
        var fitted = PiecewiseLinearEncoding.Fit(Rows, [0, 1, 2], bins: 3);
        var again = PiecewiseLinearEncoding.Fit([.. Rows.Reverse()], [0, 1, 2], bins: 3);
        float[][] other = [[1e6f, -5f, 42f]];

        Assert.Equal(fitted.Edges, again.Edges);
        // transforming rows the encoding was not fitted on (validation, test) changes nothing in it
        var before = fitted.Edges.Select(e => e.ToArray()).ToArray();
        _ = fitted.Transform(other);
        Assert.Equal(before, fitted.Edges);
        Assert.Equal(fitted.Transform(Rows), again.Transform(Rows));
    }

    [Fact]
    public void Feature_names_follow_the_appended_components()
    {
        var encoding = PiecewiseLinearEncoding.Fit(Rows, [0, 2], bins: 2);

        var names = encoding.FeatureNames(["gain", "x", "age"]);

        Assert.Equal(["gain", "x", "age", "gain#0", "age#0", "age#1"], names);
        Assert.Equal(names.Count, encoding.Transform(Rows)[0].Length);
    }

    [Fact]
    public void A_constant_column_gets_no_components()
    {
        var encoding = PiecewiseLinearEncoding.Fit([[3f], [3f], [3f]], [0], bins: 8);

        Assert.Empty(encoding.Edges[0]);
        Assert.Equal([[3f]], encoding.Transform([[3f]]));
    }

    [Fact]
    public void Target_aware_edges_sit_where_the_label_changes()
    {
        // x = 0..9, ten rows each; task 0 is x >= 7, task 1 is x >= 2
        float[][] rows = [.. Enumerable.Range(0, 100).Select(i => new[] { (float)(i % 10) })];
        float[] task0 = [.. rows.Select(r => r[0] >= 7 ? 1f : 0f)];
        float[] task1 = [.. rows.Select(r => r[0] >= 2 ? 1f : 0f)];

        var one = PiecewiseLinearEncoding.FitTargetAware(rows, [0], [task0], bins: 4, minLeaf: 1);
        var both = PiecewiseLinearEncoding.FitTargetAware(rows, [0], [task0, task1], bins: 4, minLeaf: 1);

        // pure leaves after one split: no further edges for a single task; the union over tasks for two
        Assert.Equal([0d, 6.5d, 9d], one.Edges[0]);
        Assert.Equal([0d, 1.5d, 6.5d, 9d], both.Edges[0]);
    }

    [Fact]
    public void Target_aware_bins_respect_the_bin_count_and_the_smallest_bin()
    {
        float[][] rows = [.. Enumerable.Range(0, 100).Select(i => new[] { (float)i })];
        float[] alternating = [.. rows.Select(r => (int)r[0] / 5 % 2 == 0 ? 1f : 0f)];

        var few = PiecewiseLinearEncoding.FitTargetAware(rows, [0], [alternating], bins: 3, minLeaf: 1);
        var coarse = PiecewiseLinearEncoding.FitTargetAware(rows, [0], [alternating], bins: 64, minLeaf: 30);

        Assert.Equal(3, few.Components);
        Assert.All(coarse.Edges[0].Zip(coarse.Edges[0].Skip(1)), p => Assert.True(p.Second - p.First >= 29, $"bin {p.First}..{p.Second}"));
        Assert.Equal(few.Edges, PiecewiseLinearEncoding.FitTargetAware([.. rows.Reverse()], [0], [[.. alternating.Reverse()]], bins: 3, minLeaf: 1).Edges);
    }
}
