namespace EdgeProfile.Training.Tests;

public sealed class MetricsTests
{
    [Fact]
    public void Auc_is_one_for_perfect_ranking_and_zero_for_reversed()
    {
        Assert.Equal(1.0, Metrics.RocAuc([0.1f, 0.2f, 0.8f, 0.9f], [0, 0, 1, 1]));
        Assert.Equal(0.0, Metrics.RocAuc([0.9f, 0.8f, 0.2f, 0.1f], [0, 0, 1, 1]));
    }

    [Fact]
    public void Auc_counts_ties_as_one_half()
    {
        Assert.Equal(0.5, Metrics.RocAuc([0.5f, 0.5f, 0.5f, 0.5f], [0, 1, 0, 1]));
        // pairs (pos, neg): (0.5 vs 0.5) tie = 0.5, (0.5 vs 0.1) = 1, (0.9 vs 0.5) = 1, (0.9 vs 0.1) = 1 → 3.5 / 4
        Assert.Equal(0.875, Metrics.RocAuc([0.5f, 0.1f, 0.5f, 0.9f], [0, 0, 1, 1]), 12);
    }

    [Fact]
    public void Auc_skips_masked_rows_and_is_nan_without_both_classes()
    {
        Assert.Equal(1.0, Metrics.RocAuc([0.1f, 0.9f, 0.8f], [0, 0, 1], [true, false, true]));
        Assert.True(double.IsNaN(Metrics.RocAuc([0.1f, 0.2f], [1, 1])));
    }

    [Fact]
    public void Rmse_matches_hand_computation()
    {
        Assert.Equal(Math.Sqrt((1 + 4) / 2.0), Metrics.Rmse([1f, 2f, 3f], [0f, 4f, 100f], [true, true, false]), 12);
    }

    [Fact]
    public void Standardizer_uses_population_std_with_a_floor()
    {
        var s = Standardizer.Fit([[1f, 5f], [3f, 5f]]);
        Assert.Equal([2f, 5f], s.Mean);
        Assert.Equal([1f, Standardizer.StdFloor], s.Std);
        Assert.Equal([-1f, 0f, 1f, 0f], s.TransformFlat([[1f, 5f], [3f, 5f]]));
    }
}
