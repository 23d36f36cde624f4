using EdgeProfile.Models;
using EdgeProfile.Training.Distillation;
using static TorchSharp.torch;

namespace EdgeProfile.Training;

/// <summary>
/// Trains an <see cref="MmoeModule"/> (or any of its baselines, which are specs of the same shape) with Adam on
/// mini-batches: BCE with logits (with optional <c>pos_weight</c>) for binary and multi-label tasks, MSE for regression
/// tasks, each over the rows its mask keeps; inputs standardised with statistics of the training rows only; early stopping
/// on the caller's validation rows, keeping the best epoch's weights. Deterministic for a given seed and thread count.
/// With <see cref="TrainingOptions.Distillation"/> (α &gt; 0), every binary task whose rows carry
/// <see cref="TrainingData.SoftTargets"/> is trained on <see cref="DistillationLoss"/> instead (the validation loss too,
/// when the validation rows carry them).
/// </summary>
public static class MmoeTrainer
{
    /// <summary>Trains <paramref name="spec"/> on <paramref name="train"/>, stopping early on <paramref name="validation"/>.</summary>
    public static TrainingResult Train(ModelSpec spec, TrainingData train, TrainingData validation, TrainingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        TorchEnvironment.Prepare();
        options ??= new TrainingOptions();
        options.Validate();
        Check(spec, train, options, nameof(train));
        Check(spec, validation, options, nameof(validation));

        set_num_threads(options.Threads);
        manual_seed(options.Seed);
        var standardizer = Standardizer.Fit(train.Features);
        foreach (var j in options.UnscaledFeatures ?? [])
        {
            standardizer.Mean[j] = 0f;
            standardizer.Std[j] = 1f;
        }
        var module = new MmoeModule(spec, options.Dropout);
        try
        {
            var (epochs, best) = Fit(module, standardizer, spec, train, validation, options);
            var model = new MmoeModel(module, standardizer);
            return new TrainingResult(model, model.ToWeights(), epochs, best);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    private static (IReadOnlyList<EpochMetrics> Epochs, int Best) Fit(
        MmoeModule module, Standardizer standardizer, ModelSpec spec, TrainingData train, TrainingData validation, TrainingOptions options)
    {
        using var data = new Tensors(spec, standardizer, train, options);
        using var validationData = new Tensors(spec, standardizer, validation, options);
        using var optimizer = optim.Adam(module.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        var scheduler = options.LearningRateDecay < 1 ? optim.lr_scheduler.ExponentialLR(optimizer, options.LearningRateDecay) : null;
        var parameters = module.named_parameters().ToArray();
        var best = parameters.Select(p => p.parameter.detach().clone()).ToArray();
        try
        {
            var random = new Random(options.Seed);
            var order = Enumerable.Range(0, train.Rows).ToArray();
            var epochs = new List<EpochMetrics>();
            var bestLoss = double.PositiveInfinity;
            var bestEpoch = 0;
            for (var epoch = 1; epoch <= options.Epochs; epoch++)
            {
                module.train();
                random.Shuffle(order);
                double lossSum = 0;
                var batches = 0;
                for (var start = 0; start < order.Length; start += options.BatchSize)
                {
                    using var scope = NewDisposeScope();
                    var count = Math.Min(options.BatchSize, order.Length - start);
                    var index = tensor(order.AsSpan(start, count).ToArray().Select(i => (long)i).ToArray());
                    optimizer.zero_grad();
                    var (loss, _) = data.Loss(module, index);
                    loss.backward();
                    optimizer.step();
                    lossSum += loss.item<float>();
                    batches++;
                }

                scheduler?.step();
                var (validationLoss, taskLosses) = validationData.Evaluate(module);
                epochs.Add(new EpochMetrics(epoch, batches == 0 ? double.NaN : lossSum / batches, validationLoss, taskLosses));
                if (validationLoss < bestLoss - options.MinDelta)
                {
                    bestLoss = validationLoss;
                    bestEpoch = epoch;
                    using var noGrad = no_grad();
                    for (var i = 0; i < parameters.Length; i++)
                    {
                        best[i].copy_(parameters[i].parameter);
                    }
                }
                else if (epoch - bestEpoch >= options.Patience)
                {
                    break;
                }
            }

            if (bestEpoch > 0)
            {
                using var noGrad = no_grad();
                for (var i = 0; i < parameters.Length; i++)
                {
                    parameters[i].parameter.copy_(best[i]);
                }
            }
            module.eval();
            return (epochs, bestEpoch);
        }
        finally
        {
            foreach (var b in best)
            {
                b.Dispose();
            }
        }
    }

    private static void Check(ModelSpec spec, TrainingData data, TrainingOptions options, string name)
    {
        if (data.Rows == 0)
        {
            throw new ArgumentException("no rows", name);
        }
        if (data.Width != spec.Inputs)
        {
            throw new ArgumentException($"{data.Width} features, the spec has {spec.Inputs}", name);
        }
        if (options.PositiveWeights is { } pw && pw.Count != spec.Tasks.Count)
        {
            throw new ArgumentException($"{pw.Count} positive-weight entries for {spec.Tasks.Count} tasks", nameof(options));
        }
        if (options.UnscaledFeatures is { } unscaled && unscaled.Any(j => j < 0 || j >= spec.Inputs))
        {
            throw new ArgumentException($"an unscaled feature index is outside 0..{spec.Inputs - 1}", nameof(options));
        }
        if (options.TaskWeights is { } tw && tw.Count != spec.Tasks.Count)
        {
            throw new ArgumentException($"{tw.Count} task weights for {spec.Tasks.Count} tasks", nameof(options));
        }
        if (data.Labels.Count != spec.Tasks.Count)
        {
            throw new ArgumentException($"labels for {data.Labels.Count} tasks, the spec has {spec.Tasks.Count}", name);
        }
        for (var t = 0; t < spec.Tasks.Count; t++)
        {
            var width = spec.Tasks[t].Outputs;
            if (data.Labels[t].Any(r => r.Length != width))
            {
                throw new ArgumentException($"task {spec.Tasks[t].Name}: labels must have {width} values per row", name);
            }
            if (options.Distillation is not null && data.SoftTargets?[t] is not null && spec.Tasks[t].Kind != TaskKind.Binary)
            {
                throw new ArgumentException($"task {spec.Tasks[t].Name}: soft targets are for binary tasks only", name);
            }
        }
    }

    /// <summary>One data set as tensors: standardised features, labels and masks per task, and the loss over row subsets.</summary>
    private sealed class Tensors : IDisposable
    {
        private readonly ModelSpec spec;
        private readonly Tensor features;
        private readonly Tensor[] labels;
        private readonly Tensor[] masks;
        private readonly Tensor?[] positiveWeights;
        private readonly float[] taskWeights;
        private readonly Tensor?[] softTargets;
        private readonly Tensor?[] softMasks;
        private readonly DistillationOptions? distillation;

        public Tensors(ModelSpec spec, Standardizer standardizer, TrainingData data, TrainingOptions options)
        {
            this.spec = spec;
            features = tensor(standardizer.TransformFlat(data.Features), [data.Rows, spec.Inputs]);
            labels = new Tensor[spec.Tasks.Count];
            masks = new Tensor[spec.Tasks.Count];
            positiveWeights = new Tensor?[spec.Tasks.Count];
            taskWeights = new float[spec.Tasks.Count];
            softTargets = new Tensor?[spec.Tasks.Count];
            softMasks = new Tensor?[spec.Tasks.Count];
            // α = 0 builds nothing, so the loss below is computed exactly as without distillation.
            distillation = options.Distillation is { Alpha: > 0 } d ? d : null;
            for (var t = 0; t < spec.Tasks.Count; t++)
            {
                var width = spec.Tasks[t].Outputs;
                labels[t] = tensor(data.Labels[t].SelectMany(r => r).ToArray(), [data.Rows, width]);
                masks[t] = tensor(Enumerable.Range(0, data.Rows).Select(i => data.IsLabelled(t, i) ? 1f : 0f).ToArray(), [data.Rows, 1]);
                if (spec.Tasks[t].Kind != TaskKind.Regression && options.PositiveWeights?[t] is { } pw)
                {
                    if (pw.Length != width)
                    {
                        throw new ArgumentException($"task {spec.Tasks[t].Name}: {pw.Length} positive weights for {width} outputs", nameof(options));
                    }
                    positiveWeights[t] = tensor(pw);
                }
                taskWeights[t] = options.TaskWeights?[t] ?? 1f;
                if (distillation is not null && data.SoftTargets?[t] is { } teacher)
                {
                    var (targets, mask) = DistillationLoss.SoftTargets(teacher, distillation.Temperature);
                    softTargets[t] = tensor(targets, [data.Rows, 1]);
                    softMasks[t] = tensor(mask, [data.Rows, 1]);
                }
            }
        }

        /// <summary>Weighted total loss over the rows at <paramref name="index"/> (all rows when null) and each task's loss.</summary>
        public (Tensor Total, Tensor[] Tasks) Loss(MmoeModule module, Tensor? index)
        {
            var x = index is null ? features : features.index_select(0, index);
            var logits = module.call(x);
            var taskLosses = new Tensor[spec.Tasks.Count];
            Tensor? total = null;
            for (var t = 0; t < spec.Tasks.Count; t++)
            {
                var y = index is null ? labels[t] : labels[t].index_select(0, index);
                var m = index is null ? masks[t] : masks[t].index_select(0, index);
                if (softTargets[t] is { } soft && softMasks[t] is { } softMask)
                {
                    var q = index is null ? soft : soft.index_select(0, index);
                    var qm = index is null ? softMask : softMask.index_select(0, index);
                    taskLosses[t] = DistillationLoss.Combine(logits[t], y, m, q, qm, distillation!, positiveWeights[t]);
                    var distilled = taskLosses[t] * taskWeights[t];
                    total = total is null ? distilled : total + distilled;
                    continue;
                }
                var elementwise = spec.Tasks[t].Kind == TaskKind.Regression
                    ? nn.functional.mse_loss(logits[t], y, nn.Reduction.None)
                    : nn.functional.binary_cross_entropy_with_logits(logits[t], y, null, nn.Reduction.None, positiveWeights[t]);
                // Mean over the labelled rows (and outputs) only; clamp keeps a batch without labels at zero loss.
                var labelled = m.sum() * spec.Tasks[t].Outputs;
                taskLosses[t] = (elementwise * m).sum() / labelled.clamp_min(1);
                var weighted = taskLosses[t] * taskWeights[t];
                total = total is null ? weighted : total + weighted;
            }
            return (total!, taskLosses);
        }

        /// <summary>Loss on all rows, without gradients, in evaluation mode.</summary>
        public (double Total, IReadOnlyList<double> Tasks) Evaluate(MmoeModule module)
        {
            module.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var (total, tasks) = Loss(module, null);
            return (total.item<float>(), tasks.Select(l => (double)l.item<float>()).ToArray());
        }

        public void Dispose()
        {
            features.Dispose();
            foreach (var t in labels.Concat(masks).Concat(positiveWeights.OfType<Tensor>()).Concat(softTargets.OfType<Tensor>()).Concat(softMasks.OfType<Tensor>()))
            {
                t.Dispose();
            }
        }
    }
}
