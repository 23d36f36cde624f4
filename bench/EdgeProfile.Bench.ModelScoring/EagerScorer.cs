using EdgeProfile.Models;
using EdgeProfile.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeProfile.Bench.ModelScoring;

/// <summary>
/// TorchSharp eager inference of the same model the ONNX files hold: <c>(x − mean) / std</c>, the module, then sigmoid
/// for binary and multi-label tasks, under <c>no_grad</c> in evaluation mode; outputs concatenated in task order, as
/// <see cref="Models.Scoring.OnnxRowScorer"/> and <see cref="Models.Scoring.OnnxScorer.ScoreBatch"/> give them.
/// Not thread-safe (dispose scopes are per thread).
/// </summary>
public sealed class EagerScorer : IDisposable
{
    private readonly MmoeModule module;
    private readonly Tensor mean;
    private readonly Tensor std;
    private readonly IReadOnlyList<TaskSpec> tasks;
    private readonly int inputs;

    /// <summary>Wraps <paramref name="module"/> (not owned) with its standardisation.</summary>
    public EagerScorer(MmoeModule module, Standardizer standardizer)
    {
        this.module = module;
        tasks = module.Spec.Tasks;
        inputs = module.Spec.Inputs;
        mean = tensor(standardizer.Mean, [1, inputs]);
        std = tensor(standardizer.Std, [1, inputs]);
    }

    /// <summary>Scores one row into <paramref name="destination"/> (all outputs, task order).</summary>
    public void Score(float[] row, Span<float> destination)
    {
        module.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = tensor(row, [1, inputs]);
        var logits = module.call((x - mean) / std);
        var offset = 0;
        for (var t = 0; t < tasks.Count; t++)
        {
            var output = tasks[t].Kind == TaskKind.Regression ? logits[t] : logits[t].sigmoid();
            var width = tasks[t].Outputs;
            output.data<float>().CopyTo(destination.Slice(offset, width));
            offset += width;
        }
    }

    /// <summary>Scores <c>rows.Length / inputs</c> row-major rows; one array per task, <c>[rows × width]</c>.</summary>
    public float[][] ScoreBatch(float[] rows)
    {
        module.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var count = rows.Length / inputs;
        var x = tensor(rows, [count, inputs]);
        var logits = module.call((x - mean) / std);
        var result = new float[tasks.Count][];
        for (var t = 0; t < tasks.Count; t++)
        {
            var output = tasks[t].Kind == TaskKind.Regression ? logits[t] : logits[t].sigmoid();
            result[t] = output.contiguous().data<float>().ToArray();
        }

        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        mean.Dispose();
        std.Dispose();
    }
}
