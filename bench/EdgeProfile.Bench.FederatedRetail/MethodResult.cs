namespace EdgeProfile.Bench.FederatedRetail;

/// <summary>
/// Test AUC of one method and seed, per task: on the union of all partitions' test rows, per partition, and (local-only
/// models) the mean over the local models of their AUC on all test rows; with the wall time of training.
/// </summary>
internal sealed record MethodResult(string Method, double[] UnionAuc, double[][] PartitionAuc, double[]? LocalOnUnionAuc, double Seconds);
