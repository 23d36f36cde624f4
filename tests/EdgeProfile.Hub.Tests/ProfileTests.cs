using System.Net;
using System.Net.Http.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Api;

namespace EdgeProfile.Hub.Tests;

public sealed class ProfileTests
{
    [Fact]
    public async Task Identities_seen_at_two_stores_merge_into_one_profile_with_summed_features()
    {
        await using var hub = await TestHub.StartAsync();
        var store1 = await hub.EnrollAsync("store-001");
        var store2 = await hub.EnrollAsync("store-002");
        var email = "email:" + new Pseudonymizer(store1.PseudonymKey).Hash(CustomerKey.Email, "a@b.cn");

        var d1 = Deltas.Of(1, "loyalty:L1", "loyalty:L1", email);
        d1.Visits7D = 2;
        d1.Visits30D = 4;
        d1.Spend30D = 100;
        d1.Tags.Add("high_spender");
        d1.LastSeenUnixMs = Deltas.Day.AddDays(-1).ToUnixTimeMilliseconds();
        d1.LastCategory = "Toys";
        await store1.UploadAsync(d1);

        var d2 = Deltas.Of(1, "app:u1", "app:u1", email);
        d2.Visits7D = 3;
        d2.Visits30D = 5;
        d2.Spend30D = 50.5;
        d2.LastChannel = "app";
        d2.Tags.Add("high_spender");
        d2.Tags.Add("omnichannel");
        await store2.UploadAsync(d2);

        var byLoyalty = await hub.ProfileAsync("loyalty:L1");
        var byApp = await hub.ProfileAsync("app:u1");
        var byEmail = await hub.ProfileAsync(email);
        var byRawEmail = await hub.ProfileAsync("email:A@B.cn ");
        var byId = await hub.ProfileAsync(byLoyalty.ProfileId);

        Assert.StartsWith("ep:", byLoyalty.ProfileId, StringComparison.Ordinal);
        Assert.All(new[] { byApp, byEmail, byRawEmail, byId }, p => Assert.Equal(byLoyalty.ProfileId, p.ProfileId));
        Assert.Equal(new[] { "app:u1", email, "loyalty:L1" }.Order(StringComparer.Ordinal), byLoyalty.Identifiers);

        Assert.Equal(["store-001", "store-002"], byLoyalty.Stores.Select(s => s.StoreId));
        Assert.Equal(5, byLoyalty.Global.Visits7d);
        Assert.Equal(9, byLoyalty.Global.Visits30d);
        Assert.Equal(150.5, byLoyalty.Global.Spend30d);
        Assert.Equal(2, byLoyalty.Global.StoresSeen);
        Assert.Equal(Deltas.Day, byLoyalty.Global.LastSeen);
        Assert.Equal("Baby & Toddler > Strollers", byLoyalty.Global.LastCategory);
        Assert.Equal(["app", "pos"], byLoyalty.Global.Channels);

        var highSpender = Assert.Single(byLoyalty.Tags, t => t.Name == "high_spender");
        Assert.Contains("store-001", highSpender.Reason, StringComparison.Ordinal);
        Assert.Contains("store-002", highSpender.Reason, StringComparison.Ordinal);
        Assert.Contains("store-002", Assert.Single(byLoyalty.Tags, t => t.Name == "omnichannel").Reason, StringComparison.Ordinal);
        Assert.Empty(byLoyalty.Scores);
        Assert.NotEmpty(byLoyalty.Reasons);
    }

