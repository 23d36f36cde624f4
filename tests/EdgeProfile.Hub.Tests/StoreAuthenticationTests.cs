using System.Net;
using System.Net.Http.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Api;
using Grpc.Core;

namespace EdgeProfile.Hub.Tests;

public sealed class StoreAuthenticationTests
{
    [Fact]
    public async Task Unenrolled_store_cannot_upload()
    {
        await using var hub = await TestHub.StartAsync();
        var stranger = new StoreClient("store-999", "not-a-credential", [], hub.Uplink);

        var ex = await Assert.ThrowsAsync<RpcException>(() => stranger.UploadAsync(Deltas.Of(1, "loyalty:L-1")));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("not enrolled", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(await hub.StoresAsync());
    }

    [Fact]
    public async Task Call_without_store_metadata_is_unauthenticated()
    {
        await using var hub = await TestHub.StartAsync();
        await hub.EnrollAsync("store-001");

        var noHeaders = await Assert.ThrowsAsync<RpcException>(() => hub.Uplink.GetCursorAsync(new CursorRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, noHeaders.StatusCode);

        var noCredential = await Assert.ThrowsAsync<RpcException>(() =>
            hub.Uplink.GetCursorAsync(new CursorRequest(), new Metadata { { "x-ep-store", "store-001" } }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, noCredential.StatusCode);
    }

    [Fact]
    public async Task Credential_of_store_A_cannot_upload_as_store_B()
    {
        await using var hub = await TestHub.StartAsync();
        var a = await hub.EnrollAsync("store-A");
        var b = await hub.EnrollAsync("store-B");

        var impostor = a with { StoreId = "store-B" };
        var ex = await Assert.ThrowsAsync<RpcException>(() => impostor.UploadAsync(Deltas.Of(1, "loyalty:L-1")));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("invalid credential", ex.Status.Detail, StringComparison.Ordinal);

        Assert.Equal(0, await b.CursorAsync());
        await Assert.ThrowsAsync<HttpRequestException>(() => hub.ProfileAsync("loyalty:L-1"));
    }

    [Fact]
    public async Task Uploads_count_only_for_the_authenticated_store()
    {
        await using var hub = await TestHub.StartAsync();
        var a = await hub.EnrollAsync("store-A");
        var b = await hub.EnrollAsync("store-B");

        await a.UploadAsync(Deltas.Range(1, 4));

        Assert.Equal(4, await a.CursorAsync());
        Assert.Equal(0, await b.CursorAsync());
        var profile = await hub.ProfileAsync("loyalty:L-3");
        Assert.Equal("store-A", Assert.Single(profile.Stores).StoreId);
    }

    [Fact]
    public async Task Revoked_store_is_refused_until_enrolled_again_with_a_new_credential()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "loyalty:L-1"));
        var pending = await hub.CreateTokenAsync("store-001");

        using (var revoke = await hub.Http.PostAsync("/api/stores/store-001/revoke", null))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
            var body = await revoke.Content.ReadFromJsonAsync<RevokeResponse>();
            Assert.True(body!.Revoked);
        }

        var upload = await Assert.ThrowsAsync<RpcException>(() => store.UploadAsync(Deltas.Of(2, "loyalty:L-2")));
        Assert.Equal(StatusCode.Unauthenticated, upload.StatusCode);
        Assert.Contains("revoked", upload.Status.Detail, StringComparison.Ordinal);
        var cursor = await Assert.ThrowsAsync<RpcException>(() => store.CursorAsync());
        Assert.Equal(StatusCode.Unauthenticated, cursor.StatusCode);
        Assert.True(Assert.Single(await hub.StoresAsync()).Revoked);

        // A token created before the revocation is cancelled with it.
        var stale = await Assert.ThrowsAsync<RpcException>(() =>
            hub.Enrollment.EnrollAsync(new EnrollRequest { Token = pending.Token, StoreId = "store-001" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, stale.StatusCode);

        var reenrolled = await hub.EnrollAsync("store-001");
        Assert.Equal(1, await reenrolled.CursorAsync());
        Assert.False(Assert.Single(await hub.StoresAsync()).Revoked);
        var old = await Assert.ThrowsAsync<RpcException>(() => store.CursorAsync());
        Assert.Equal(StatusCode.Unauthenticated, old.StatusCode);
    }

    [Fact]
    public async Task Enrolling_again_replaces_the_old_credential()
    {
        await using var hub = await TestHub.StartAsync();
        var first = await hub.EnrollAsync("store-001");
        var second = await hub.EnrollAsync("store-001");
        Assert.NotEqual(first.Credential, second.Credential);

        var ex = await Assert.ThrowsAsync<RpcException>(() => first.CursorAsync());
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Equal(0, await second.CursorAsync());
    }

    [Fact]
    public async Task Revoking_an_unknown_store_is_a_404()
    {
        await using var hub = await TestHub.StartAsync();
        using var response = await hub.Http.PostAsync("/api/stores/nope/revoke", null);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("not enrolled", (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error, StringComparison.Ordinal);
    }
}
