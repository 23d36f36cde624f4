namespace EdgeProfile.Training.Census;

/// <summary>Test AUC of one model on one task: mean and sample standard deviation over the seeds, and each seed's value.</summary>
public sealed record CensusEvaluationRow(string Model, string Task, double MeanAuc, double StdAuc, IReadOnlyList<double> Aucs)
{
    /// <summary>Each seed's AUC on its validation rows (held out of <c>adult.data</c>; what configurations are chosen on).</summary>
    public IReadOnlyList<double> ValidationAucs { get; init; } = [];

    /// <summary>Mean of <see cref="ValidationAucs"/> (NaN when there are none).</summary>
    public double ValidationMeanAuc => ValidationAucs.Count == 0 ? double.NaN : ValidationAucs.Average();
}
