namespace EdgeProfile.Hub.Operators;

/// <summary>A local account of the operator web UI, as the API lists it (never with its password hash).</summary>
/// <param name="Name">The sign-in name.</param>
/// <param name="Role">One of <see cref="OperatorRoles.All"/>.</param>
/// <param name="Partner">For role partner: the partner's client id (its enrolled id); otherwise null.</param>
/// <param name="CreatedAt">When the account was created.</param>
/// <param name="Disabled">A disabled account cannot sign in.</param>
public sealed record OperatorAccount(string Name, string Role, string? Partner, DateTimeOffset CreatedAt, bool Disabled);
