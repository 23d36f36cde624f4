namespace EdgeProfile.Models.Explaining;

/// <summary>Any scorer as an <see cref="IExplainedFunction"/>: a delegate that evaluates a batch of rows.</summary>
public sealed class DelegateFunction(int inputs, int outputs, DelegateFunction.BatchEvaluator evaluate) : IExplainedFunction
{
    /// <summary>Evaluates rows (row-major, <c>n × inputs</c>) into outputs (<c>n × outputs</c>).</summary>
    public delegate void BatchEvaluator(ReadOnlySpan<double> rows, Span<double> outputs);

    /// <inheritdoc />
    public int Inputs { get; } = inputs > 0 ? inputs : throw new ArgumentOutOfRangeException(nameof(inputs));

    /// <inheritdoc />
    public int Outputs { get; } = outputs > 0 ? outputs : throw new ArgumentOutOfRangeException(nameof(outputs));

    /// <inheritdoc />
    public void Evaluate(ReadOnlySpan<double> rows, Span<double> outputs) => evaluate(rows, outputs);

    /// <summary>A scalar function of one row.</summary>
    public static DelegateFunction Scalar(int inputs, Func<double[], double> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return new DelegateFunction(inputs, 1, (rows, outputs) =>
        {
            var row = new double[inputs];
            for (int r = 0; r < outputs.Length; r++)
            {
                rows.Slice(r * inputs, inputs).CopyTo(row);
                outputs[r] = f(row);
            }
        });
    }
}
