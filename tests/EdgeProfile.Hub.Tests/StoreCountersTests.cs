using EdgeProfile.Contracts.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EdgeProfile.Hub.Tests;

/// <summary>The fleet view's ingest counters: what each edge reports with its uploads and idle pings, and the ingest rate.</summary>
public sealed class StoreCountersTests
{
    [Fact]
    public async Task Counters_from_pings_and_uploads_give_the_ingest_rate_over_windows_of_ten_seconds_and_a_restart_resets_it()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var hub = await TestHub.StartAsync(configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        var store = await hub.EnrollAsync("store-001");
        Assert.Null((await hub.StoresAsync()).Single().EventsStored); // never reported

        await Ping(store, events: 100, dead: 2, late: 1, duplicates: 3);
        var first = (await hub.StoresAsync()).Single();
        Assert.Equal((100L, 2L, 1L, 3L), (first.EventsStored!.Value, first.DeadLettered!.Value, first.LateEvents!.Value, first.Duplicates!.Value));
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), first.CountersAt!.Value.ToUnixTimeMilliseconds());
        Assert.Null(first.IngestPerMinute); // one report: no rate yet

        clock.Advance(TimeSpan.FromSeconds(5));
        await Ping(store, events: 130);
        Assert.Null((await hub.StoresAsync()).Single().IngestPerMinute); // the window is still open (< 10 s)

        clock.Advance(TimeSpan.FromSeconds(25));
        await Ping(store, events: 160);
        Assert.Equal(120.0, (await hub.StoresAsync()).Single().IngestPerMinute!.Value, 9); // 60 events in 30 s

        // An upload carries them too.
        clock.Advance(TimeSpan.FromSeconds(12));
        var batch = new DeltaBatch { Counters = new EdgeCounters { EventsStored = 172, DeadLettered = 5 } };
        await store.Uplink.UploadAsync(batch, store.Headers);
        var uploaded = (await hub.StoresAsync()).Single();
        Assert.Equal(60.0, uploaded.IngestPerMinute!.Value, 9);
        Assert.Equal(5, uploaded.DeadLettered);

        // The edge restarted (its counters went down): the rate is unknown until a full window has passed.
        clock.Advance(TimeSpan.FromSeconds(20));
        await Ping(store, events: 10);
        Assert.Null((await hub.StoresAsync()).Single().IngestPerMinute);
        clock.Advance(TimeSpan.FromSeconds(15));
        await Ping(store, events: 25);
        Assert.Equal(60.0, (await hub.StoresAsync()).Single().IngestPerMinute!.Value, 9);

        // An older edge's ping without counters changes nothing.
        await store.Uplink.GetCursorAsync(new CursorRequest(), store.Headers);
        Assert.Equal(25, (await hub.StoresAsync()).Single().EventsStored);
    }

    private static async Task Ping(StoreClient store, long events, long dead = 0, long late = 0, long duplicates = 0) =>
        await store.Uplink.GetCursorAsync(new CursorRequest
        {
            Counters = new EdgeCounters { EventsStored = events, DeadLettered = dead, LateEvents = late, Duplicates = duplicates },
        }, store.Headers);
}
