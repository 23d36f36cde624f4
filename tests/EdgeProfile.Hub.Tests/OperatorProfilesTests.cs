using EdgeProfile.Contracts.V1;
using Grpc.Core;

namespace EdgeProfile.Hub.Tests;

/// <summary>The global profile over gRPC for operators: same content as the REST answer, operator token required.</summary>
public sealed class OperatorProfilesTests
{
    [Fact]
    public async Task GetProfile_answers_like_the_rest_api_and_only_with_the_operator_token()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var delta = Deltas.Of(1, "loyalty:L-g", "loyalty:L-g", "app:u-g");
        delta.Tags.Add("vip");
        await store.UploadAsync(delta);
        var rest = await hub.ProfileAsync("app:u-g");

        var client = new OperatorProfiles.OperatorProfilesClient(hub.Channel);
        var token = hub.Http.DefaultRequestHeaders.Authorization!.Parameter!;
        var operatorHeaders = new Metadata { { "authorization", "Bearer " + token } };
        var reply = await client.GetProfileAsync(new GetProfileRequest { Key = "loyalty:L-g" }, operatorHeaders);

        Assert.Equal(rest.ProfileId, reply.ProfileId);
        Assert.Equal(rest.Identifiers, reply.Identifiers);
        Assert.Equal("store-001", Assert.Single(reply.Stores).StoreId);
        Assert.Equal(rest.Global.Spend30d, reply.Spend30D);
        Assert.Equal("vip", Assert.Single(reply.Tags).Name);
        Assert.Equal(rest.Reasons, reply.Reasons);
        Assert.True(reply.AnalyticsConsent && reply.PersonalisationConsent && reply.TrainingConsent);

        var missing = await Assert.ThrowsAsync<RpcException>(async () => await client.GetProfileAsync(new GetProfileRequest { Key = "loyalty:nobody" }, operatorHeaders));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        var malformed = await Assert.ThrowsAsync<RpcException>(async () => await client.GetProfileAsync(new GetProfileRequest { Key = "nokind" }, operatorHeaders));
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
        var anonymous = await Assert.ThrowsAsync<RpcException>(async () => await client.GetProfileAsync(new GetProfileRequest { Key = "loyalty:L-g" }));
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
        // A store's own credential is not an operator token.
        var asStore = await Assert.ThrowsAsync<RpcException>(async () => await client.GetProfileAsync(new GetProfileRequest { Key = "loyalty:L-g" }, store.Headers));
        Assert.Equal(StatusCode.Unauthenticated, asStore.StatusCode);
    }
}
