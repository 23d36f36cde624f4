namespace EdgeProfile.Models.Explaining;

/// <summary>
/// One task of a multi-task model as a model of its own (the shared experts, that task's gate and tower): the same
/// outputs for that task, at a fraction of the cost when only its decision is explained.
/// </summary>
public static class TaskSubset
{
    /// <summary>The model computing only <paramref name="task"/>.</summary>
    /// <exception cref="ArgumentException">The model has no such task.</exception>
    public static ModelWeights Of(ModelWeights weights, string task)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var spec = weights.Spec;
        int t = spec.Tasks.ToList().FindIndex(s => string.Equals(s.Name, task, StringComparison.Ordinal));
        if (t < 0)
        {
            throw new ArgumentException($"the model has no task '{task}' (tasks: {string.Join(", ", spec.Tasks.Select(s => s.Name))})", nameof(task));
        }

        return new ModelWeights(spec with { Tasks = [spec.Tasks[t]] }, weights.Mean, weights.Std, weights.Experts,
            spec.Experts == 1 ? weights.Gates : [weights.Gates[t]], [weights.Towers[t]])
        {
            Log1p = weights.Log1p,
        };
    }
}
