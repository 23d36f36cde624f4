using System.Globalization;

namespace EdgeProfile.Cli.HubApi;

/// <summary>Recommender bundles: list, register (and publish), publish, roll back, training sequences, recommendations.</summary>
public sealed partial class HubRestClient
{
    /// <summary><c>GET /api/recommenders</c> as JSON.</summary>
    public async Task<string> GetRecommendersAsync(CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Get, "api/recommenders", null, "list the recommenders", cancellationToken).ConfigureAwait(false))!;

    /// <summary><c>POST /api/recommenders</c> with a bundle file; with <paramref name="publish"/> it goes live too.</summary>
    public async Task<string> RegisterRecommenderAsync(byte[] content, string? description, bool publish, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        var path = "api/recommenders?publish=" + (publish ? "true" : "false")
            + (string.IsNullOrEmpty(description) ? "" : "&description=" + Uri.EscapeDataString(description));
        return (await SendAsync(HttpMethod.Post, path, body, publish ? "publish the recommender" : "register the recommender", cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary><c>POST /api/recommenders/{version}/publish</c>.</summary>
    public async Task<string> PublishRecommenderAsync(string version, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Post, $"api/recommenders/{Uri.EscapeDataString(version)}/publish", null, $"publish recommender {version}", cancellationToken).ConfigureAwait(false))!;

    /// <summary><c>POST /api/recommenders/rollback</c>.</summary>
    public async Task<string> RollbackRecommenderAsync(CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Post, "api/recommenders/rollback", null, "roll the recommender back", cancellationToken).ConfigureAwait(false))!;

    /// <summary><c>GET /api/recommenders/sequences</c>: the customers' product sequences (no customer ids) and names.</summary>
    public async Task<string> RecommendationSequencesAsync(CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Get, "api/recommenders/sequences", null, "read the product sequences", cancellationToken).ConfigureAwait(false))!;

    /// <summary><c>GET /api/profiles/{key}/recommendations</c>, or null when the customer is unknown.</summary>
    public Task<string?> RecommendationsAsync(string key, int k, string? lang, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get,
            string.Create(CultureInfo.InvariantCulture, $"api/profiles/{Uri.EscapeDataString(key)}/recommendations?k={k}") + (lang is null ? "" : "&lang=" + Uri.EscapeDataString(lang)),
            null, $"get recommendations for {key}", cancellationToken, allowNotFound: true);
}
