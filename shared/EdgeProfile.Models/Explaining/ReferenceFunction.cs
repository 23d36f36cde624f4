using EdgeProfile.Models.Reference;

namespace EdgeProfile.Models.Explaining;

/// <summary>
/// A <see cref="ReferenceModel"/> as an <see cref="IExplainedFunction"/>: rows of raw feature values scored one by one
/// in double precision (each row converted to float, as the model's input is), outputs flattened task by task, each
/// task's outputs in order. Slow but exact: the definition the faster explainable functions are tested against.
/// </summary>
public sealed class ReferenceFunction : IExplainedFunction
{
    private readonly ReferenceModel model;

    /// <summary>Explains <paramref name="model"/>.</summary>
    public ReferenceFunction(ReferenceModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        this.model = model;
        Inputs = model.Spec.Inputs;
        Outputs = model.Spec.Tasks.Sum(t => t.Outputs);
    }

    /// <inheritdoc />
    public int Inputs { get; }

    /// <inheritdoc />
    public int Outputs { get; }

    /// <inheritdoc />
    public void Evaluate(ReadOnlySpan<double> rows, Span<double> outputs)
    {
        if (rows.Length % Inputs != 0 || outputs.Length != rows.Length / Inputs * Outputs)
        {
            throw new ArgumentException(
                $"{rows.Length} values are not whole rows of {Inputs} features for {outputs.Length / Outputs} rows of outputs", nameof(rows));
        }

        var row = new float[Inputs];
        int count = rows.Length / Inputs;
        for (int r = 0; r < count; r++)
        {
            var source = rows.Slice(r * Inputs, Inputs);
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = (float)source[i];
            }

            var target = outputs.Slice(r * Outputs, Outputs);
            int at = 0;
            foreach (var task in model.Forward(row))
            {
                task.CopyTo(target[at..]);
                at += task.Length;
            }
        }
    }
}
