namespace EdgeProfile.Models.Serving;

/// <summary>What happened to a model version in a <see cref="ModelHost"/>.</summary>
public enum ModelEvent
{
    /// <summary>It passed the canary and started serving.</summary>
    Deployed,

    /// <summary>It failed a check and never served.</summary>
    Refused,

    /// <summary>It was taken out of service by <see cref="ModelHost.Rollback"/> and the previous model serves again.</summary>
    RolledBack,
}
