using System.Net;
using System.Net.Http.Json;
using EdgeProfile.Hub.Api;

namespace EdgeProfile.Hub.Tests;

/// <summary>Consent per purpose at the hub: recorded per identifier, withdrawn for the whole profile.</summary>
public sealed class ConsentHubTests
{
    [Fact]
    public async Task A_withdrawal_under_one_identifier_holds_for_the_profile_and_survives_a_merge()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");

        // Recorded before the customer is ever seen (a CRM withdrawal), under the app id.
        using (var early = await hub.Http.PutAsJsonAsync("/api/consent/app:u-5", new { training = false, source = "crm" }))
        {
            Assert.Equal(new ConsentState(Training: false), await early.Content.ReadFromJsonAsync<ConsentState>());
        }

        await store.UploadAsync(Deltas.Of(1, "loyalty:L-5"));
        Assert.Equal(ConsentState.Granted, (await hub.ProfileAsync("loyalty:L-5")).Consent);

        await store.UploadAsync(Deltas.Of(2, "loyalty:L-5", "loyalty:L-5", "app:u-5"));
        Assert.Equal(new ConsentState(Training: false), (await hub.ProfileAsync("loyalty:L-5")).Consent);

        using (var more = await hub.Http.PutAsJsonAsync("/api/consent/loyalty:L-5", new { personalisation = false }))
        {
            Assert.Equal(new ConsentState(Personalisation: false, Training: false), await more.Content.ReadFromJsonAsync<ConsentState>());
        }

        using (var regrant = await hub.Http.PutAsJsonAsync("/api/consent/app:u-5", new { training = true }))
        {
            Assert.Equal(new ConsentState(Personalisation: false), await regrant.Content.ReadFromJsonAsync<ConsentState>());
        }

        Assert.Equal(new ConsentState(Personalisation: false), await hub.Http.GetFromJsonAsync<ConsentState>("/api/consent/app:u-5"));
        using var empty = await hub.Http.PutAsJsonAsync("/api/consent/app:u-5", new { source = "crm" });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        using var badKey = await hub.Http.GetAsync("/api/consent/nokind");
        Assert.Equal(HttpStatusCode.BadRequest, badKey.StatusCode);
    }

    [Fact]
    public async Task Withdrawn_analytics_takes_the_customer_out_of_every_segment()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "loyalty:L-6"), Deltas.Of(2, "loyalty:L-7"));
        using (var define = await hub.Http.PutAsJsonAsync("/api/segments/everyone", new { expression = "visits_30d >= 1" }))
        {
            Assert.True(define.IsSuccessStatusCode, await define.Content.ReadAsStringAsync());
        }

        Assert.Equal(2, (await hub.Http.GetFromJsonAsync<SegmentSummary>("/api/segments/everyone"))!.Members);
        using (var withdraw = await hub.Http.PutAsJsonAsync("/api/consent/loyalty:L-6", new { analytics = false }))
        {
            Assert.True(withdraw.IsSuccessStatusCode);
        }

        Assert.Equal(1, (await hub.Http.GetFromJsonAsync<SegmentSummary>("/api/segments/everyone"))!.Members);
        var csv = await hub.Http.GetStringAsync("/api/segments/everyone/members.csv");
        Assert.DoesNotContain("loyalty:L-6", csv, StringComparison.Ordinal);
        Assert.Contains("loyalty:L-7", csv, StringComparison.Ordinal);

        using (var regrant = await hub.Http.PutAsJsonAsync("/api/consent/loyalty:L-6", new { analytics = true }))
        {
            Assert.True(regrant.IsSuccessStatusCode);
        }

        Assert.Equal(2, (await hub.Http.GetFromJsonAsync<SegmentSummary>("/api/segments/everyone"))!.Members);
    }
}
