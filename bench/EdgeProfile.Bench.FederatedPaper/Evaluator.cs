using static TorchSharp.torch;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>Test accuracy of a module, optionally on inputs with Gaussian noise of a given standard deviation.</summary>
internal static class Evaluator
{
    private const int BatchSize = 1000;

    /// <summary>Number of correct predictions on <paramref name="images"/>.</summary>
    public static long Correct(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, float noiseStd = 0, Generator? noise = null)
    {
        using var noGrad = no_grad();
        model.eval();
        var n = images.shape[0];
        long correct = 0;
        for (long start = 0; start < n; start += BatchSize)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(BatchSize, n - start);
            var x = images.narrow(0, start, count);
            if (noiseStd > 0)
            {
                x = x + (randn(x.shape, generator: noise) * noiseStd);
            }

            var predicted = model.call(x).argmax(1);
            correct += predicted.eq(labels.narrow(0, start, count)).sum().item<long>();
        }

        model.train();
        return correct;
    }

    public static double Accuracy(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, float noiseStd = 0) =>
        Correct(model, images, labels, noiseStd) / (double)images.shape[0];
}
