namespace EdgeProfile.Hub.Operators;

/// <summary>One change in the audit log.</summary>
/// <param name="Seq">Position in the log (increasing).</param>
/// <param name="At">When the change was answered.</param>
/// <param name="Actor">Who: <c>ui:NAME (role)</c> for the web UI, <c>operator-token</c> for the REST API and CLI.</param>
/// <param name="Action">What: the method and the API path, e.g. <c>POST /api/rules/publish</c>.</param>
/// <param name="Target">On what, when the request names it (a customer key, model version, job id ...).</param>
/// <param name="Status">The HTTP status the change was answered with (a refused change is logged too).</param>
/// <param name="Detail">A short description, e.g. the error of a refused change.</param>
public sealed record AuditEntry(long Seq, DateTimeOffset At, string Actor, string Action, string Target, int Status, string Detail);
