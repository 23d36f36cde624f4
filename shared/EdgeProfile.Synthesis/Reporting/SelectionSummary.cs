namespace EdgeProfile.Synthesis.Reporting;

/// <summary>Counts of the run.</summary>
public sealed record SelectionSummary
{
    /// <summary>DFS depth.</summary>
    public required int Depth { get; init; }

    /// <summary>Windows besides all history.</summary>
    public required IReadOnlyList<string> Windows { get; init; }

    /// <summary>Candidate features generated.</summary>
    public required int Candidates { get; init; }

    /// <summary>Candidates dropped, by reason (<c>mostly_null</c>, <c>constant</c>, <c>correlated</c>).</summary>
    public required IReadOnlyDictionary<string, int> DroppedByReason { get; init; }

    /// <summary>Candidates kept and ranked.</summary>
    public required int Kept { get; init; }

    /// <summary>Features selected.</summary>
    public required int Selected { get; init; }

    /// <summary>Selected features registered as stream definitions.</summary>
    public required int Registered { get; init; }

    /// <summary>Limit on the missing share.</summary>
    public required double MaxMissing { get; init; }

    /// <summary>Limit on |r|.</summary>
    public required double MaxCorrelation { get; init; }

    /// <summary>How many were to be selected.</summary>
    public required int Top { get; init; }
}
