using EdgeProfile.Federated;
using EdgeProfile.Federated.Aggregation;

namespace EdgeProfile.Federated.Tests;

public class FedAvgTests
{
    [Fact]
    public void Weighted_mean_by_samples_then_sgd_step()
    {
        var updates = new[]
        {
            new ClientUpdate("a", [1f, 0f, -2f], 1),
            new ClientUpdate("b", [4f, 3f, 1f], 2),
        };
        var combined = new FedAvgCombiner().Combine(updates);
        Assert.Equal([3f, 2f, 0f], combined.Delta);
        Assert.Equal(["a", "b"], combined.Selected);
        var next = new ServerSgd().Apply([1f, 1f, 1f], combined.Delta);
        Assert.Equal([4f, 3f, 1f], next);
    }

    [Fact]
    public void Update_validation_names_the_client()
    {
        var e = Assert.Throws<ArgumentException>(() => new ClientUpdate("x", [float.NaN], 3).Validate(1));
        Assert.Contains("client x", e.Message);
        Assert.Throws<ArgumentException>(() => new ClientUpdate("y", [1f, 2f], 3).Validate(1));
        Assert.Throws<ArgumentException>(() => new ClientUpdate("z", [1f], 0).Validate(1));
    }
}
