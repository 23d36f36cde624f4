using System.Text;

namespace EdgeProfile.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class DeadLetterTests
{
    [Fact]
    public async Task Dead_letters_are_bounded_by_max_count_and_listed_newest_first_up_to_the_limit()
    {
        const int Sent = 12;
        const int Kept = 5;
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path, $"--Edge:DeadLetters:MaxCount={Kept}");
        using var client = await edge.ConnectAsync("broken-pos");

        for (var i = 0; i < Sent; i++)
        {
            await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), Encoding.UTF8.GetBytes($"broken #{i:D2}"));
        }

        Assert.Equal(Kept, edge.Count("SELECT COUNT(*) FROM dead_letters"));
        Assert.Equal(Sent, (await edge.StatsAsync()).GetProperty("deadLettered").GetInt64());

        var three = await edge.DeadLettersAsync(3);
        Assert.Equal(["broken #11", "broken #10", "broken #09"], three.Select(l => l.GetProperty("payloadText").GetString()));
        Assert.True(three[0].GetProperty("id").GetInt64() > three[1].GetProperty("id").GetInt64());
        Assert.All(three, l => Assert.Equal("message", l.GetProperty("field").GetString()));

        var all = await edge.DeadLettersAsync(100);
        Assert.Equal(Enumerable.Range(Sent - Kept, Kept).Reverse().Select(i => $"broken #{i:D2}"), all.Select(l => l.GetProperty("payloadText").GetString()));
    }

    [Fact]
    public async Task Dead_letter_keeps_topic_time_size_and_raw_bytes()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("broken-pos");
        var payload = new byte[] { 0xFF, 0xFE, 0x00, 0x01 };
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), payload);

        var letter = Assert.Single(await edge.DeadLettersAsync(1));
        Assert.Equal(TestEvents.JsonTopic(), letter.GetProperty("topic").GetString());
        Assert.Equal(Convert.ToBase64String(payload), letter.GetProperty("payloadBase64").GetString());
        Assert.Equal(4, letter.GetProperty("size").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, letter.GetProperty("payloadText").ValueKind);
        Assert.InRange(letter.GetProperty("receivedAt").GetDateTimeOffset(), before, DateTimeOffset.UtcNow.AddSeconds(1));
    }
}
