using System.Diagnostics;
using EdgeProfile.Federated;
using EdgeProfile.Federated.Aggregation;
using EdgeProfile.Models;
using EdgeProfile.Training;
using EdgeProfile.Training.Federated;

namespace EdgeProfile.Bench.FederatedRetail;

/// <summary>
/// The compared methods. Every model gets the same input transform recipe: log1p on every feature, then
/// standardisation whose statistics come from the rows the method may see (the union for central and federated — for
/// federated gathered as per-partition count/Σx/Σx², no row pooled —, the partition's own rows for local models).
/// </summary>
internal static class Methods
{
    public static MethodResult Central(IReadOnlyList<CustomerRows.Partition> parts, ModelSpec spec, Settings s, int seed)
    {
        var watch = Stopwatch.StartNew();
        var union = Concat(parts.Select(p => p.Train));
        var (mean, std) = FeatureMoments.Of(union.Features, CustomerRows.Log1p).MeanStd();
        var initial = FederatedInit.Initial(spec, mean, std, CustomerRows.Log1p, seed);
        var weights = FederatedLocalTrainer.Train(initial, union, Options(s, seed, s.Rounds * s.LocalEpochs)).Weights;
        return Score("central, same budget (FederatedLocalTrainer)", parts, _ => weights, watch, s);
    }

    public static MethodResult CentralEarlyStopped(IReadOnlyList<CustomerRows.Partition> parts, ModelSpec spec, Settings s, int seed)
    {
        var watch = Stopwatch.StartNew();
        var weights = EarlyStopped(parts, spec, s, seed);
        return Score("central, early-stopped (MmoeTrainer)", parts, _ => weights, watch, s);
    }

    public static MethodResult Local(IReadOnlyList<CustomerRows.Partition> parts, ModelSpec spec, Settings s, int seed)
    {
        var watch = Stopwatch.StartNew();
        var models = parts.Select((p, k) =>
        {
            var (mean, std) = FeatureMoments.Of(p.Train.Features, CustomerRows.Log1p).MeanStd();
            var initial = FederatedInit.Initial(spec, mean, std, CustomerRows.Log1p, seed);
            return FederatedLocalTrainer.Train(initial, p.Train, Options(s, (seed * 1000) + k, s.Rounds * s.LocalEpochs)).Weights;
        }).ToArray();
        return Score("local only, same budget", parts, k => models[k], watch, s, models);
    }

    public static MethodResult LocalEarlyStopped(IReadOnlyList<CustomerRows.Partition> parts, ModelSpec spec, Settings s, int seed)
    {
        var watch = Stopwatch.StartNew();
        var models = parts.Select((p, k) => EarlyStopped([p], spec, s, (seed * 1000) + k)).ToArray();
        return Score("local only, early-stopped (MmoeTrainer)", parts, k => models[k], watch, s, models);
    }

    /// <summary>
    /// FedAvg: the job's transform from the sum of the partitions' moments; each round every partition trains
    /// <see cref="Settings.LocalEpochs"/> from the global weights (FederatedLocalTrainer), FedAvgCombiner averages the
    /// deltas by rows and ServerSgd applies them. <paramref name="mu"/> &gt; 0 makes it FedProx.
    /// </summary>
    public static MethodResult Federated(IReadOnlyList<CustomerRows.Partition> parts, ModelSpec spec, Settings s, int seed, double mu)
    {
        var watch = Stopwatch.StartNew();
        var moments = parts.Select(p => FeatureMoments.Of(p.Train.Features, CustomerRows.Log1p)).Aggregate((a, b) => a.Add(b));
        var (mean, std) = moments.MeanStd();
        var global = FederatedInit.Initial(spec, mean, std, CustomerRows.Log1p, seed);
        var combiner = new FedAvgCombiner();
        var server = new ServerSgd(s.ServerLearningRate);
        for (var round = 0; round < s.Rounds; round++)
        {
            var updates = new List<ClientUpdate>();
            for (var k = 0; k < parts.Count; k++)
            {
                var options = Options(s, (seed * 100_000) + (round * 100) + k, s.LocalEpochs) with { ProximalMu = mu };
                var local = FederatedLocalTrainer.Train(global, parts[k].Train, options);
                updates.Add(new ClientUpdate(parts[k].Name, local.Delta, local.Samples));
            }
            var vector = ModelWeightsVector.Flatten(global);
            foreach (var u in updates)
            {
                u.Validate(vector.Length);
            }
            var combined = combiner.Combine(updates);
            global = ModelWeightsVector.Unflatten(global, server.Apply(vector, combined.Delta));
        }
        var name = mu > 0 ? $"federated FedProx μ={mu} ({s.Rounds} rounds × {s.LocalEpochs} local epoch)" : $"federated FedAvg ({s.Rounds} rounds × {s.LocalEpochs} local epoch)";
        return Score(name, parts, _ => global, watch, s);
    }

