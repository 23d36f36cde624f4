using System.Collections.Concurrent;
using EdgeProfile.Federated;
using EdgeProfile.Federated.Aggregation;
using static TorchSharp.torch;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>
/// One FedAvg/FedProx round on the core library: every selected party trains from the global weights, sends
/// <c>local − global</c> as a <see cref="ClientUpdate"/> weighted by its row count, <see cref="FedAvgCombiner"/> takes the
/// sample-weighted mean and <see cref="ServerSgd"/> (η = 1) applies it. With η = 1 this equals NIID-Bench's and
/// McMahan et al.'s weighted parameter average <c>Σ n_k w_k / Σ n_k</c>.
/// </summary>
/// <remarks>
/// Parties train concurrently, one per worker model (<paramref name="workers"/> copies from <paramref name="create"/>),
/// as real parties would: on this benchmark's small convolutions one libtorch thread per party does more work per
/// core than two threads on one party. Each party gets its own shuffling and noise streams, seeded from the round's
/// <see cref="Random"/> in party order, and updates are combined in party order, so a seed gives the same run whatever
/// the number of workers.
/// </remarks>
internal sealed class FederatedServer(Func<nn.Module<Tensor, Tensor>> create, int workers, Tensor images, Tensor labels, LocalTraining local) : IDisposable
{
    private readonly IUpdateCombiner combiner = new FedAvgCombiner();
    private readonly IServerOptimizer server = new ServerSgd();
    private readonly ConcurrentBag<nn.Module<Tensor, Tensor>> models = [.. Enumerable.Range(0, Math.Max(1, workers)).Select(_ => create())];

    /// <summary>Mean of the parties' last-epoch training losses in the last round.</summary>
    public double LastLoss { get; private set; }

    /// <summary>Returns the new global weights.</summary>
    public float[] Round(float[] global, IReadOnlyList<Party> selected, Random random)
    {
        var seeds = selected.Select(_ => random.Next()).ToArray();
        var updates = new ClientUpdate[selected.Count];
        var losses = new double[selected.Count];
        Parallel.For(0, selected.Count, new ParallelOptions { MaxDegreeOfParallelism = models.Count }, i =>
        {
            if (!models.TryTake(out var model))
            {
                throw new InvalidOperationException("more concurrent parties than worker models");
            }

            try
            {
                var party = selected[i];
                ParameterVector.Load(model, global);
                losses[i] = ClientTrainer.Train(model, images, labels, party, local, new Random(seeds[i]), (ulong)seeds[i]);
                var update = new ClientUpdate(party.Id, ParameterVector.Delta(ParameterVector.Flatten(model), global), party.Rows.Length);
                update.Validate(global.Length);
                updates[i] = update;
            }
            finally
            {
                models.Add(model);
            }
        });

        LastLoss = losses.Sum() / selected.Count;
        var combined = combiner.Combine(updates);
        return server.Apply(global, combined.Delta);
    }

    public void Dispose()
    {
        foreach (var model in models)
        {
            model.Dispose();
        }
    }
}
