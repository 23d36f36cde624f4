using EdgeProfile.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Federated;

/// <summary>
/// A client's part of a federated round (FedAvg, McMahan et al. 2017; FedProx, Li et al. 2020): start from the global
/// weights, train exactly <see cref="LocalTrainingOptions.Epochs"/> epochs on the local rows with the global model's
/// fixed input transform (not refitted: every client must see the same inputs), and return the weights, their delta in
/// <see cref="ModelWeightsVector"/> order and the row count. Losses are <see cref="MmoeTrainer"/>'s. Deterministic for a
/// given seed and thread count. Torch state (seed, threads) is process-wide: run one call at a time.
/// </summary>
public static class FederatedLocalTrainer
{
    // Torch's seed and thread count are process-wide: two trainings at once in one process would race on them and
    // lose their determinism, so they take turns.
    private static readonly Lock Gate = new();

    /// <summary>Trains from <paramref name="global"/> on <paramref name="data"/> (raw features, labels and masks). Calls
    /// from several threads run one at a time.</summary>
    public static LocalTrainingResult Train(ModelWeights global, TrainingData data, LocalTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(global);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Check(global, data);
        lock (Gate)
        {
            return TrainLocked(global, data, options);
        }
    }

    private static LocalTrainingResult TrainLocked(ModelWeights global, TrainingData data, LocalTrainingOptions options)
    {
        TorchEnvironment.Prepare();
        set_num_threads(options.Threads);
        manual_seed(options.Seed);

        using var module = ModuleWeights.Create(global);
        using var tensors = new LocalTensors(global, data, options.PositiveWeights, options.TaskWeights);
        var trainLoss = Fit(module, tensors, data.Rows, options);
        var (total, tasks, logits) = tensors.Evaluate(module);
        var metrics = LocalEvaluation.Measure(global.Spec, data, total, tasks, logits);
        metrics["train_loss"] = trainLoss;

        var local = ModuleWeights.Read(module, global.Mean, global.Std, global.Log1p);
        var before = ModelWeightsVector.Flatten(global);
        var after = ModelWeightsVector.Flatten(local);
        var delta = new float[after.Length];
        for (var i = 0; i < delta.Length; i++)
        {
            delta[i] = after[i] - before[i];
        }
        return new LocalTrainingResult(local, delta, data.Rows, trainLoss, metrics);
    }

    /// <summary>Throws when <paramref name="data"/> cannot train or score <paramref name="weights"/>.</summary>
    internal static void Check(ModelWeights weights, TrainingData data)
    {
        weights.Validate();
        var spec = weights.Spec;
        if (data.Rows == 0)
        {
            throw new ArgumentException("no rows", nameof(data));
        }
        if (data.Width != spec.Inputs)
        {
            throw new ArgumentException($"{data.Width} features, the model has {spec.Inputs}", nameof(data));
        }
        if (data.Labels.Count != spec.Tasks.Count)
        {
            throw new ArgumentException($"labels for {data.Labels.Count} tasks, the model has {spec.Tasks.Count}", nameof(data));
        }
        for (var t = 0; t < spec.Tasks.Count; t++)
        {
            var width = spec.Tasks[t].Outputs;
            if (data.Labels[t].Any(r => r.Length != width))
            {
                throw new ArgumentException($"task {spec.Tasks[t].Name}: labels must have {width} values per row", nameof(data));
            }
        }
    }

    /// <summary>Runs the epochs; returns the mean batch loss of the last one (without the proximal term; NaN for none).</summary>
    private static double Fit(MmoeModule module, LocalTensors data, int rows, LocalTrainingOptions options)
    {
        var parameters = module.parameters().ToArray();
        // FedProx's anchor: the global parameters as loaded, in the same order as the module's parameters.
        var anchors = options.ProximalMu > 0 ? parameters.Select(p => p.detach().clone()).ToArray() : [];
        using OptimizerHelper optimizer = options.Optimizer == LocalOptimizer.Adam
            ? optim.Adam(parameters, options.LearningRate, weight_decay: options.WeightDecay)
            : optim.SGD(parameters, options.LearningRate, momentum: options.Momentum, weight_decay: options.WeightDecay);
        try
        {
            var random = new Random(options.Seed);
            var order = Enumerable.Range(0, rows).Select(i => (long)i).ToArray();
            var lastLoss = double.NaN;
            for (var epoch = 0; epoch < options.Epochs; epoch++)
            {
                module.train();
                random.Shuffle(order);
                double lossSum = 0;
                var batches = 0;
                for (var start = 0; start < order.Length; start += options.BatchSize)
                {
                    using var scope = NewDisposeScope();
                    var count = Math.Min(options.BatchSize, order.Length - start);
                    var index = tensor(order.AsSpan(start, count).ToArray());
                    optimizer.zero_grad();
                    var (loss, _) = data.Loss(module, index);
                    lossSum += loss.item<float>();
                    batches++;
                    if (anchors.Length > 0)
                    {
                        Tensor proximal = zeros(1);
                        for (var i = 0; i < parameters.Length; i++)
                        {
                            proximal += (parameters[i] - anchors[i]).square().sum();
                        }
                        loss += proximal * (options.ProximalMu / 2);
                    }
                    loss.backward();
                    optimizer.step();
                }
                lastLoss = lossSum / batches;
            }
            module.eval();
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
