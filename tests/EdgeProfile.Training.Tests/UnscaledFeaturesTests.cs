namespace EdgeProfile.Training.Tests;

[Collection(TorchCollection.Name)]
public sealed class UnscaledFeaturesTests
{
    private static readonly TrainingOptions Short = new() { Epochs = 2, BatchSize = 128, Seed = 7 };

    [Fact]
    public void Unscaled_features_keep_their_own_scale_and_the_others_are_standardised()
    {
        var (train, validation, _) = SyntheticData.Split(SyntheticData.Generate(800, seed: 4), 0.7, 0.3);

        using var result = MmoeTrainer.Train(SyntheticData.Spec(), train, validation, Short with { UnscaledFeatures = [1, 3] });

        var standardizer = result.Model.Standardizer;
        var fitted = Standardizer.Fit(train.Features);
        Assert.Equal([0f, 0f], new[] { standardizer.Mean[1], standardizer.Mean[3] });
        Assert.Equal([1f, 1f], new[] { standardizer.Std[1], standardizer.Std[3] });
        Assert.Equal(fitted.Mean[0], standardizer.Mean[0]);
        Assert.Equal(fitted.Std[2], standardizer.Std[2]);
    }

    [Fact]
    public void Without_unscaled_features_every_feature_is_standardised_as_before()
    {
        var (train, validation, _) = SyntheticData.Split(SyntheticData.Generate(800, seed: 4), 0.7, 0.3);

        using var result = MmoeTrainer.Train(SyntheticData.Spec(), train, validation, Short);

        var fitted = Standardizer.Fit(train.Features);
        Assert.Equal(fitted.Mean, result.Model.Standardizer.Mean);
        Assert.Equal(fitted.Std, result.Model.Standardizer.Std);
    }

    [Fact]
    public void An_unscaled_feature_index_outside_the_inputs_is_rejected()
    {
        var (train, validation, _) = SyntheticData.Split(SyntheticData.Generate(200, seed: 4), 0.7, 0.3);

        Assert.Throws<ArgumentException>(() => MmoeTrainer.Train(SyntheticData.Spec(), train, validation, Short with { UnscaledFeatures = [train.Width] }));
    }
}
