namespace EdgeProfile.Models.Serving;

/// <summary>A binary task's AUC on the holdout: the candidate's, and the serving model's (null when nothing was
/// serving or it has no such task).</summary>
public sealed record TaskAuc(string Task, double Candidate, double? Serving)
{
    /// <summary>How far the candidate is below the serving model (negative: better), or null.</summary>
    public double? Drop => Serving - Candidate;
}
