using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>
/// NIID-Bench's <c>SimpleCNNMNIST</c> (model.py): conv 6@5×5, ReLU, max-pool 2; conv 16@5×5, ReLU, max-pool 2;
/// FC 256→120→84→10 with ReLU. 44,426 parameters. Input [N, 1, 28, 28].
/// </summary>
internal sealed class SimpleCnn : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv1 = Conv2d(1, 6, 5);
    private readonly Module<Tensor, Tensor> conv2 = Conv2d(6, 16, 5);
    private readonly Module<Tensor, Tensor> fc1 = Linear(16 * 4 * 4, 120);
    private readonly Module<Tensor, Tensor> fc2 = Linear(120, 84);
    private readonly Module<Tensor, Tensor> fc3 = Linear(84, FashionMnist.Classes);

    public SimpleCnn()
        : base(nameof(SimpleCnn))
    {
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var x = functional.max_pool2d(functional.relu(conv1.call(input)), 2);
        x = functional.max_pool2d(functional.relu(conv2.call(x)), 2);
        x = x.view(-1, 16 * 4 * 4);
        x = functional.relu(fc1.call(x));
        x = functional.relu(fc2.call(x));
        return fc3.call(x);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            conv2.Dispose();
            fc1.Dispose();
            fc2.Dispose();
            fc3.Dispose();
        }

        base.Dispose(disposing);
    }
}
