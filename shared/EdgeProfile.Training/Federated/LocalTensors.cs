using EdgeProfile.Models;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Federated;

/// <summary>
/// Local rows as tensors, transformed with the global model's fixed input transform (log1p flags, mean, std), and the
/// same losses as <see cref="MmoeTrainer"/>: BCE with logits (optional <c>pos_weight</c>) for binary and multi-label
/// tasks, MSE for regression, each averaged over the rows its mask keeps, weighted and summed over tasks.
/// </summary>
internal sealed class LocalTensors : IDisposable
{
    private readonly ModelSpec spec;
    private readonly Tensor features;
    private readonly Tensor[] labels;
    private readonly Tensor[] masks;
    private readonly Tensor?[] positiveWeights;
    private readonly float[] taskWeights;

    public LocalTensors(ModelWeights weights, TrainingData data, IReadOnlyList<float[]?>? positive, IReadOnlyList<float>? taskWeightList)
    {
        spec = weights.Spec;
        var tasks = spec.Tasks;
        if (positive is not null && positive.Count != tasks.Count)
        {
            throw new ArgumentException($"{positive.Count} positive-weight entries for {tasks.Count} tasks", nameof(positive));
        }
        if (taskWeightList is not null && taskWeightList.Count != tasks.Count)
        {
            throw new ArgumentException($"{taskWeightList.Count} task weights for {tasks.Count} tasks", nameof(taskWeightList));
        }
        features = tensor(Standardise(weights, data.Features), [data.Rows, spec.Inputs]);
        labels = new Tensor[tasks.Count];
        masks = new Tensor[tasks.Count];
        positiveWeights = new Tensor?[tasks.Count];
        taskWeights = new float[tasks.Count];
        for (var t = 0; t < tasks.Count; t++)
        {
            var width = tasks[t].Outputs;
            labels[t] = tensor(data.Labels[t].SelectMany(r => r).ToArray(), [data.Rows, width]);
            masks[t] = tensor(Enumerable.Range(0, data.Rows).Select(i => data.IsLabelled(t, i) ? 1f : 0f).ToArray(), [data.Rows, 1]);
            if (tasks[t].Kind != TaskKind.Regression && positive?[t] is { } pw)
            {
                if (pw.Length != width)
                {
                    throw new ArgumentException($"task {tasks[t].Name}: {pw.Length} positive weights for {width} outputs", nameof(positive));
                }
                positiveWeights[t] = tensor(pw);
            }
            taskWeights[t] = taskWeightList?[t] ?? 1f;
        }
    }

    /// <summary>Standardised features as one row-major block: <c>(Transform(x) − Mean) / Std</c>.</summary>
    public static float[] Standardise(ModelWeights weights, float[][] rows)
    {
        var width = weights.Spec.Inputs;
        var flat = new float[rows.Length * width];
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i].Length != width)
            {
                throw new ArgumentException($"row {i} has {rows[i].Length} features, the model {width}", nameof(rows));
            }
            for (var j = 0; j < width; j++)
            {
                flat[(i * width) + j] = (float)((weights.Transform(j, rows[i][j]) - weights.Mean[j]) / weights.Std[j]);
            }
        }
        return flat;
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

    /// <summary>Loss on all rows and the logits per task, without gradients, in evaluation mode.</summary>
    public (double Total, double[] Tasks, float[][] Logits) Evaluate(MmoeModule module)
    {
        module.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (total, tasks) = Loss(module, null);
        var logits = module.call(features).Select(l => l.contiguous().data<float>().ToArray()).ToArray();
        return (total.item<float>(), tasks.Select(l => (double)l.item<float>()).ToArray(), logits);
    }

    public void Dispose()
    {
        features.Dispose();
        foreach (var t in labels.Concat(masks).Concat(positiveWeights.OfType<Tensor>()))
        {
            t.Dispose();
        }
    }
}
