namespace EdgeProfile.Training.Distillation;

/// <summary>
/// Knowledge distillation settings for <see cref="MmoeTrainer"/> (<see cref="TrainingOptions.Distillation"/>): the
/// temperature both the student's logit and the teacher's target are softened with, and the weight of the teacher's
/// term in each taught task's loss (see <see cref="DistillationLoss"/>).
/// </summary>
public sealed record DistillationOptions
{
    /// <summary>Temperature <c>T</c> &gt; 0 (default 2); 1 compares the raw probabilities.</summary>
    public double Temperature { get; init; } = 2;

    /// <summary>
    /// Weight <c>α</c> in [0, 1] of the teacher's term (default 0.5): the task loss is
    /// <c>(1 − α)·BCE(y, σ(z)) + α·T²·BCE(σ(logit(p)/T), σ(z/T))</c>. 0 = labels only (training is then exactly the
    /// training without distillation); 1 = the teacher only.
    /// </summary>
    public double Alpha { get; init; } = 0.5;

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        if (!(Temperature > 0) || double.IsInfinity(Temperature) || Alpha is < 0 or > 1 || double.IsNaN(Alpha))
        {
            throw new ArgumentOutOfRangeException(nameof(DistillationOptions), this, "distillation needs a finite temperature > 0 and alpha in [0, 1]");
        }
    }
}
