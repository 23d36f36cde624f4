namespace EdgeProfile.Synthesis.Selection;

/// <summary>Why selection dropped a candidate.</summary>
public enum DropReason
{
    /// <summary>More values missing than the allowed share.</summary>
    MostlyNull,

    /// <summary>Every present value is the same.</summary>
    Constant,

    /// <summary>|Pearson r| above the limit with a better-ranked feature that was kept.</summary>
    Correlated,
}
