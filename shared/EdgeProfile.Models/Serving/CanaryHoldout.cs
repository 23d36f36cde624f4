namespace EdgeProfile.Models.Serving;

/// <summary>
/// Local labelled rows a candidate's AUC is measured on, against the serving model's AUC on the same rows.
/// Each label array is for one binary task (the model's output of that name, width 1) and has one label per row.
/// </summary>
public sealed class CanaryHoldout
{
    /// <summary>Creates a holdout.</summary>
    /// <param name="rows">Raw feature rows, row-major in the host's feature order.</param>
    /// <param name="labels">Per binary task name, one label per row; each must hold both classes (else AUC is undefined).</param>
    public CanaryHoldout(float[] rows, IReadOnlyDictionary<string, bool[]> labels)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0)
        {
            throw new ArgumentException("a holdout needs labels for at least one binary task", nameof(labels));
        }

        foreach (var (task, values) in labels)
        {
            if (values is null || !values.Contains(true) || !values.Contains(false))
            {
                throw new ArgumentException($"holdout labels of task {task} must hold both classes, or AUC is undefined", nameof(labels));
            }
        }

        Rows = rows;
        Labels = labels;
    }

    /// <summary>Raw feature rows, row-major.</summary>
    public float[] Rows { get; }

    /// <summary>Labels per binary task name, one per row.</summary>
    public IReadOnlyDictionary<string, bool[]> Labels { get; }
}
