namespace EdgeProfile.Models.Serving;

/// <summary>One line of a <see cref="ModelHost"/>'s history.</summary>
/// <param name="At">When it happened (from the host's <see cref="TimeProvider"/>).</param>
/// <param name="Event">Deployed, refused or rolled back.</param>
/// <param name="Version">The version concerned (for a rollback, the one taken out of service).</param>
/// <param name="Message">The reason, as in <see cref="DeployResult.Message"/>.</param>
public sealed record ModelHistoryEntry(DateTimeOffset At, ModelEvent Event, string Version, string Message);
