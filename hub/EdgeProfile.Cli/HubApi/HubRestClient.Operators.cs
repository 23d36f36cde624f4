using System.Globalization;
using System.Net.Http.Json;

namespace EdgeProfile.Cli.HubApi;

/// <summary>The web UI's accounts and the audit log.</summary>
public sealed partial class HubRestClient
{
    /// <summary><c>POST /api/operators</c>: creates an account; the hub's JSON answer.</summary>
    public async Task<string> CreateOperatorAsync(string name, string role, string password, string? partner, CancellationToken cancellationToken)
    {
        using var body = JsonContent.Create(new { name, role, password, partner });
        return (await SendAsync(HttpMethod.Post, "api/operators", body, $"create account {name}", cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary><c>PUT /api/operators/{name}</c>: changes role, password or disabled (null: unchanged); null when there is no such account.</summary>
    public async Task<string?> UpdateOperatorAsync(string name, string? role, string? password, bool? disabled, CancellationToken cancellationToken)
    {
        using var body = JsonContent.Create(new { role, password, disabled });
        return await SendAsync(HttpMethod.Put, "api/operators/" + Uri.EscapeDataString(name), body, $"change account {name}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
    }

    /// <summary><c>GET /api/operators</c> as JSON.</summary>
    public async Task<string> ListOperatorsAsync(CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Get, "api/operators", null, "list accounts", cancellationToken).ConfigureAwait(false))!;

    /// <summary><c>GET /api/audit?limit=N</c> as JSON, newest first.</summary>
    public async Task<string> GetAuditAsync(int limit, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"api/audit?limit={limit}"), null, "read the audit log", cancellationToken).ConfigureAwait(false))!;
}
