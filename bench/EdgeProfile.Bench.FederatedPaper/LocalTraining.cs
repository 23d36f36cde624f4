namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>
/// A client's local optimisation: SGD with <see cref="Momentum"/> and L2 <see cref="WeightDecay"/> (as
/// <c>torch.optim.SGD</c>), <see cref="Epochs"/> passes over its rows in shuffled batches of <see cref="BatchSize"/>
/// (the last batch may be short, as PyTorch's DataLoader with <c>drop_last=False</c>), and FedProx's proximal weight
/// <see cref="Mu"/> (0 = FedAvg).
/// </summary>
internal sealed record LocalTraining(double LearningRate, double Momentum, double WeightDecay, int Epochs, int BatchSize, double Mu = 0);