    [Fact]
    public async Task Delta_linking_two_existing_profiles_merges_them_and_both_old_ids_still_resolve()
    {
        await using var hub = await TestHub.StartAsync();
        var store1 = await hub.EnrollAsync("store-001");
        var store2 = await hub.EnrollAsync("store-002");
        await store1.UploadAsync(Deltas.Of(1, "loyalty:L2"));
        var card = "card:" + new Pseudonymizer(store2.PseudonymKey).Hash(CustomerKey.Card, "tok-3");
        await store2.UploadAsync(Deltas.Of(1, "app:u2"), Deltas.Of(2, card, card, "app:u2"));
        var first = (await hub.ProfileAsync("loyalty:L2")).ProfileId;
        var second = (await hub.ProfileAsync("app:u2")).ProfileId;
        Assert.NotEqual(first, second);

        await store1.UploadAsync(Deltas.Of(2, "loyalty:L2", "loyalty:L2", "app:u2"));

        var merged = await hub.ProfileAsync("loyalty:L2");
        // The larger profile (two keys) absorbs the smaller one.
        Assert.Equal(second, merged.ProfileId);
        Assert.Equal(merged.ProfileId, (await hub.ProfileAsync(first)).ProfileId);
        Assert.Equal(merged.ProfileId, (await hub.ProfileAsync(second)).ProfileId);
        Assert.Equal(["app:u2", card, "loyalty:L2"], merged.Identifiers);
        Assert.Equal(2, merged.Global.StoresSeen);
    }

