using TorchSharp;
using static TorchSharp.torch;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>Trains a module in place on one party's rows (the module must already hold the global weights).</summary>
internal static class ClientTrainer
{
    /// <summary>Returns the mean training loss of the last local epoch.</summary>
    public static double Train(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, Party party, LocalTraining local, Random random, ulong noiseSeed)
    {
        // The party's own noise stream (parties train concurrently; the global generator would interleave them).
        using var noise = new Generator(noiseSeed);
        // A new optimiser per client and round, so momentum starts from zero each round: NIID-Bench's train_net
        // (experiments.py) builds optim.SGD(..., momentum=args.rho, weight_decay=args.reg) on every call.
        using var optimizer = optim.SGD(model.parameters(), local.LearningRate, momentum: local.Momentum, weight_decay: local.WeightDecay);
        // FedProx's anchor: the global weights this round started from, constant during local training.
        var anchors = local.Mu > 0 ? model.parameters().Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray() : [];
        try
        {
            model.train();
            var parameters = model.parameters().ToArray();
            var rows = (int[])party.Rows.Clone();
            var lastLoss = 0.0;
            for (var epoch = 0; epoch < local.Epochs; epoch++)
            {
                random.Shuffle(rows);
                var lossSum = 0.0;
                var batches = 0;
                for (var start = 0; start < rows.Length; start += local.BatchSize)
                {
                    using var scope = NewDisposeScope();
                    var count = Math.Min(local.BatchSize, rows.Length - start);
                    var index = tensor(rows.AsSpan(start, count).ToArray().Select(r => (long)r).ToArray());
                    var x = images.index_select(0, index);
                    if (party.NoiseStd > 0)
                    {
                        // Fresh noise every time a sample is drawn: NIID-Bench's AddGaussianNoise is a transform
                        // applied in the dataset's __getitem__, std = noise_level (utils.py).
                        x = x + (randn(x.shape, generator: noise) * party.NoiseStd);
                    }

                    var y = labels.index_select(0, index);
                    var loss = nn.functional.cross_entropy(model.call(x), y);
                    optimizer.zero_grad();
                    loss.backward();
                    if (local.Mu > 0)
                    {
                        // FedProx (Li et al., MLSys 2020; NIID-Bench's train_net_fedprox adds (μ/2)·||w − w_global||² to
                        // the loss). We add that term's gradient μ·(w − w_global) directly: the same step, without
                        // building and back-propagating the extra graph. The printed loss is the cross-entropy part.
                        using var noGrad = no_grad();
                        for (var i = 0; i < parameters.Length; i++)
                        {
                            parameters[i].grad!.add_(parameters[i] - anchors[i], alpha: local.Mu);
                        }
                    }

                    optimizer.step();
                    lossSum += loss.item<float>();
                    batches++;
                }

                lastLoss = lossSum / Math.Max(1, batches);
            }

            return lastLoss;
        }
        finally
        {
            foreach (var anchor in anchors)
            {
                anchor.Dispose();
            }
        }
    }
}
