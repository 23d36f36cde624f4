using EdgeProfile.Models;

namespace EdgeProfile.Training.Pipeline;

/// <summary>
/// A model head trained from one label column: <c>Purchase</c> → binary <c>repurchase_{horizon}</c>,
/// <c>NoPurchase</c> → binary <c>churn_{horizon}</c>, <c>Spend</c> → regression <c>ltv_{horizon}</c> on log1p(spend).
/// A label of another kind is binary when all its values are 0/1, else a log1p regression, named after the label.
/// </summary>
public sealed record PipelineTask(string Name, string Label, TaskKind Kind, bool Log1p)
{
    /// <summary>The head's spec.</summary>
    public TaskSpec Spec => new(Name, Kind);

    /// <summary>The training target of a raw label value.</summary>
    public float Target(float raw) => Log1p ? (float)Math.Log(1 + Math.Max(0, (double)raw)) : raw;

    /// <summary>The tasks for every label of <paramref name="set"/>, in label order.</summary>
    public static IReadOnlyList<PipelineTask> From(TrainingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var tasks = new List<PipelineTask>();
        for (var l = 0; l < set.Labels.Count; l++)
        {
            var label = set.Labels[l];
            var horizon = label.Horizon.Length > 0 ? "_" + label.Horizon : "";
            tasks.Add(label.Kind switch
            {
                "Purchase" => new PipelineTask("repurchase" + horizon, label.Name, TaskKind.Binary, false),
                "NoPurchase" => new PipelineTask("churn" + horizon, label.Name, TaskKind.Binary, false),
                "Spend" => new PipelineTask("ltv" + horizon, label.Name, TaskKind.Regression, true),
                _ => set.Y[l].All(v => v is 0f or 1f)
                    ? new PipelineTask(label.Name, label.Name, TaskKind.Binary, false)
                    : new PipelineTask(label.Name, label.Name, TaskKind.Regression, true),
            });
        }

        var duplicate = tasks.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null
            ? tasks
            : throw new PipelineException($"labels {string.Join(" and ", duplicate.Select(t => t.Label))} both map to task {duplicate.Key}");
    }
}
