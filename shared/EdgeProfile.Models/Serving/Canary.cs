namespace EdgeProfile.Models.Serving;

/// <summary>
/// What <see cref="ModelHost.TryDeploy(byte[], string, Canary)"/> checks a candidate on before it may serve: every
/// <see cref="Rows"/> row is scored through the single-row path (the one live traffic uses) and must give finite
/// outputs; with a <see cref="Holdout"/>, each labelled task's AUC must not drop more than
/// <see cref="ModelHostOptions.MaxAucDrop"/> below the serving model's on the same rows.
/// </summary>
public sealed class Canary
{
    /// <summary>Creates a canary.</summary>
    /// <param name="rows">Raw feature rows, row-major in the host's feature order; at least one.</param>
    /// <param name="holdout">Labelled rows for the AUC comparison, or null to skip it.</param>
    public Canary(float[] rows, CanaryHoldout? holdout = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Length == 0)
        {
            throw new ArgumentException("a canary needs at least one row", nameof(rows));
        }

        Rows = rows;
        Holdout = holdout;
    }

    /// <summary>Raw feature rows, row-major.</summary>
    public float[] Rows { get; }

    /// <summary>Labelled rows for the AUC comparison, or null.</summary>
    public CanaryHoldout? Holdout { get; }
}
