using static TorchSharp.torch;

namespace EdgeProfile.Training.Tests;

[Collection(TorchCollection.Name)]
public sealed class DropoutTests
{
    [Fact]
    public void Dropout_perturbs_training_passes_only_and_leaves_the_exported_layers_unchanged()
    {
        manual_seed(3);
        using var module = new MmoeModule(SyntheticData.Spec(), dropout: 0.5);
        using var x = randn(64, SyntheticData.Spec().Inputs);

        module.train();
        using var a = module.forward(x)[0];
        using var b = module.forward(x)[0];
        Assert.False(a.allclose(b), "two training passes with dropout 0.5 gave the same output");

        module.eval();
        using var c = module.forward(x)[0];
        using var d = module.forward(x)[0];
        Assert.True(c.allclose(d), "evaluation passes differ: dropout must be off in eval()");

        // Dropout has no weights: the parameters (what the exporter reads) are those of a module without it.
        using var plain = new MmoeModule(SyntheticData.Spec());
        Assert.Equal(plain.parameters().Select(p => p.shape), module.parameters().Select(p => p.shape));
    }

    [Fact]
    public void Dropout_outside_zero_to_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MmoeModule(SyntheticData.Spec(), dropout: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { Dropout = -0.1 }.Validate());
    }
}
