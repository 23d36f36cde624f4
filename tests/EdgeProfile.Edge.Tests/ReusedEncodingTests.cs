using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Profiles;
using EdgeProfile.Edge.Log;

namespace EdgeProfile.Edge.Tests;

/// <summary>
/// The log writer encodes every stored event's delta and profile into buffers it reuses: what it writes must equal
/// what a fresh encoding gives, whatever was encoded before, and text must survive the binding (non-ASCII included).
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class ReusedEncodingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    private static StoreProfile Profile(string loyaltyId, int items, int searches)
    {
        CustomerEvent Event(EventType type, int i, string? text = null) => new()
        {
            EventId = $"{loyaltyId}-{type}-{i}",
            Type = type,
            OccurredAt = T0.AddMinutes(i),
            StoreId = "store-001",
            Channel = i % 2 == 0 ? Channel.App : Channel.Pos,
            Customer = new CustomerIds(loyaltyId, null, null, null, null),
            Product = text is null ? new ProductInfo($"SKU-{i}", $"婴儿推车 {i}", "母婴 > 推车", 100 + i) : null,
            Text = text,
        };

        var key = "loyalty:" + loyaltyId;
        var profile = ProfileMath.Create(key, Event(EventType.View, 0));
        for (var i = 0; i < items; i++)
        {
            ProfileMath.Apply(profile, Event(i % 3 == 0 ? EventType.Purchase : EventType.View, i), [key]);
        }

        for (var i = 0; i < searches; i++)
        {
            ProfileMath.Apply(profile, Event(EventType.Search, items + i, $"推车 search {i}"), [key]);
        }

        return profile;
    }

    private static byte[] Fresh(StoreProfile profile, long now, IReadOnlyList<string>? tags = null) =>
        new DeltaEncoder().Encode(profile, now, tags).ToArray();

    [Fact]
    public void A_reused_delta_encoder_writes_what_a_fresh_one_does_and_nothing_of_the_previous_profile()
    {
        var big = Profile("L-big", items: 40, searches: 5);
        var small = Profile("L-small", items: 2, searches: 0);
        Assert.True(big.Items.Count > small.Items.Count && big.Searches.Count > 0);
        var encoder = new DeltaEncoder();

        var first = ProfileDelta.Parser.ParseFrom(encoder.Encode(big, 1_000, ["tag_a", "tag_b"]).ToArray());
        var second = ProfileDelta.Parser.ParseFrom(encoder.Encode(small, 2_000).ToArray());
        var third = ProfileDelta.Parser.ParseFrom(encoder.Encode(big, 3_000, ["tag_c"]).ToArray());

        Assert.Equal(ProfileDelta.Parser.ParseFrom(Fresh(big, 1_000, ["tag_a", "tag_b"])), first);
        Assert.Equal(ProfileDelta.Parser.ParseFrom(Fresh(small, 2_000)), second);
        Assert.Equal(ProfileDelta.Parser.ParseFrom(Fresh(big, 3_000, ["tag_c"])), third);
        Assert.Equal(small.Items.Count, second.Items.Count);
        Assert.Empty(second.Searches);
        Assert.DoesNotContain("tag_a", second.Tags);
        Assert.Equal("婴儿推车 1", second.Items[^1].Name);
        Assert.Contains("tag_c", third.Tags);
        Assert.DoesNotContain("tag_a", third.Tags);
    }

    [Fact]
    public void Profile_json_written_as_utf8_into_a_reused_buffer_equals_the_string_form()
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        foreach (var profile in new[] { Profile("L-1", 30, 4), Profile("L-2", 1, 0), Profile("L-3", 12, 2) })
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            ProfileJson.Serialize(profile, writer);
            var expected = ProfileJson.Serialize(profile);
            Assert.Equal(expected, Encoding.UTF8.GetString(buffer.WrittenSpan));
            Assert.Equal(expected, ProfileJson.Serialize(ProfileJson.Deserialize(Encoding.UTF8.GetString(buffer.WrittenSpan))));
        }
    }

    [Fact]
    public async Task Non_ascii_ids_and_product_text_are_stored_and_served_as_sent()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path, EdgeHost.WanDown(dir.Path));
        using var client = await edge.ConnectAsync("pos-unicode");
        var e = TestEvents.Json("订单-0001-é", "会员-张三", amount: 88);
        e["product"] = new JsonObject { ["sku"] = "货号-7", ["name"] = "婴儿推车 X", ["category"] = "母婴 > 推车", ["price"] = 88 };
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), Encoding.UTF8.GetBytes(e.ToJsonString()));
        // A second event of the same customer, so the stored profile is read back and written again.
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), TestEvents.JsonBytes("订单-0002", "会员-张三", 12));

        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM events WHERE event_id='订单-0001-é'"));
        Assert.Equal(2, edge.Count("SELECT COUNT(*) FROM events WHERE customer_key='loyalty:会员-张三'"));
        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM profiles WHERE customer_key='loyalty:会员-张三' AND json_extract(state, '$.items[0].sku')='货号-7' AND json_extract(state, '$.items[0].name')='婴儿推车 X'"));
        var profile = await edge.ProfileAsync("loyalty:会员-张三");
        Assert.Equal(100, EdgeHost.Feature(profile, "spend_30d"));
        Assert.Equal(2, EdgeHost.Feature(profile, "events_total"));
    }
}
