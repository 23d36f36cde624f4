namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>A client: its rows of the training set and the standard deviation of the Gaussian noise added to its inputs.</summary>
internal sealed record Party(string Id, int[] Rows, float NoiseStd = 0);
