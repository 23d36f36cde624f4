namespace EdgeProfile.Hub.Operators;

/// <summary>
/// The roles of the operator web UI. A viewer reads everything but changes nothing; an operator also publishes rules,
/// deploys models, runs federated jobs, edits segments, erases and unmerges; an admin also manages accounts and reads the
/// audit log. A partner user sees only the federated jobs its partner took part in, and no customer.
/// </summary>
public static class OperatorRoles
{
    /// <summary>Reads every page; changes nothing.</summary>
    public const string Viewer = "viewer";

    /// <summary>Viewer plus every change to rules, models, jobs, segments and customers.</summary>
    public const string Operator = "operator";

    /// <summary>Operator plus accounts and the audit log.</summary>
    public const string Admin = "admin";

    /// <summary>A partner brand's user: its own federated jobs only.</summary>
    public const string Partner = "partner";

    /// <summary>Every role, lowest first.</summary>
    public static readonly IReadOnlyList<string> All = [Viewer, Operator, Admin, Partner];

    /// <summary>Roles that may change things (for <c>[Authorize(Roles = ...)]</c>).</summary>
    public const string Changers = Operator + "," + Admin;

    /// <summary>Roles that may read the chain's own data (customers, fleet, rules, models, graph, segments).</summary>
    public const string Staff = Viewer + "," + Operator + "," + Admin;

    /// <summary>The role named by <paramref name="text"/> (any case), or null.</summary>
    public static string? Normalize(string? text) =>
        All.FirstOrDefault(r => string.Equals(r, text?.Trim(), StringComparison.OrdinalIgnoreCase));
}
