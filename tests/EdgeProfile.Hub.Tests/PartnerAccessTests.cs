using EdgeProfile.Contracts.V1;
using Grpc.Core;

namespace EdgeProfile.Hub.Tests;

/// <summary>A partner's credential opens federated learning and model downloads, and nothing about customers or stores.</summary>
public sealed class PartnerAccessTests
{
    [Fact]
    public async Task Partner_credential_joins_federation_but_cannot_read_or_write_profiles()
    {
        await using var hub = await TestHub.StartAsync();
        var token = await hub.CreateTokenAsync("brand-x", "partner");
        var enrolled = await hub.Enrollment.EnrollAsync(new EnrollRequest { Token = token.Token, StoreId = "brand-x" });
        Assert.Equal("partner", enrolled.Kind);
        var headers = StoreClient.As("brand-x", enrolled.Credential);

        // Uplink (writes profiles), downlink (customer summaries), feature registry: refused, naming why.
        var upload = await Assert.ThrowsAsync<RpcException>(() => hub.Uplink.GetCursorAsync(new CursorRequest(), headers).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, upload.StatusCode);
        Assert.Contains("is a partner", upload.Status.Detail, StringComparison.Ordinal);
        using (var downlink = new Contracts.V1.Downlink.DownlinkClient(hub.Channel).Watch(new DownlinkRequest(), headers))
        {
            var watch = await Assert.ThrowsAsync<RpcException>(() => downlink.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.PermissionDenied, watch.StatusCode);
        }
        using (var assignments = new Contracts.V1.ModelDistribution.ModelDistributionClient(hub.Channel).WatchAssignment(new WatchAssignmentRequest(), headers))
        {
            var watch = await Assert.ThrowsAsync<RpcException>(() => assignments.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.PermissionDenied, watch.StatusCode);
        }

        // Federation: the Join stream opens (headers arrive), and a stray submission is refused as not open, not as unauthorised.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var federation = new Contracts.V1.Federation.FederationClient(hub.Channel);
        using (var join = federation.Join(new JoinRequest(), headers, cancellationToken: cts.Token))
        {
            await join.ResponseHeadersAsync;
        }
        var stray = await Assert.ThrowsAsync<RpcException>(() => federation.SubmitAsync(new FlSubmission { TaskId = "job-x/1/1/brand-x" }, headers).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, stray.StatusCode);

        // A store's credential still reaches the uplink.
        var store = await hub.EnrollAsync("store-001");
        Assert.Equal(0, await store.CursorAsync());
    }
}