    private static LocalTrainingOptions Options(Settings s, int seed, int epochs) => new()
    {
        Epochs = epochs,
        BatchSize = s.BatchSize,
        Optimizer = LocalOptimizer.Adam,
        LearningRate = s.LearningRate,
        Seed = seed,
        Threads = s.Threads,
    };

    /// <summary>
    /// MmoeTrainer (Adam, early stopping, best epoch kept) on the partitions' train rows: validation = rows of the last two
    /// train cutoffs (time-based), training = the earlier ones. It standardises on its own training rows; log1p is applied
    /// before and recorded in the weights.
    /// </summary>
    private static ModelWeights EarlyStopped(IReadOnlyList<CustomerRows.Partition> parts, ModelSpec spec, Settings s, int seed)
    {
        var last = parts.Max(p => p.TrainCutoff.Max());
        TrainingData Pick(Func<int, bool> keep) => Concat(parts.Select(p =>
            Logged(p.Train.Subset(Enumerable.Range(0, p.Train.Rows).Where(i => keep(p.TrainCutoff[i])).ToArray()))));
        var train = Pick(c => c < last - 1);
        var validation = Pick(c => c >= last - 1);
        using var result = MmoeTrainer.Train(spec, train, validation, new TrainingOptions
        {
            Epochs = s.MaxEpochs,
            BatchSize = s.BatchSize,
            LearningRate = s.LearningRate,
            Patience = 5,
            Seed = seed,
            Threads = s.Threads,
        });
        return result.Weights with { Log1p = CustomerRows.Log1p };
    }

    private static TrainingData Logged(TrainingData data) => new(
        data.Features.Select(r => r.Select(v => (float)Math.Log(1 + Math.Max(v, 0))).ToArray()).ToArray(), data.Labels, data.Masks);

    private static MethodResult Score(string method, IReadOnlyList<CustomerRows.Partition> parts, Func<int, ModelWeights> model, Stopwatch watch, Settings s, ModelWeights[]? locals = null)
    {
        var seconds = watch.Elapsed.TotalSeconds;
        var tasks = CustomerRows.Tasks.Length;
        var perPartition = new double[parts.Count][];
        var scores = Enumerable.Range(0, tasks).Select(_ => new List<float>()).ToArray();
        var labels = Enumerable.Range(0, tasks).Select(_ => new List<float>()).ToArray();
        for (var k = 0; k < parts.Count; k++)
        {
            var test = parts[k].Test;
            var predictions = LocalEvaluation.Predict(model(k), test.Features, s.Threads);
            perPartition[k] = new double[tasks];
            for (var t = 0; t < tasks; t++)
            {
                var p = predictions[t].Select(r => r[0]).ToArray();
                var y = test.Labels[t].Select(r => r[0]).ToArray();
                perPartition[k][t] = Metrics.RocAuc(p, y);
                scores[t].AddRange(p);
                labels[t].AddRange(y);
            }
        }
        var union = Enumerable.Range(0, tasks).Select(t => Metrics.RocAuc(scores[t], labels[t])).ToArray();
        double[]? localOnUnion = null;
        if (locals is not null)
        {
            var all = Concat(parts.Select(p => p.Test));
            localOnUnion = Enumerable.Range(0, tasks).Select(t => locals
                .Select(w => Metrics.RocAuc(LocalEvaluation.Predict(w, all.Features, s.Threads)[t].Select(r => r[0]).ToArray(), all.Labels[t].Select(r => r[0]).ToArray()))
                .Where(double.IsFinite).Average()).ToArray();
        }
        return new MethodResult(method, union, perPartition, localOnUnion, seconds);
    }

    /// <summary>Round-0 weights of <paramref name="spec"/> with an identity transform (for counting parameters).</summary>
    public static ModelWeights Parameters(ModelSpec spec) =>
        FederatedInit.Initial(spec, new float[spec.Inputs], Enumerable.Repeat(1f, spec.Inputs).ToArray(), null, 0);

    public static TrainingData Concat(IEnumerable<TrainingData> parts)
    {
        var list = parts.ToArray();
        var tasks = list[0].Labels.Count;
        return new TrainingData(
            list.SelectMany(p => p.Features).ToArray(),
            Enumerable.Range(0, tasks).Select(t => list.SelectMany(p => p.Labels[t]).ToArray()).ToArray());
    }
}
