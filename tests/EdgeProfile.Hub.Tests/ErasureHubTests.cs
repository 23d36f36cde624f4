using System.Net;
using System.Net.Http.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Api;

namespace EdgeProfile.Hub.Tests;

/// <summary>Erasure at the hub: what goes, what is kept, and uploads after it.</summary>
public sealed class ErasureHubTests
{
    [Fact]
    public async Task Erased_identifiers_do_not_come_back_with_later_uploads_and_tombstones_only_advance_the_cursor()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "loyalty:L-9", "loyalty:L-9", "app:u-9"), Deltas.Of(2, "loyalty:L-10"));

        using var response = await hub.Http.PostAsJsonAsync("/api/erasures", new { key = "app:u-9" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var status = (await response.Content.ReadFromJsonAsync<ErasureStatus>())!;
        Assert.Equal((2, 1), (status.Identifiers, status.Stores));
        Assert.Equal("hub", Assert.Single(status.Confirmations).System);
        Assert.Null(status.CompletedAt);
        using (var gone = await hub.Http.GetAsync("/api/profiles/loyalty:L-9"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        // The store's outbox still held a delta of the customer (now a tombstone), then it sends the customer again.
        var ack = await store.UploadAsync(new ProfileDelta { Sequence = 3, Tombstone = true }, Deltas.Of(4, "loyalty:L-9", "loyalty:L-9", "app:u-9"), Deltas.Of(5, "loyalty:L-11"));
        Assert.Equal(5, ack.AckedThrough);
        using (var still = await hub.Http.GetAsync("/api/profiles/app:u-9"))
        {
            Assert.Equal(HttpStatusCode.NotFound, still.StatusCode);
        }

        Assert.NotNull(await hub.ProfileAsync("loyalty:L-10"));
        Assert.NotNull(await hub.ProfileAsync("loyalty:L-11"));

        using var again = await hub.Http.PostAsJsonAsync("/api/erasures", new { key = "loyalty:L-9" });
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        using var bad = await hub.Http.PostAsJsonAsync("/api/erasures", new { key = "nonsense" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("key:", (await bad.Content.ReadFromJsonAsync<ErrorResponse>())!.Error, StringComparison.Ordinal);
        var kept = await hub.Http.GetFromJsonAsync<ErasureStatus>("/api/erasures/" + status.RequestId);
        Assert.Equal(status.RequestId, kept!.RequestId);
    }
}
