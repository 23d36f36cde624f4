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
internal sealed class FederatedServer(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, LocalTraining local)
{
    private readonly IUpdateCombiner combiner = new FedAvgCombiner();
    private readonly IServerOptimizer server = new ServerSgd();

    /// <summary>Mean of the parties' last-epoch training losses in the last round.</summary>
    public double LastLoss { get; private set; }

    /// <summary>Returns the new global weights; leaves the module holding the last party's local weights.</summary>
    public float[] Round(float[] global, IReadOnlyList<Party> selected, Random random)
    {
        var updates = new List<ClientUpdate>(selected.Count);
        var loss = 0.0;
        foreach (var party in selected)
        {
            ParameterVector.Load(model, global);
            loss += ClientTrainer.Train(model, images, labels, party, local, random);
            var update = new ClientUpdate(party.Id, ParameterVector.Delta(ParameterVector.Flatten(model), global), party.Rows.Length);
            update.Validate(global.Length);
            updates.Add(update);
        }

        LastLoss = loss / selected.Count;
        var combined = combiner.Combine(updates);
        return server.Apply(global, combined.Delta);
    }
}
