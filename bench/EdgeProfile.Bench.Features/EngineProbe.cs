using System.Globalization;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;

namespace EdgeProfile.Bench.Features;

/// <summary>
/// What the stream engine alone allocates and keeps per event, without MQTT, SQLite or the bench's publishers: the
/// default feature set (and each kind of aggregation in it on its own) over the bench's workload, a history six hours
/// back and then a stream a minute back, as the latency phase sends. During the stream a gen0 collection is forced
/// every <see cref="Every"/> events, and the bytes it promoted (objects made since the last one and still reachable)
/// are summed: deterministic figures for what the engine's state keeps alive, which is what makes gen0 pauses long.
/// </summary>
internal static class EngineProbe
{
    private const int Every = 1_000;
    private static readonly EventType[] Types = [EventType.View, EventType.View, EventType.View, EventType.Search, EventType.AddToCart, EventType.Purchase, EventType.Like, EventType.VideoWatch, EventType.Visit, EventType.Return];
    private static readonly string[] Categories = ["Baby & Toddler > Strollers", "Baby & Toddler > Formula", "Women > Dresses", "Men > Shoes", "Electronics > Phones", "Home > Kitchen", "Food > Snacks", "Beauty > Skin Care"];
    private static readonly string[] Channels = ["pos", "app", "web"];

    public static void Run(Settings s)
    {
        var all = DefaultFeatures.Set;
        var groups = new List<(string Label, FeatureSet Set)> { ("all 47 definitions", all) };
        foreach (var g in all.Definitions.GroupBy(d => d.Aggregation.Kind))
        {
            groups.Add(($"{g.Key} only ({g.Count()})", all with { Definitions = [.. g] }));
        }

        Console.WriteLine($"Engine alone, {s.Customers:N0} customers: {s.Events:N0} history events, then {s.LatencySamples + s.Warmup:N0} stream events with a forced gen0 GC every {Every:N0}:");
        Console.WriteLine("| definitions | allocated per event | promoted per event (gen0 survivors) | live state after |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (label, set) in groups)
        {
            var (allocated, promoted, live) = Measure(set, s);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {allocated:N0} B | {promoted:N0} B | {live / (1024.0 * 1024):F1} MiB |"));
        }

        Console.WriteLine();
    }

    private static (double Allocated, double Promoted, long Live) Measure(FeatureSet set, Settings s)
    {
        var engine = new FeatureEngine(set, new StreamOptions());
        var states = new Dictionary<string, CustomerState>(StringComparer.Ordinal);
        // A fixed instant, half past an hour: which panes the stream opens depends on where the hour and day
        // boundaries fall, and the figures should not depend on when the bench runs.
        var now = new DateTimeOffset(2026, 1, 15, 12, 30, 0, TimeSpan.Zero);
        Feed(engine, states, s.Events, s.Customers, now.AddHours(-6).ToUnixTimeMilliseconds(), "b", 0, null);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = GC.GetTotalMemory(true);
        var allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        long promoted = 0;
        var gen0 = 0;
        var stream = s.LatencySamples + s.Warmup;
        Feed(engine, states, stream, s.Customers, now.AddMinutes(-1).ToUnixTimeMilliseconds(), "lat", 1, () =>
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            // A forced gen0 collection may be turned into a gen1 one, whose promoted bytes count gen1's survivors again.
            var info = GC.GetGCMemoryInfo(GCKind.Ephemeral);
            if (info.Generation == 0)
            {
                promoted += info.PromotedBytes;
                gen0++;
            }
        });
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
        GC.Collect();
        var live = GC.GetTotalMemory(true) - before;
        GC.KeepAlive(states);
        return (allocated / (double)stream, promoted / (double)Math.Max(1, gen0 * Every), live);
    }

    /// <summary>The bench workload's events as the edge's decoder hands them over: fresh strings per event.</summary>
    private static void Feed(FeatureEngine engine, Dictionary<string, CustomerState> states, int count, int customers, long startMs, string prefix, int seed, Action? every)
    {
        var random = new Random(42 + seed);
        for (var i = 0; i < count; i++)
        {
            var price = Math.Round(1 + random.NextDouble() * 300, 2);
            var type = Types[random.Next(Types.Length)];
            var channel = Channels[random.Next(Channels.Length)];
            var key = string.Create(CultureInfo.InvariantCulture, $"loyalty:B-{random.Next(customers)}");
            var input = new FeatureInput
            {
                EventId = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}"),
                TimestampMs = startMs + i,
                Type = type,
                Source = channel,
                Channel = channel,
                Store = new string("bench".AsSpan()),
                Amount = price,
                Quantity = 1,
                Price = price,
                Sku = string.Create(CultureInfo.InvariantCulture, $"SKU-{random.Next(500)}"),
                Category = new string(Categories[random.Next(Categories.Length)].AsSpan()),
            };
            if (!states.TryGetValue(key, out var state))
            {
                state = new CustomerState(key);
                states[key] = state;
            }

            engine.Process(state, input);
            if (every is not null && (i + 1) % Every == 0)
            {
                every();
            }
        }
    }
}
