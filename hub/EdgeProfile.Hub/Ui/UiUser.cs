using System.Security.Claims;
using EdgeProfile.Hub.Operators;

namespace EdgeProfile.Hub.Ui;

/// <summary>What the UI reads from a signed-in user's claims.</summary>
internal static class UiUser
{
    /// <summary>The claim holding a partner user's client id.</summary>
    public const string PartnerClaim = "ep:partner";

    /// <summary>The user's role (empty when signed out).</summary>
    public static string Role(ClaimsPrincipal user) => user.FindFirst(ClaimTypes.Role)?.Value ?? "";

    /// <summary>A partner user's client id, or null.</summary>
    public static string? Partner(ClaimsPrincipal user) => user.FindFirst(PartnerClaim)?.Value;

    /// <summary>Operator or admin: may change things.</summary>
    public static bool CanChange(ClaimsPrincipal user) => user.IsInRole(OperatorRoles.Operator) || user.IsInRole(OperatorRoles.Admin);

    /// <summary>Admin.</summary>
    public static bool IsAdmin(ClaimsPrincipal user) => user.IsInRole(OperatorRoles.Admin);

    /// <summary>A partner brand's user.</summary>
    public static bool IsPartner(ClaimsPrincipal user) => user.IsInRole(OperatorRoles.Partner);

    /// <summary>The principal of a signed-in account.</summary>
    public static ClaimsPrincipal For(OperatorAccount account, string scheme)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, account.Name), new(ClaimTypes.Role, account.Role) };
        if (account.Partner is not null)
        {
            claims.Add(new Claim(PartnerClaim, account.Partner));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }
}
