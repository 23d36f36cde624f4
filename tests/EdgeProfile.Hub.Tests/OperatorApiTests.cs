using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using EdgeProfile.Hub.Api;

namespace EdgeProfile.Hub.Tests;

public sealed class OperatorApiTests
{
    [Theory]
    [InlineData("GET", "/api/stores")]
    [InlineData("GET", "/api/profiles/loyalty:L-1")]
    [InlineData("POST", "/api/enrollments")]
    [InlineData("POST", "/api/stores/store-001/revoke")]
    [InlineData("GET", "/api/unknown")]
    public async Task Api_without_the_operator_token_is_a_401_json_error(string method, string path)
    {
        await using var hub = await TestHub.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = hub.Address };

        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(new { storeId = "store-001" }) };
        using var response = await anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("operator token", (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error, StringComparison.Ordinal);

        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-token-wrong-token");
        using var request2 = new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(new { storeId = "store-001" }) };
        using var wrong = await anonymous.SendAsync(request2);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Empty(await hub.StoresAsync());
    }

    [Fact]
    public async Task Health_needs_no_token()
    {
        await using var hub = await TestHub.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = hub.Address };
        var health = await anonymous.GetFromJsonAsync<HealthResponse>("/api/health");
        Assert.Equal("ok", health!.Status);
        Assert.False(string.IsNullOrEmpty(health.Version));
    }

    [Fact]
    public async Task Enrollment_answer_has_the_documented_shape()
    {
        await using var hub = await TestHub.StartAsync();
        using var response = await hub.Http.PostAsJsonAsync("/api/enrollments", new { storeId = "store-001" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<Dictionary<string, System.Text.Json.JsonElement>>();
        Assert.Equal(["expiresAt", "kind", "storeId", "token"], json!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("store", json["kind"].GetString());
    }

    [Fact]
    public async Task Stores_list_has_the_documented_fields()
    {
        await using var hub = await TestHub.StartAsync();
        await hub.EnrollAsync("store-002");
        await hub.EnrollAsync("store-001");
        var json = await hub.Http.GetFromJsonAsync<List<Dictionary<string, System.Text.Json.JsonElement>>>("/api/stores");
        Assert.Equal(["store-001", "store-002"], json!.Select(s => s["storeId"].GetString()));
        Assert.Equal(
            ["ackedThrough", "backlog", "countersAt", "deadLettered", "duplicates", "enrolledAt", "eventsStored", "ingestPerMinute", "kind", "lastSeen",
             "lateEvents", "modelVersion", "oldestBacklogAgeMs", "revoked", "storeId"],
            json![0].Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Unknown_api_path_is_a_404_json_error()
    {
        await using var hub = await TestHub.StartAsync();
        using var response = await hub.Http.GetAsync("/api/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotNull(await response.Content.ReadFromJsonAsync<ErrorResponse>());
    }
}
