using System.Net;
using System.Text.Json;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>The edge's local HTTP API (contracts.md §3), as a store app sees it.</summary>
public sealed class EdgeApiClient : IDisposable
{
    private readonly HttpClient _http;

    public EdgeApiClient(Uri baseAddress)
    {
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri BaseAddress => _http.BaseAddress!;

    public Task<JsonElement> HealthAsync() => GetJsonAsync("/api/health");

    public Task<JsonElement> StatsAsync() => GetJsonAsync("/api/stats");

    /// <summary>The store's view of a customer, or null when the edge does not know them (404).</summary>
    public async Task<JsonElement?> ProfileAsync(string customerKey)
    {
        using var response = await _http.GetAsync(new Uri("/api/profiles/" + Uri.EscapeDataString(customerKey), UriKind.Relative));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public async Task<EdgeStats> StatsSnapshotAsync()
    {
        var s = await StatsAsync();
        return new EdgeStats(
            s.GetProperty("eventsStored").GetInt64(),
            s.GetProperty("duplicatesIgnored").GetInt64(),
            s.GetProperty("deadLettered").GetInt64(),
            s.GetProperty("outbox").GetProperty("backlog").GetInt64());
    }

    /// <summary>Waits until <c>GET /api/health</c> answers <c>status: ok</c> (and, when asked, the MQTT side is connected).</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="requireMqttConnected">Also wait for <c>mqtt.connected</c> (external-broker mode).</param>
    /// <param name="failure">Checked on every poll: a non-null reason (e.g. the process exited) fails at once.</param>
    public Task<JsonElement> WaitHealthyAsync(TimeSpan timeout, bool requireMqttConnected = false, Func<string?>? failure = null) =>
        Poll.UntilAsync(
            async () =>
            {
                if (failure?.Invoke() is { } reason)
                {
                    throw new Xunit.Sdk.XunitException("the edge did not become healthy: " + reason);
                }

                return await HealthAsync();
            },
            h => h.GetProperty("status").GetString() == "ok"
                 && (!requireMqttConnected || h.GetProperty("mqtt").GetProperty("connected").GetBoolean()),
            timeout,
            $"{BaseAddress}api/health to be ok" + (requireMqttConnected ? " with mqtt.connected" : ""));

    public void Dispose() => _http.Dispose();

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}

/// <summary>The counters of <c>GET /api/stats</c> the tests reason about.</summary>
public sealed record EdgeStats(long EventsStored, long DuplicatesIgnored, long DeadLettered, long OutboxBacklog);
