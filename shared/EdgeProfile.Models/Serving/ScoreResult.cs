using EdgeProfile.Models.Scoring;

namespace EdgeProfile.Models.Serving;

/// <summary>One row's outputs and the model that produced all of them.</summary>
public sealed class ScoreResult
{
    private readonly float[] values;

    internal ScoreResult(ServedModel model, float[] values)
    {
        Model = model;
        this.values = values;
    }

    /// <summary>The model that produced every value here (its session may since have been disposed; its version,
    /// metadata and outputs stay readable).</summary>
    public ServedModel Model { get; }

    /// <summary>Version of <see cref="Model"/>.</summary>
    public string Version => Model.Version;

    /// <summary>Output layout, in model order.</summary>
    public IReadOnlyList<ScorerOutput> Outputs => Model.Outputs;

    /// <summary>All outputs concatenated in model order.</summary>
    public ReadOnlySpan<float> Values => values;

    /// <summary>The values of output <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Output(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Model.Outputs.Count);
        return values.AsSpan(Model.Offset(index), Model.Outputs[index].Width);
    }

    /// <summary>The values of the output (task) named <paramref name="task"/>.</summary>
    /// <exception cref="KeyNotFoundException">The model has no such output.</exception>
    public ReadOnlySpan<float> Output(string task)
    {
        int index = Model.IndexOf(task);
        if (index < 0)
        {
            throw new KeyNotFoundException(
                $"model {Version} has no output '{task}'; it has [{string.Join(", ", Model.Outputs.Select(o => o.Name))}]");
        }

        return Output(index);
    }
}
