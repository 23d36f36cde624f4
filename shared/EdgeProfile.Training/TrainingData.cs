namespace EdgeProfile.Training;

/// <summary>
/// Rows for training or evaluation: features <c>[row][feature]</c>, per-task labels <c>[task][row][output]</c> and
/// an optional per-task row mask (false = the row has no label for that task and is left out of its loss), and optional
/// per-task soft targets from a teacher (<see cref="SoftTargets"/>, used only when distillation is switched on).
/// </summary>
public sealed class TrainingData
{
    /// <summary>Creates a data set and checks that every array agrees on the number of rows.</summary>
    public TrainingData(float[][] features, IReadOnlyList<float[][]> labels, IReadOnlyList<bool[]?>? masks = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Length > 0 && features.Any(r => r.Length != features[0].Length))
        {
            throw new ArgumentException("feature rows differ in width", nameof(features));
        }
        for (var t = 0; t < labels.Count; t++)
        {
            if (labels[t].Length != features.Length)
            {
                throw new ArgumentException($"task {t}: {labels[t].Length} label rows for {features.Length} feature rows", nameof(labels));
            }
        }
        if (masks is not null)
        {
            if (masks.Count != labels.Count)
            {
                throw new ArgumentException($"{masks.Count} masks for {labels.Count} tasks", nameof(masks));
            }
            for (var t = 0; t < masks.Count; t++)
            {
                if (masks[t] is { } m && m.Length != features.Length)
                {
                    throw new ArgumentException($"task {t}: mask has {m.Length} rows, features {features.Length}", nameof(masks));
                }
            }
        }
        Features = features;
        Labels = labels;
        Masks = masks;
    }

    /// <summary>Features, <c>[row][feature]</c>, on their raw scale (the trainer standardises them).</summary>
    public float[][] Features { get; }

    /// <summary>Labels per task, <c>[task][row][output]</c>: 0/1 for binary and multi-label, the final-scale target for regression.</summary>
    public IReadOnlyList<float[][]> Labels { get; }

    /// <summary>Optional row mask per task (null, or a null entry = every row counts).</summary>
    public IReadOnlyList<bool[]?>? Masks { get; }

    /// <summary>
    /// Optional teacher probabilities per task, <c>[task][row]</c> in [0, 1] (NaN = no teacher for that row), for binary
    /// tasks: with <see cref="TrainingOptions.Distillation"/> set, the trainer adds a distillation term towards them (see
    /// <see cref="Distillation.DistillationLoss"/>). Null, or a null entry = no teacher for that task. Ignored without
    /// distillation options.
    /// </summary>
    public IReadOnlyList<float[]?>? SoftTargets
    {
        get;
        init
        {
            if (value is not null)
            {
                if (value.Count != Labels.Count)
                {
                    throw new ArgumentException($"{value.Count} soft-target entries for {Labels.Count} tasks", nameof(SoftTargets));
                }
                for (var t = 0; t < value.Count; t++)
                {
                    if (value[t] is not { } s)
                    {
                        continue;
                    }
                    if (s.Length != Features.Length)
                    {
                        throw new ArgumentException($"task {t}: {s.Length} soft targets for {Features.Length} rows", nameof(SoftTargets));
                    }
                    if (s.Any(p => p is < 0 or > 1))
                    {
                        throw new ArgumentException($"task {t}: soft targets must be probabilities in [0, 1] (or NaN)", nameof(SoftTargets));
                    }
                }
            }
            field = value;
        }
    }

    /// <summary>Number of rows.</summary>
    public int Rows => Features.Length;

    /// <summary>Number of features (0 when there are no rows).</summary>
    public int Width => Features.Length == 0 ? 0 : Features[0].Length;

    /// <summary>Whether row <paramref name="row"/> has a label for task <paramref name="task"/>.</summary>
    public bool IsLabelled(int task, int row) => Masks?[task] is not { } m || m[row];

    /// <summary>The rows at <paramref name="indices"/>, in that order (features and labels are shared, not copied).</summary>
    public TrainingData Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var features = indices.Select(i => Features[i]).ToArray();
        var labels = Labels.Select(l => indices.Select(i => l[i]).ToArray()).ToArray();
        var masks = Masks?.Select(m => m is null ? null : indices.Select(i => m[i]).ToArray()).ToArray();
        var soft = SoftTargets?.Select(s => s is null ? null : indices.Select(i => s[i]).ToArray()).ToArray();
        return new TrainingData(features, labels, masks) { SoftTargets = soft };
    }

    /// <summary>The same rows (features, labels and masks shared) with <paramref name="softTargets"/> as the teacher's targets.</summary>
    public TrainingData WithSoftTargets(IReadOnlyList<float[]?>? softTargets) =>
        new(Features, Labels, Masks) { SoftTargets = softTargets };
}
