using System.Net;

namespace EdgeProfile.Cli.HubApi;

/// <summary>Tag rules: the live set and its history, validation, publish, rollback.</summary>
public sealed partial class HubRestClient
{
    /// <summary><c>GET /api/rules</c> as JSON.</summary>
    public async Task<string> GetRulesAsync(CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Get, "api/rules", null, "read the tag rules", cancellationToken).ConfigureAwait(false))!;

    /// <summary>
    /// <c>POST /api/rules/validate</c> or <c>/publish</c> with the rule file: the JSON answer and whether it was accepted
    /// (a 400 with the errors at their lines is an answer, not a failure).
    /// </summary>
    public async Task<(bool Accepted, string Json)> SubmitRulesAsync(string text, bool publish, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(publish ? "api/rules/publish" : "api/rules/validate", UriKind.Relative))
        {
            Content = new StringContent(text, System.Text.Encoding.UTF8, "text/plain"),
        };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"cannot reach the hub at {BaseUrl} to {(publish ? "publish" : "validate")} the rules: {ex.Message} (is it running? pass --hub URL)", ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return (true, body);
            }

            if (response.StatusCode == HttpStatusCode.BadRequest)
            {
                return (false, body);
            }

            throw new CliException(response.StatusCode == HttpStatusCode.Unauthorized
                ? $"the hub at {BaseUrl} refused the operator token; pass --token, --token-file or set EDGEPROFILE_TOKEN"
                : $"the hub at {BaseUrl} could not {(publish ? "publish" : "validate")} the rules: {(int)response.StatusCode} {response.ReasonPhrase}: {ErrorText(body)}");
        }
    }

    /// <summary><c>POST /api/rules/rollback</c>; null when there is nothing to roll back to (409).</summary>
    public async Task<string?> RollbackRulesAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("api/rules/rollback", UriKind.Relative));
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new CliException($"the hub at {BaseUrl} could not roll the rules back: {(int)response.StatusCode} {response.ReasonPhrase}: {ErrorText(body)}");
        }

        return body;
    }
}
