namespace EdgeProfile.Training.Census;

/// <summary>Test AUC of one model on one task: mean and sample standard deviation over the seeds, and each seed's value.</summary>
public sealed record CensusEvaluationRow(string Model, string Task, double MeanAuc, double StdAuc, IReadOnlyList<double> Aucs);
