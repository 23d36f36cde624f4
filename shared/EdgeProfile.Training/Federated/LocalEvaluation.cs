using EdgeProfile.Models;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Federated;

/// <summary>
/// Scores <see cref="ModelWeights"/> on labelled rows with TorchSharp, for clients (metrics of a local update), the hub
/// (metrics of a global model on a holdout) and benches. Metrics are keyed <c>loss</c> (unweighted sum of the task
/// losses), <c>loss_&lt;task&gt;</c>, <c>auc_&lt;task&gt;</c> (binary; the mean over labels with both classes for
/// multi-label; NaN when a class is absent) and <c>rmse_&lt;task&gt;</c> (regression), all over the rows each task's mask keeps.
/// </summary>
public static class LocalEvaluation
{
    /// <summary>Metrics of <paramref name="weights"/> on <paramref name="data"/> (raw features; the weights' transform applies).</summary>
    public static IReadOnlyDictionary<string, double> Evaluate(ModelWeights weights, TrainingData data, int threads = 2)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(data);
        FederatedLocalTrainer.Check(weights, data);
        Prepare(threads);
        using var module = ModuleWeights.Create(weights);
        using var tensors = new LocalTensors(weights, data, null, null);
        var (total, tasks, logits) = tensors.Evaluate(module);
        return Measure(weights.Spec, data, total, tasks, logits);
    }

    /// <summary>
    /// Predictions per task, <c>[task][row][output]</c>: probabilities for binary and multi-label tasks, values for
    /// regression tasks, from raw features.
    /// </summary>
    public static float[][][] Predict(ModelWeights weights, float[][] rows, int threads = 2)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(rows);
        weights.Validate();
        var tasks = weights.Spec.Tasks;
        var result = tasks.Select(_ => new float[rows.Length][]).ToArray();
        if (rows.Length == 0)
        {
            return result;
        }
        Prepare(threads);
        using var module = ModuleWeights.Create(weights);
        module.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = module.call(tensor(LocalTensors.Standardise(weights, rows), [rows.Length, weights.Spec.Inputs]));
        for (var t = 0; t < tasks.Count; t++)
        {
            var output = tasks[t].Kind == TaskKind.Regression ? logits[t] : logits[t].sigmoid();
            var flat = output.contiguous().data<float>().ToArray();
            var width = tasks[t].Outputs;
            for (var i = 0; i < rows.Length; i++)
            {
                result[t][i] = flat.AsSpan(i * width, width).ToArray();
            }
        }
        return result;
    }

    /// <summary>The metrics from losses and logits (<c>[task][row × outputs]</c>) already computed on <paramref name="data"/>.</summary>
    internal static Dictionary<string, double> Measure(ModelSpec spec, TrainingData data, double total, IReadOnlyList<double> taskLosses, float[][] logits)
    {
        var metrics = new Dictionary<string, double> { ["loss"] = total };
        for (var t = 0; t < spec.Tasks.Count; t++)
        {
            var task = spec.Tasks[t];
            metrics[$"loss_{task.Name}"] = taskLosses[t];
            var width = task.Outputs;
            var mask = Enumerable.Range(0, data.Rows).Select(i => data.IsLabelled(t, i)).ToArray();
            var columns = Enumerable.Range(0, width).Select(k => (
                Scores: Enumerable.Range(0, data.Rows).Select(i => logits[t][(i * width) + k]).ToArray(),
                Labels: data.Labels[t].Select(r => r[k]).ToArray())).ToArray();
            if (task.Kind == TaskKind.Regression)
            {
                metrics[$"rmse_{task.Name}"] = Metrics.Rmse(columns[0].Scores, columns[0].Labels, mask);
            }
            else
            {
                // Logits rank rows exactly as the probabilities do, so AUC needs no sigmoid.
                var aucs = columns.Select(c => Metrics.RocAuc(c.Scores, c.Labels, mask)).Where(double.IsFinite).ToArray();
                metrics[$"auc_{task.Name}"] = aucs.Length == 0 ? double.NaN : aucs.Average();
            }
        }
        return metrics;
    }

    private static void Prepare(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        TorchEnvironment.Prepare();
        set_num_threads(threads);
    }
}
