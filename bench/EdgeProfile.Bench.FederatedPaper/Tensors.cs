using static TorchSharp.torch;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>The data set as torch tensors, images [N, 1, 28, 28] in [0, 1] and int64 labels, created once.</summary>
internal sealed class Tensors : IDisposable
{
    public Tensors(FashionMnist data)
    {
        TrainImages = tensor(data.TrainImages, [data.TrainCount, 1, FashionMnist.Side, FashionMnist.Side]);
        TrainLabels = tensor(data.TrainLabels);
        TestImages = tensor(data.TestImages, [data.TestCount, 1, FashionMnist.Side, FashionMnist.Side]);
        TestLabels = tensor(data.TestLabels);
        TrainLabelArray = data.TrainLabels;
    }

    public Tensor TrainImages { get; }

    public Tensor TrainLabels { get; }

    public Tensor TestImages { get; }

    public Tensor TestLabels { get; }

    public long[] TrainLabelArray { get; }

    public int TrainCount => TrainLabelArray.Length;

    public void Dispose()
    {
        TrainImages.Dispose();
        TrainLabels.Dispose();
        TestImages.Dispose();
        TestLabels.Dispose();
    }
}
