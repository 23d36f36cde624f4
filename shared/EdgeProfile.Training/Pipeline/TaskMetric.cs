namespace EdgeProfile.Training.Pipeline;

/// <summary>
/// One model's test metric on one task: <c>auc</c> for binary tasks, <c>rmse_log1p</c> for regression (on the log1p
/// scale); null when undefined (a test split with one class). <paramref name="Rows"/> = test rows scored.
/// </summary>
public sealed record TaskMetric(string Task, string Label, string Metric, double? Value, int Rows);
