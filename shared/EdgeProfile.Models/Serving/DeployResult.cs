namespace EdgeProfile.Models.Serving;

/// <summary>The outcome of <see cref="ModelHost.TryDeploy(byte[], string, Canary)"/>.</summary>
/// <param name="Version">The candidate's version.</param>
/// <param name="Accepted">True when the candidate now serves.</param>
/// <param name="Failure">Why it was refused, or null when accepted.</param>
/// <param name="Message">One line saying what happened, e.g. <c>model v7 refused: task churn produced NaN on canary
/// row 3</c> or <c>model v7 deployed, replacing v6: 32 canary rows finite; churn AUC 0.8123 (v6: 0.8011)</c>.</param>
/// <param name="Aucs">The holdout AUCs measured (empty without a holdout or when refused before measuring).</param>
public sealed record DeployResult(string Version, bool Accepted, DeployFailure? Failure, string Message, IReadOnlyList<TaskAuc> Aucs)
{
    /// <inheritdoc />
    public override string ToString() => Message;
}
