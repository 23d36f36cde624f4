namespace EdgeProfile.Synthesis.Reporting;

/// <summary>What was read.</summary>
public sealed record InputSummary
{
    /// <summary>The CSV path.</summary>
    public required string Csv { get; init; }

    /// <summary>The mapping path, if from a file.</summary>
    public string? Mapping { get; init; }

    /// <summary>Data rows read.</summary>
    public required int RowsRead { get; init; }

    /// <summary>Rows loaded as transactions.</summary>
    public required int RowsLoaded { get; init; }

    /// <summary>Rows skipped for an empty customer.</summary>
    public required int RowsSkipped { get; init; }

    /// <summary>Rows whose product had no category in the join file.</summary>
    public int RowsWithoutJoinedCategory { get; init; }

    /// <summary>Distinct customers.</summary>
    public required int Customers { get; init; }

    /// <summary>Distinct products.</summary>
    public required int Products { get; init; }

    /// <summary>Distinct category paths.</summary>
    public int Categories { get; init; }

    /// <summary>Distinct stores.</summary>
    public int Stores { get; init; }

    /// <summary>Earliest transaction.</summary>
    public required string From { get; init; }

    /// <summary>Latest transaction.</summary>
    public required string To { get; init; }
}
