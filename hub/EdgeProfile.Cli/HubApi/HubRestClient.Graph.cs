namespace EdgeProfile.Cli.HubApi;

/// <summary>The knowledge graph: queries and imports.</summary>
public sealed partial class HubRestClient
{
    /// <summary><c>POST /api/graph/query</c>: the rows as JSON.</summary>
    public async Task<string> GraphQueryAsync(string query, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        using var body = new StringContent(System.Text.Json.JsonSerializer.Serialize(new { query }), System.Text.Encoding.UTF8, "application/json");
        return (await SendAsync(HttpMethod.Post, "api/graph/query", body, "run the graph query", cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary><c>POST /api/graph/import/{kind}</c> with a file's text: the import's figures as JSON.</summary>
    public async Task<string> GraphImportAsync(string kind, string text, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        using var body = new StringContent(text, System.Text.Encoding.UTF8, "text/plain");
        return (await SendAsync(HttpMethod.Post, "api/graph/import/" + kind, body, $"import {kind}", cancellationToken).ConfigureAwait(false))!;
    }
}
