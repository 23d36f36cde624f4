namespace EdgeProfile.Core.Features;

/// <summary>What <see cref="FeatureEngine.Process"/> did with an event.</summary>
public enum EventOutcome
{
    /// <summary>The event updated every definition that accepts it and advanced its source's watermark.</summary>
    Accepted,

    /// <summary>
    /// The event is older than the watermark minus the allowed lateness; it changed nothing (no state, no watermark)
    /// and belongs in the late side output.
    /// </summary>
    Late,
}