    [Fact]
    public async Task A_stores_view_under_a_new_primary_key_supersedes_its_old_row()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "app:u9"));
        var later = Deltas.Of(2, "loyalty:L9", "loyalty:L9", "app:u9");
        later.Visits7D = 4;
        await store.UploadAsync(later);

        var profile = await hub.ProfileAsync("app:u9");
        var entry = Assert.Single(profile.Stores);
        Assert.Equal("loyalty:L9", entry.CustomerKey);
        Assert.Equal(4, profile.Global.Visits7d);
    }

    [Fact]
    public async Task Store_entry_shows_the_latest_view()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var older = Deltas.Of(1, "loyalty:L5");
        var newer = Deltas.Of(2, "loyalty:L5");
        newer.EventsTotal = 7;
        newer.Spend7D = 12.5;
        newer.Tags.Add("frequent_visitor");
        await store.UploadAsync(older, newer);

        var entry = Assert.Single((await hub.ProfileAsync("loyalty:L5")).Stores);
        Assert.Equal(2, entry.UpdatedSequence);
        Assert.Equal(7, entry.EventsTotal);
        Assert.Equal(12.5, entry.Spend7d);
        Assert.Equal(["frequent_visitor"], entry.Tags);
        Assert.Equal("pos", entry.LastChannel);
    }

    [Theory]
    [InlineData("L-1002")]
    [InlineData("nickname:bob")]
    [InlineData("loyalty:")]
    public async Task Malformed_key_is_a_400_naming_the_accepted_kinds(string key)
    {
        await using var hub = await TestHub.StartAsync();
        using var response = await hub.Http.GetAsync("/api/profiles/" + Uri.EscapeDataString(key));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<ErrorResponse>();
        Assert.Contains("loyalty, app, email, phone, card, ep", error!.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("loyalty:L-404")]
    [InlineData("ep:0000000000000000")]
    [InlineData("phone:+8613800000000")]
    public async Task Unknown_key_is_a_404(string key)
    {
        await using var hub = await TestHub.StartAsync();
        using var response = await hub.Http.GetAsync("/api/profiles/" + Uri.EscapeDataString(key));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotNull(await response.Content.ReadFromJsonAsync<ErrorResponse>());
    }

    [Fact]
    public async Task Raw_phone_typed_by_an_operator_finds_the_pseudonymised_profile()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var phone = "phone:" + new Pseudonymizer(store.PseudonymKey).Hash(CustomerKey.Phone, "+86 138 0000 0000");
        await store.UploadAsync(Deltas.Of(1, phone));

        var profile = await hub.ProfileAsync("phone:+8613800000000");
        Assert.Equal([phone], profile.Identifiers);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Key_containing_a_slash_is_found_escaped_or_not(bool escaped)
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "app:team/u-1"));

        var path = "/api/profiles/" + (escaped ? Uri.EscapeDataString("app:team/u-1") : "app:team/u-1");
        var profile = await hub.Http.GetFromJsonAsync<GlobalProfile>(path);
        Assert.Equal(["app:team/u-1"], profile!.Identifiers);
    }

    [Fact]
    public async Task Empty_key_is_a_400()
    {
        await using var hub = await TestHub.StartAsync();
        using var response = await hub.Http.GetAsync("/api/profiles/");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(await response.Content.ReadFromJsonAsync<ErrorResponse>());
    }

    [Fact]
    public async Task Cached_profile_answers_follow_every_write()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "loyalty:L-c1"), Deltas.Of(2, "app:u-c1"));
        var first = await hub.ProfileAsync("loyalty:L-c1");
        Assert.Equal(first.ProfileId, (await hub.ProfileAsync("loyalty:L-c1")).ProfileId);
        var app = (await hub.ProfileAsync("app:u-c1")).ProfileId;

        var more = Deltas.Of(3, "loyalty:L-c1");
        more.Visits7D = 9;
        await store.UploadAsync(more);
        Assert.Equal(9, (await hub.ProfileAsync("loyalty:L-c1")).Global.Visits7d);

        // A merge moves keys between profiles: both keys (and the absorbed id) answer with the merged profile.
        await store.UploadAsync(Deltas.Of(4, "loyalty:L-c1", "loyalty:L-c1", "app:u-c1"));
        var merged = await hub.ProfileAsync("app:u-c1");
        Assert.Equal(2, merged.Identifiers.Count);
        Assert.Equal(merged.ProfileId, (await hub.ProfileAsync("loyalty:L-c1")).ProfileId);
        Assert.Equal(merged.ProfileId, (await hub.ProfileAsync(app)).ProfileId);

        using (var consent = await hub.Http.PutAsJsonAsync("/api/consent/app:u-c1", new { personalisation = false }))
        {
            Assert.True(consent.IsSuccessStatusCode);
        }

        Assert.False((await hub.ProfileAsync("loyalty:L-c1")).Consent.Personalisation);
        using (var erase = await hub.Http.PostAsJsonAsync("/api/erasures", new { key = "loyalty:L-c1" }))
        {
            Assert.Equal(HttpStatusCode.Created, erase.StatusCode);
        }

        using var gone = await hub.Http.GetAsync("/api/profiles/app:u-c1");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Declared_merge_policies_decide_how_store_views_combine()
    {
        await using var hub = await TestHub.StartAsync(args: ["--Hub:Profiles:Merge:spend_30d=max", "--Hub:Profiles:Merge:visits_30d=latest", "--Hub:Profiles:Merge:last_category=first"]);
        var store1 = await hub.EnrollAsync("store-001");
        var store2 = await hub.EnrollAsync("store-002");
        var older = Deltas.Of(1, "loyalty:L-m");
        older.Spend30D = 100;
        older.Visits30D = 7;
        older.LastCategory = "Toys";
        older.LastSeenUnixMs = Deltas.Day.AddDays(-2).ToUnixTimeMilliseconds();
        await store1.UploadAsync(older);
        var newer = Deltas.Of(1, "loyalty:L-m");
        newer.Spend30D = 50.5;
        newer.Visits30D = 2;
        newer.LastCategory = "Books";
        await store2.UploadAsync(newer);

        var profile = await hub.ProfileAsync("loyalty:L-m");
        Assert.Equal(100, profile.Global.Spend30d);
        Assert.Equal(2, profile.Global.Visits30d);
        Assert.Equal(2, profile.Global.Visits7d);
        Assert.Equal("Toys", profile.Global.LastCategory);
        Assert.Equal(2, profile.Stores.Count);
        Assert.Contains(profile.Reasons, r => r.Contains("spend_30d: the highest store value", StringComparison.Ordinal)
            && r.Contains("visits_30d: the value of the store that saw the customer last", StringComparison.Ordinal));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestHub.StartAsync(args: ["--Hub:Profiles:Merge:spend_30d=avg", "--Hub:Profiles:Merge:colour=sum"]));
        Assert.Contains("Hub:Profiles:Merge:spend_30d", error.Message, StringComparison.Ordinal);
        Assert.Contains("Hub:Profiles:Merge:colour", error.Message, StringComparison.Ordinal);
    }
}
