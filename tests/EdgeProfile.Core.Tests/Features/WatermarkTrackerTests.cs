using EdgeProfile.Core.Features;
using static EdgeProfile.Core.Tests.Features.StreamTestKit;

namespace EdgeProfile.Core.Tests.Features;

public sealed class WatermarkTrackerTests
{
    private static readonly StreamOptions Options = new()
    {
        MaxOutOfOrderness = TimeSpan.FromSeconds(5),
        SourceOutOfOrderness = new Dictionary<string, TimeSpan> { ["app"] = TimeSpan.FromMinutes(2) },
        AllowedLateness = TimeSpan.FromMinutes(5),
        SourceIdleTimeout = TimeSpan.FromHours(1),
    };

    [Fact]
    public void Before_any_event_there_is_no_watermark_and_nothing_is_late()
    {
        var w = new WatermarkTracker(Options);
        Assert.Equal(long.MinValue, w.Current);
        Assert.Equal(long.MinValue, w.SourceWatermark("pos"));
        Assert.False(w.IsLate(long.MinValue));
    }

    [Fact]
    public void Combined_watermark_is_the_slowest_active_source_minus_its_out_of_orderness()
    {
        var w = new WatermarkTracker(Options);
        w.Observe("pos", Epoch + Hour);
        Assert.Equal(Epoch + Hour - 5000, w.Current);
        w.Observe("app", Epoch + Hour);
        Assert.Equal(Epoch + Hour - (2 * Minute), w.SourceWatermark("app"));

        // The combined watermark never goes back, even though app holds it lower than pos did.
        Assert.Equal(Epoch + Hour - 5000, w.Current);
        w.Observe("pos", Epoch + (2 * Hour));
        Assert.Equal(Epoch + Hour - 5000, w.Current);
        w.Observe("app", Epoch + (90 * Minute));
        Assert.Equal(Epoch + (88 * Minute), w.Current);

        // Older events do not move anything.
        w.Observe("app", Epoch);
        Assert.Equal(Epoch + (88 * Minute), w.Current);
        Assert.True(w.IsLate(Epoch + (83 * Minute) - 1));
        Assert.False(w.IsLate(Epoch + (83 * Minute)));
    }

    [Fact]
    public void A_source_more_than_the_idle_timeout_behind_stops_holding_the_watermark()
    {
        var w = new WatermarkTracker(Options);
        w.Observe("app", Epoch);
        w.Observe("pos", Epoch + Hour);
        Assert.False(w.IsIdle("app"));
        Assert.Equal(Epoch - (2 * Minute), w.Current);

        // pos exactly one hour ahead: app still active. One millisecond more: app idle.
        w.Observe("pos", Epoch + Hour + 1);
        Assert.True(w.IsIdle("app"));
        Assert.Equal(Epoch + Hour + 1 - 5000, w.Current);

        // app comes back behind: active again, but the combined watermark holds until app catches up.
        w.Observe("app", Epoch + (30 * Minute));
        Assert.False(w.IsIdle("app"));
        Assert.Equal(Epoch + Hour + 1 - 5000, w.Current);
        w.Observe("app", Epoch + (2 * Hour));
        Assert.Equal(Epoch + (2 * Hour) - (2 * Minute), w.SourceWatermark("app"));
        Assert.Equal(Epoch + Hour + 1 - 5000, w.Current);
        w.Observe("pos", Epoch + (2 * Hour));
        Assert.Equal(Epoch + (2 * Hour) - (2 * Minute), w.Current);
    }

    [Fact]
    public void Serialized_tracker_continues_exactly_like_the_original()
    {
        var rng = new Random(11);
        var sources = new[] { "pos", "app", "web" };
        var original = new WatermarkTracker(Options);
        WatermarkTracker? restored = null;
        for (var i = 0; i < 2000; i++)
        {
            var source = sources[rng.Next(3)];
            var ts = Epoch + (i * 10_000L) - rng.Next(0, (int)(3 * Hour / 1000)) * 1000L;
            original.Observe(source, ts);
            restored?.Observe(source, ts);
            if (i == 700)
            {
                var bytes = original.Serialize();
                Assert.Equal(1, bytes[0]);
                restored = WatermarkTracker.Deserialize(bytes, Options);
                Assert.Equal(bytes, restored.Serialize());
            }

            if (restored is not null)
            {
                Assert.Equal(original.Current, restored.Current);
                Assert.Equal(original.SourceWatermark(source), restored.SourceWatermark(source));
            }
        }

        Assert.Throws<InvalidDataException>(() => WatermarkTracker.Deserialize([9, 0, 0], Options));
        Assert.Throws<InvalidDataException>(() => WatermarkTracker.Deserialize(original.Serialize().AsSpan(0, 5), Options));
    }

    [Fact]
    public void Invalid_options_are_refused_naming_the_setting()
    {
        var ex = Assert.Throws<ArgumentException>(() => new WatermarkTracker(new StreamOptions { AllowedLateness = TimeSpan.FromSeconds(-1) }));
        Assert.Contains(nameof(StreamOptions.AllowedLateness), ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new WatermarkTracker(new StreamOptions { SourceIdleTimeout = TimeSpan.Zero }));
    }
}
