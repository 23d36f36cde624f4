using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>
/// McMahan et al.'s "2NN" (AISTATS 2017, §3): a multilayer perceptron with two hidden layers of 200 units and ReLU,
/// 784→200→200→10, 199,210 parameters. Input [N, 784].
/// </summary>
internal sealed class TwoLayerNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> fc1 = Linear(FashionMnist.Pixels, 200);
    private readonly Module<Tensor, Tensor> fc2 = Linear(200, 200);
    private readonly Module<Tensor, Tensor> fc3 = Linear(200, FashionMnist.Classes);

    public TwoLayerNet()
        : base(nameof(TwoLayerNet))
    {
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var x = functional.relu(fc1.call(input));
        x = functional.relu(fc2.call(x));
        return fc3.call(x);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            fc1.Dispose();
            fc2.Dispose();
            fc3.Dispose();
        }

        base.Dispose(disposing);
    }
}
