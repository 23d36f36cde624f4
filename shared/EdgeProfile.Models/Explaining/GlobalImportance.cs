namespace EdgeProfile.Models.Explaining;

/// <summary>
/// Global feature-group importance: the mean absolute attribution over many rows (shap's summary bar chart), per
/// output and group.
/// </summary>
public static class GlobalImportance
{
    /// <summary>Mean <c>|φ|</c> over rows, <c>[output][group]</c>.</summary>
    /// <param name="perRow">Each row's attributions, one per output (as <see cref="ExactShapley.Explain"/> returns).</param>
    /// <exception cref="ArgumentException">No row, or rows disagree on outputs or groups.</exception>
    public static double[][] MeanAbsolute(IReadOnlyList<Attribution[]> perRow)
    {
        ArgumentNullException.ThrowIfNull(perRow);
        if (perRow.Count == 0 || perRow[0] is null || perRow[0].Length == 0)
        {
            throw new ArgumentException("global importance needs at least one row with at least one output", nameof(perRow));
        }

        int outputs = perRow[0].Length;
        var groups = perRow[0].Select(a => a.Values.Length).ToArray();
        var mean = groups.Select(g => new double[g]).ToArray();
        for (int r = 0; r < perRow.Count; r++)
        {
            var row = perRow[r];
            if (row is null || row.Length != outputs)
            {
                throw new ArgumentException($"row {r} has {row?.Length ?? 0} outputs, row 0 has {outputs}", nameof(perRow));
            }

            for (int o = 0; o < outputs; o++)
            {
                var values = row[o].Values;
                if (values.Length != groups[o])
                {
                    throw new ArgumentException(
                        $"row {r}, output {o} has {values.Length} groups, row 0 has {groups[o]}", nameof(perRow));
                }

                for (int g = 0; g < values.Length; g++)
                {
                    mean[o][g] += Math.Abs(values[g]);
                }
            }
        }

        foreach (var output in mean)
        {
            for (int g = 0; g < output.Length; g++)
            {
                output[g] /= perRow.Count;
            }
        }

        return mean;
    }

    /// <summary>
    /// Mean <c>|φ|</c> over <paramref name="rows"/> (row-major, whole rows of <c>function.Inputs</c>): exact Shapley
    /// values when there are at most <see cref="ExactShapley.MaxGroups"/> groups, else KernelSHAP (seed 0).
    /// </summary>
    /// <exception cref="ArgumentException">No rows, partial rows, or widths disagree.</exception>
    public static double[][] Compute(IExplainedFunction function, ReadOnlySpan<double> rows, Background background, FeatureGroups groups)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(groups);
        int inputs = function.Inputs;
        if (rows.Length == 0 || rows.Length % inputs != 0)
        {
            throw new ArgumentException($"{rows.Length} values are not one or more whole rows of {inputs} features", nameof(rows));
        }

        bool exact = groups.Count <= ExactShapley.MaxGroups;
        var options = new KernelShapOptions { Seed = 0 };
        var perRow = new List<Attribution[]>(rows.Length / inputs);
        for (int start = 0; start < rows.Length; start += inputs)
        {
            var x = rows.Slice(start, inputs);
            perRow.Add(exact
                ? ExactShapley.Explain(function, x, background, groups)
                : KernelShap.Explain(function, x, background, groups, options));
        }

        return MeanAbsolute(perRow);
    }
}
