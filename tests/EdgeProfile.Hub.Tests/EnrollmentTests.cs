using System.Net;
using System.Net.Http.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Api;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EdgeProfile.Hub.Tests;

public sealed class EnrollmentTests
{
    [Fact]
    public async Task Enrollment_token_works_once()
    {
        await using var hub = await TestHub.StartAsync();
        var token = await hub.CreateTokenAsync("store-001");

        var first = await hub.Enrollment.EnrollAsync(new EnrollRequest { Token = token.Token, StoreId = "store-001" });
        Assert.Equal("store-001", first.StoreId);
        Assert.Equal("store", first.Kind);
        Assert.Equal(43, first.Credential.Length); // 32 bytes, base64url without padding
        Assert.Equal(32, first.PseudonymKey.Length);

        var again = await Assert.ThrowsAsync<RpcException>(() =>
            hub.Enrollment.EnrollAsync(new EnrollRequest { Token = token.Token, StoreId = "store-001" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, again.StatusCode);
        Assert.Contains("already used", again.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enrollment_token_for_another_store_is_refused_and_stays_usable()
    {
        await using var hub = await TestHub.StartAsync();
        var token = await hub.CreateTokenAsync("store-001");

        var wrong = await Assert.ThrowsAsync<RpcException>(() =>
            hub.Enrollment.EnrollAsync(new EnrollRequest { Token = token.Token, StoreId = "store-002" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, wrong.StatusCode);
        Assert.Contains("'store-001', not 'store-002'", wrong.Status.Detail, StringComparison.Ordinal);

        var right = await hub.Enrollment.EnrollAsync(new EnrollRequest { Token = token.Token, StoreId = "store-001" });
        Assert.Equal("store-001", right.StoreId);
    }

    [Fact]
    public async Task Expired_enrollment_token_is_refused()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var hub = await TestHub.StartAsync(configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        var token = await hub.CreateTokenAsync("store-001");
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromHours(24), token.ExpiresAt);

        clock.Advance(TimeSpan.FromHours(24));

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            hub.Enrollment.EnrollAsync(new EnrollRequest { Token = token.Token, StoreId = "store-001" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Contains("expired", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_ttl_comes_from_configuration()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var hub = await TestHub.StartAsync(args: ["--Hub:EnrollmentTokenTtl=00:10:00"], configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        var token = await hub.CreateTokenAsync("store-001");
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromMinutes(10), token.ExpiresAt);

        clock.Advance(TimeSpan.FromMinutes(9));
        var enrolled = await hub.Enrollment.EnrollAsync(new EnrollRequest { Token = token.Token, StoreId = "store-001" });
        Assert.False(string.IsNullOrEmpty(enrolled.Credential));
    }

    [Fact]
    public async Task Unknown_enrollment_token_is_refused()
    {
        await using var hub = await TestHub.StartAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            hub.Enrollment.EnrollAsync(new EnrollRequest { Token = "made-up", StoreId = "store-001" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Contains("unknown enrollment token", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enrollment_request_without_token_or_with_a_bad_store_id_is_invalid()
    {
        await using var hub = await TestHub.StartAsync();
        var noToken = await Assert.ThrowsAsync<RpcException>(() =>
            hub.Enrollment.EnrollAsync(new EnrollRequest { StoreId = "store-001" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noToken.StatusCode);

        var badStore = await Assert.ThrowsAsync<RpcException>(() =>
            hub.Enrollment.EnrollAsync(new EnrollRequest { Token = "t", StoreId = "store 1/x" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badStore.StatusCode);
    }

    [Fact]
    public async Task Enrollment_token_carries_the_kind()
    {
        await using var hub = await TestHub.StartAsync();
        var token = await hub.CreateTokenAsync("cdn-edge-7", "cdn");
        Assert.Equal("cdn", token.Kind);
        var enrolled = await hub.Enrollment.EnrollAsync(new EnrollRequest { Token = token.Token, StoreId = "cdn-edge-7" });
        Assert.Equal("cdn", enrolled.Kind);
        var stores = await hub.StoresAsync();
        Assert.Equal("cdn", Assert.Single(stores).Kind);
    }

    [Theory]
    [InlineData("{\"kind\":\"store\"}", "storeId is required")]
    [InlineData("{\"storeId\":\"\"}", "storeId is required")]
    [InlineData("{\"storeId\":\"bad id!\"}", "storeId is required")]
    [InlineData("{\"storeId\":\"store-001\",\"kind\":\"warehouse\"}", "kind must be one of store, cdn, partner")]
    [InlineData("not json", "body must be JSON")]
    [InlineData("", "body must be JSON")]
    public async Task Bad_enrollment_request_is_a_400_with_an_error(string body, string error)
    {
        await using var hub = await TestHub.StartAsync();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await hub.Http.PostAsync("/api/enrollments", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var parsed = await response.Content.ReadFromJsonAsync<ErrorResponse>();
        Assert.Contains(error, parsed!.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Store_id_of_64_allowed_characters_is_accepted()
    {
        await using var hub = await TestHub.StartAsync();
        var id = "a._-" + new string('Z', 60);
        var token = await hub.CreateTokenAsync(id);
        Assert.Equal(id, token.StoreId);
    }
}
