namespace EdgeProfile.Models;

/// <summary>Checks that a <see cref="ModelWeights"/> is consistent with its <see cref="ModelSpec"/> before it is used.</summary>
public static class ModelWeightsValidator
{
    /// <summary>
    /// Throws <see cref="InvalidDataException"/> naming the first inconsistency: feature and task names, standardisation
    /// vectors (finite, std &gt; 0), expert/gate/tower layer counts and shapes, and non-finite parameters.
    /// With one expert the gates are not used; they may be absent or one <c>[Inputs x 1]</c> layer per task.
    /// </summary>
    public static void Validate(this ModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var spec = weights.Spec ?? throw new InvalidDataException("model weights: spec is missing");
        int inputs = spec.Inputs;
        if (inputs == 0)
        {
            throw new InvalidDataException("spec: at least one feature is required");
        }

        RequireUniqueNames(spec.Features, "feature");
        if (weights.Log1p is { } log1p && log1p.Count != inputs)
        {
            throw new InvalidDataException($"log1p: {log1p.Count} flags for {inputs} features");
        }

        if (spec.Experts < 1)
        {
            throw new InvalidDataException($"spec: experts must be >= 1, got {spec.Experts}");
        }

        RequirePositive(spec.ExpertHidden, "expert hidden width");
        RequirePositive(spec.TowerHidden, "tower hidden width");
        if (spec.Tasks.Count == 0)
        {
            throw new InvalidDataException("spec: at least one task is required");
        }

        RequireUniqueNames(spec.Tasks.Select(t => t.Name).ToList(), "task");
        foreach (var task in spec.Tasks)
        {
            if (task.Kind == TaskKind.MultiLabel && (task.Labels is null || task.Labels.Count == 0))
            {
                throw new InvalidDataException($"task {task.Name}: multi-label needs at least one label");
            }
        }

        RequireStandardisation(weights, spec);

        if (weights.Experts.Count != spec.Experts)
        {
            throw new InvalidDataException($"experts: spec says {spec.Experts}, weights have {weights.Experts.Count}");
        }

        for (int e = 0; e < spec.Experts; e++)
        {
            var layers = weights.Experts[e];
            if (layers.Count != spec.ExpertHidden.Count)
            {
                throw new InvalidDataException($"expert {e}: spec says {spec.ExpertHidden.Count} layers, weights have {layers.Count}");
            }

            int width = inputs;
            for (int l = 0; l < layers.Count; l++)
            {
                RequireLayer(layers[l], $"expert {e} layer {l}", width, spec.ExpertHidden[l]);
                width = spec.ExpertHidden[l];
            }
        }

        if (spec.Experts > 1 || weights.Gates.Count > 0)
        {
            if (weights.Gates.Count != spec.Tasks.Count)
            {
                throw new InvalidDataException($"gates: expected one per task ({spec.Tasks.Count}), got {weights.Gates.Count}");
            }

            for (int t = 0; t < spec.Tasks.Count; t++)
            {
                RequireLayer(weights.Gates[t], $"gate of task {spec.Tasks[t].Name}", inputs, spec.Experts);
            }
        }

        if (weights.Towers.Count != spec.Tasks.Count)
        {
            throw new InvalidDataException($"towers: expected one per task ({spec.Tasks.Count}), got {weights.Towers.Count}");
        }

        for (int t = 0; t < spec.Tasks.Count; t++)
        {
            var task = spec.Tasks[t];
            var layers = weights.Towers[t];
            if (layers.Count != spec.TowerHidden.Count + 1)
            {
                throw new InvalidDataException($"tower of task {task.Name}: spec says {spec.TowerHidden.Count + 1} layers, weights have {layers.Count}");
            }

            int width = spec.ExpertOutputs;
            for (int l = 0; l < layers.Count; l++)
            {
                int outputs = l < spec.TowerHidden.Count ? spec.TowerHidden[l] : task.Outputs;
                RequireLayer(layers[l], $"tower of task {task.Name} layer {l}", width, outputs);
                width = outputs;
            }
        }
    }

    private static void RequireStandardisation(ModelWeights weights, ModelSpec spec)
    {
        if (weights.Mean is null || weights.Std is null || weights.Mean.Length != spec.Inputs || weights.Std.Length != spec.Inputs)
        {
            throw new InvalidDataException(
                $"standardisation: expected Mean and Std of {spec.Inputs} values, got {weights.Mean?.Length ?? 0} and {weights.Std?.Length ?? 0}");
        }

        for (int i = 0; i < spec.Inputs; i++)
        {
            if (!float.IsFinite(weights.Mean[i]))
            {
                throw new InvalidDataException($"standardisation: mean of feature {spec.Features[i]} is {weights.Mean[i]}");
            }

            // A constant training column gives std 0; the trainer must replace it (e.g. by 1) rather than divide by zero here.
            if (!float.IsFinite(weights.Std[i]) || weights.Std[i] <= 0)
            {
                throw new InvalidDataException($"standardisation: std of feature {spec.Features[i]} is {weights.Std[i]}; it must be finite and > 0");
            }
        }
    }

    private static void RequireLayer(DenseWeights? layer, string name, int inputs, int outputs)
    {
        if (layer is null)
        {
            throw new InvalidDataException($"{name}: missing");
        }

        if (layer.In != inputs || layer.Out != outputs)
        {
            throw new InvalidDataException($"{name}: expected shape [{inputs}x{outputs}], got [{layer.In}x{layer.Out}]");
        }

        if (layer.W is null || layer.B is null)
        {
            throw new InvalidDataException($"{name}: W or B is missing");
        }

        layer.Validate(name);
        RequireFinite(layer.W, name + " W");
        RequireFinite(layer.B, name + " B");
    }

    private static void RequireFinite(float[] values, string name)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new InvalidDataException($"{name}: value {i} is {values[i]}");
            }
        }
    }

    private static void RequirePositive(IReadOnlyList<int> widths, string what)
    {
        for (int i = 0; i < widths.Count; i++)
        {
            if (widths[i] <= 0)
            {
                throw new InvalidDataException($"spec: {what} {i} is {widths[i]}; it must be > 0");
            }
        }
    }

    private static void RequireUniqueNames(IReadOnlyList<string> names, string what)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new InvalidDataException($"spec: a {what} name is empty");
            }

            if (!seen.Add(name))
            {
                throw new InvalidDataException($"spec: {what} name '{name}' appears twice");
            }
        }
    }
}
