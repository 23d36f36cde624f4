namespace EdgeProfile.Cli.HubApi;

/// <summary>Explanations: each store's explained decisions on a customer, and a model version's global importance.</summary>
public sealed partial class HubRestClient
{
    /// <summary><c>GET /api/profiles/{key}/explanations</c> as JSON (a 404 is an error naming what is missing).</summary>
    public async Task<string> GetExplanationsAsync(string customerKey, string? task, string? lang, string? store, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(customerKey);
        var query = Query(("task", task), ("lang", lang), ("store", store));
        var path = $"api/profiles/{Uri.EscapeDataString(customerKey)}/explanations{query}";
        return (await SendAsync(HttpMethod.Get, path, null, $"explain {customerKey}", cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary><c>GET /api/models/{version}/importance</c> as JSON.</summary>
    public async Task<string> GetImportanceAsync(string version, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        var path = $"api/models/{Uri.EscapeDataString(version)}/importance";
        return (await SendAsync(HttpMethod.Get, path, null, $"get the importance of model {version}", cancellationToken).ConfigureAwait(false))!;
    }

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var parts = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }
}
