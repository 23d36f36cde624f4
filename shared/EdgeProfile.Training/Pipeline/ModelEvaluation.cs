namespace EdgeProfile.Training.Pipeline;

/// <summary>Test metrics of one model (e.g. <c>mmoe</c>, <c>mmoe_int8</c>, <c>logistic_regression</c>), one per task.</summary>
public sealed record ModelEvaluation(string Model, IReadOnlyList<TaskMetric> Tasks)
{
    /// <summary>The metric of <paramref name="task"/>.</summary>
    public TaskMetric this[string task] => Tasks.Single(t => t.Task == task);
}
