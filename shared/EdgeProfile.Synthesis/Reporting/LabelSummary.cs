namespace EdgeProfile.Synthesis.Reporting;

/// <summary>The label.</summary>
public sealed record LabelSummary
{
    /// <summary><c>repurchase</c>, <c>churn</c> or <c>spend</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The horizon, e.g. <c>90d</c>.</summary>
    public required string Horizon { get; init; }

    /// <summary>The cutoff when there is one for all rows.</summary>
    public string? Cutoff { get; init; }

    /// <summary>Whether the cutoff was chosen as the time at 75 % of the data's span.</summary>
    public bool CutoffDefaulted { get; init; }

    /// <summary>The cutoffs file when cutoffs are per customer.</summary>
    public string? CutoffsFile { get; init; }

    /// <summary>Label rows: customers with a transaction before their cutoff.</summary>
    public required int Rows { get; init; }

    /// <summary>Share of rows with label 1 (binary labels) or with spend above 0 (spend).</summary>
    public required double BaseRate { get; init; }

    /// <summary>Mean label (equals the base rate for binary labels).</summary>
    public required double Mean { get; init; }

    /// <summary>Entropy of the discretised label, nats: the most MI any feature can reach.</summary>
    public required double Entropy { get; init; }

    /// <summary>The words used in definition descriptions, e.g. <c>repurchase within 90d after 2011-09-07 00:00:00</c>.</summary>
    public required string Text { get; init; }
}
