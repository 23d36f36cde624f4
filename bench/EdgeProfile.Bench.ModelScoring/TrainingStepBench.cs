using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using EdgeProfile.Models;
using EdgeProfile.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeProfile.Bench.ModelScoring;

/// <summary>
/// One training step as the PyTorch peer (<c>bench/models/torch_train_step.py</c>) does it: forward, BCE-with-logits
/// (mean) for binary and multi-label tasks plus MSE (mean) for regression, backward, Adam (lr 1e-3), on pre-built
/// standardised batches (batch k is batch k mod batches). <see cref="WritePeerInputs"/> writes the initial parameters and
/// the batches so the peer starts from the same weights on the same data.
/// </summary>
public sealed class TrainingStepBench : IDisposable
{
    /// <summary>Adam learning rate on both sides.</summary>
    public const double LearningRate = 1e-3;

    /// <summary>Untimed steps before timing, on both sides: 20, so that .NET's tiered compilation has recompiled
    /// TorchSharp's managed code (its optimiser step is C#) before timing.</summary>
    public const int WarmupSteps = 20;

    private readonly MmoeModule module;
    private readonly Tensor[] features;
    private readonly Tensor[][] labels;
    private readonly float[] flatFeatures;
    private readonly float[][][] flatLabels;
    private readonly int batch;

    /// <summary>Builds <paramref name="batches"/> batches of <paramref name="batch"/> rows from the standardised
    /// <paramref name="standardised"/> rows and their <paramref name="rowLabels"/>.</summary>
    public TrainingStepBench(MmoeModule module, float[] standardised, float[][][] rowLabels, int batches, int batch)
    {
        this.module = module;
        this.batch = batch;
        var inputs = module.Spec.Inputs;
        flatFeatures = standardised.AsSpan(0, batches * batch * inputs).ToArray();
        features = [.. Enumerable.Range(0, batches).Select(b => tensor(flatFeatures.AsSpan(b * batch * inputs, batch * inputs).ToArray(), [batch, inputs]))];
        var tasks = module.Spec.Tasks;
        flatLabels = new float[tasks.Count][][];
        labels = new Tensor[batches][];
        for (var b = 0; b < batches; b++)
        {
            labels[b] = new Tensor[tasks.Count];
        }

        for (var t = 0; t < tasks.Count; t++)
        {
            var width = tasks[t].Outputs;
            flatLabels[t] = new float[batches][];
            for (var b = 0; b < batches; b++)
            {
                flatLabels[t][b] = [.. rowLabels[t].Skip(b * batch).Take(batch).SelectMany(r => r)];
                labels[b][t] = tensor(flatLabels[t][b], [batch, width]);
            }
        }
    }

    /// <summary>Writes manifest.json, params.bin (the module's current parameters), features.bin and labels_T.bin.</summary>
    public void WritePeerInputs(string directory)
    {
        var spec = module.Spec;
        var parameters = module.named_parameters().ToArray();
        using (var file = File.Create(Path.Combine(directory, "params.bin")))
        {
            foreach (var (_, p) in parameters)
            {
                using var scope = NewDisposeScope();
                file.Write(MemoryMarshal.AsBytes(p.detach().contiguous().data<float>().ToArray().AsSpan()));
            }
        }

        File.WriteAllBytes(Path.Combine(directory, "features.bin"), MemoryMarshal.AsBytes(flatFeatures.AsSpan()).ToArray());
        for (var t = 0; t < spec.Tasks.Count; t++)
        {
            File.WriteAllBytes(Path.Combine(directory, $"labels_{t}.bin"), MemoryMarshal.AsBytes(flatLabels[t].SelectMany(b => b).ToArray().AsSpan()).ToArray());
        }

        var manifest = new
        {
            spec = new
            {
                inputs = spec.Inputs,
                experts = spec.Experts,
                expertHidden = spec.ExpertHidden,
                towerHidden = spec.TowerHidden,
                tasks = spec.Tasks.Select(t => new { name = t.Name, kind = t.Kind.ToString(), outputs = t.Outputs }),
            },
            parameters = parameters.Select(p => new { name = p.name, shape = p.parameter.shape }),
            batches = features.Length,
            batch,
            learningRate = LearningRate,
        };
        File.WriteAllText(Path.Combine(directory, "manifest.json"), JsonSerializer.Serialize(manifest));
    }

    /// <summary>Runs <see cref="WarmupSteps"/> untimed and <paramref name="steps"/> timed steps (recorded in
    /// <paramref name="timed"/>) on <paramref name="threads"/> torch threads with a fresh Adam; returns the first step's loss.</summary>
    public double Run(int steps, int threads, Latency timed)
    {
        set_num_threads(threads);
        var tasks = module.Spec.Tasks;
        using var optimizer = optim.Adam(module.parameters(), LearningRate);
        module.train();
        var firstLoss = double.NaN;
        for (var k = 0; k < WarmupSteps + steps; k++)
        {
            var start = Stopwatch.GetTimestamp();
            using var scope = NewDisposeScope();
            var b = k % features.Length;
            optimizer.zero_grad();
            var logits = module.call(features[b]);
            Tensor? loss = null;
            for (var t = 0; t < tasks.Count; t++)
            {
                var taskLoss = tasks[t].Kind == TaskKind.Regression
                    ? nn.functional.mse_loss(logits[t], labels[b][t])
                    : nn.functional.binary_cross_entropy_with_logits(logits[t], labels[b][t]);
                loss = loss is null ? taskLoss : loss + taskLoss;
            }

            loss!.backward();
            optimizer.step();
            var value = loss.item<float>();
            var end = Stopwatch.GetTimestamp();
            if (k == 0)
            {
                firstLoss = value;
            }

            if (k >= WarmupSteps)
            {
                timed.Add(start, end);
            }
        }

        module.eval();
        return firstLoss;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in features.Concat(labels.SelectMany(l => l)))
        {
            t.Dispose();
        }
    }
}
