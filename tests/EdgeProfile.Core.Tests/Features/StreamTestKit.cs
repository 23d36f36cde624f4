using System.Globalization;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;

namespace EdgeProfile.Core.Tests.Features;

/// <summary>Shared pieces of the stream engine tests: a feature set covering every window and aggregation kind, random streams, a recording sink.</summary>
internal static class StreamTestKit
{
    public const long Minute = 60_000;
    public const long Hour = 60 * Minute;
    public const long Day = 24 * Hour;

    /// <summary>2026-11-29T00:00Z, so windows of every size line up with midnight.</summary>
    public static readonly long Epoch = new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static readonly IReadOnlyDictionary<string, double> Weights = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["view"] = 1,
        ["search"] = 0.5,
        ["add_to_cart"] = 3,
        ["purchase"] = 5,
        ["return"] = 0,
    };

    // Twelve: more than the 4 values a distinct-count pane keeps inline and the 8 a top-k pane keeps before it builds a table.
    public static readonly string[] Skus = ["SKU-1", "SKU-2", "SKU-3", "SKU-4", "SKU-5", "SKU-6", "SKU-7", "SKU-8", "SKU-9", "SKU-10", "SKU-11", "SKU-12"];

    public static readonly string?[] Categories =
        ["Baby & Toddler > Strollers", "Baby & Toddler>Toys", " baby & toddler > Toys ", "Home > Kitchen", "Home", "Garden > Tools > Saws", null];

    public static readonly EventType[] Types =
        [EventType.View, EventType.View, EventType.View, EventType.Search, EventType.AddToCart, EventType.Purchase, EventType.Purchase, EventType.Return, EventType.Like];

    /// <summary>Every aggregation kind over tumbling 10m, sliding 30m/10m and session 5m windows, plus lifetime.</summary>
    public static FeatureSet WindowSet { get; } = BuildWindowSet();

    private static FeatureSet BuildWindowSet()
    {
        var defs = new List<FeatureDefinition>();
        foreach (var (label, window) in new[]
                 {
                     ("tum", WindowSpec.Tumbling(TimeSpan.FromMinutes(10))),
                     ("sld", WindowSpec.Sliding(TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(10))),
                     ("ses", WindowSpec.Session(TimeSpan.FromMinutes(5))),
                     ("life", WindowSpec.Lifetime),
                 })
        {
            FeatureDefinition Def(string name, AggregationSpec agg, string? prefix = null, params EventType[] types) =>
                new() { Name = $"{name}_{label}", Window = window, Aggregation = agg, EventTypes = types, CategoryPrefix = prefix, Ttl = TimeSpan.FromMinutes(20) };

            defs.Add(Def("count", Agg(AggregationKind.Count)));
            defs.Add(Def("baby_count", Agg(AggregationKind.Count), "baby & toddler"));
            defs.Add(Def("spend", Agg(AggregationKind.Sum, FeatureField.Amount), null, EventType.Purchase));
            defs.Add(Def("avg_amount", Agg(AggregationKind.Mean, FeatureField.Amount)));
            defs.Add(Def("min_price", Agg(AggregationKind.Min, FeatureField.Price)));
            defs.Add(Def("max_qty", Agg(AggregationKind.Max, FeatureField.Quantity)));
            defs.Add(Def("skus", Agg(AggregationKind.DistinctCount, FeatureField.Sku)));
            if (label is "sld" or "life")
            {
                // Second variants of distinct count and ratio: one window kind is enough (keeps the property test fast).
                defs.Add(Def("hours", Agg(AggregationKind.DistinctCount, FeatureField.Hour)));
                defs.Add(Def("spend_per_sku", new AggregationSpec
                {
                    Kind = AggregationKind.Ratio,
                    Numerator = new AggregationSpec { Kind = AggregationKind.Sum, Field = FeatureField.Amount, EventTypes = [EventType.Purchase] },
                    Denominator = new AggregationSpec { Kind = AggregationKind.DistinctCount, Field = FeatureField.Sku },
                }));
            }

            defs.Add(Def("last_cat", Agg(AggregationKind.LastValue, FeatureField.Category)));
            defs.Add(Def("last_amount", Agg(AggregationKind.LastValue, FeatureField.Amount)));
            defs.Add(Def("since_last", Agg(AggregationKind.TimeSinceLast), null, EventType.Purchase, EventType.AddToCart));
            defs.Add(Def("affinity", new AggregationSpec { Kind = AggregationKind.TopK, Field = FeatureField.CategoryTop, K = 2, Weights = Weights }));
            defs.Add(Def("top_skus", new AggregationSpec { Kind = AggregationKind.TopK, Field = FeatureField.Sku, K = 3 }));
            defs.Add(Def("conversion", new AggregationSpec
            {
                Kind = AggregationKind.Ratio,
                Numerator = new AggregationSpec { Kind = AggregationKind.Count, EventTypes = [EventType.Purchase] },
                Denominator = new AggregationSpec { Kind = AggregationKind.Count, EventTypes = [EventType.View] },
            }, null, EventType.Purchase, EventType.View));
        }

        var set = new FeatureSet { Revision = 7, Definitions = defs };
        set.Validate();
        return set;
    }

    public static AggregationSpec Agg(AggregationKind kind, FeatureField field = FeatureField.None) => new() { Kind = kind, Field = field };

    public static FeatureInput Event(string id, long ts, EventType type = EventType.View, string source = "pos", double? amount = null,
        double? quantity = null, double? price = null, string? sku = "SKU-1", string? category = "Home > Kitchen") => new()
        {
            EventId = id,
            TimestampMs = ts,
            Type = type,
            Source = source,
            Channel = source,
            Store = "store-001",
            Amount = amount,
            Quantity = quantity,
            Price = price,
            Sku = sku,
            Category = category,
        };

    /// <summary>A random event of a random kind at <paramref name="ts"/>; amounts have cents, some fields are missing.</summary>
    public static FeatureInput RandomEvent(Random rng, string id, long ts, string source)
    {
        var type = Types[rng.Next(Types.Length)];
        var price = rng.Next(5) == 0 ? (double?)null : Math.Round(1 + (rng.NextDouble() * 300), 2);
        var quantity = rng.Next(4) == 0 ? (double?)null : rng.Next(1, 4);
        double? amount = type == EventType.Purchase && rng.Next(6) != 0 ? Math.Round((price ?? 10) * (quantity ?? 1), 2) : null;
        return Event(id, ts, type, source, amount, quantity, price, rng.Next(8) == 0 ? null : Skus[rng.Next(Skus.Length)],
            Categories[rng.Next(Categories.Length)]);
    }

    /// <summary>Exact, comparable text of a value: numbers round-trip, rankings list value, weight and share.</summary>
    public static string Show(FeatureValue v) =>
        v.Number is { } n ? "n:" + n.ToString("R", CultureInfo.InvariantCulture)
        : v.Text is { } t ? "t:" + t
        : v.Ranking is { Count: > 0 } r ? "r:" + string.Join('|', r.Select(x => $"{x.Value}={x.Weight.ToString("R", CultureInfo.InvariantCulture)}/{x.Share.ToString("R", CultureInfo.InvariantCulture)}"))
        : "none";

    public static string Show(WindowResult r) => $"{r.CustomerKey}|{r.DefinitionId}|{r.StartMs}|{r.EndMs}|{r.Kind}|{Show(r.Value)}";

    public static string Show(FeatureReading r) =>
        $"{r.Definition.Id}|{Show(r.Value)}|{r.Status}|{r.Lineage}";

    /// <summary>Equal values, numbers within a relative 1e-9 (the engine sums exactly, the brute force in doubles).</summary>
    public static void AssertClose(FeatureValue expected, FeatureValue actual, string what)
    {
        if (!Same(expected, actual))
        {
            Assert.Fail($"{what}: expected {Show(expected)}, got {Show(actual)}");
        }
    }

    /// <inheritdoc cref="AssertClose(FeatureValue, FeatureValue, string)"/>
    public static void AssertClose(FeatureValue expected, FeatureValue actual, Func<string> what)
    {
        if (!Same(expected, actual))
        {
            Assert.Fail($"{what()}: expected {Show(expected)}, got {Show(actual)}");
        }
    }

    private static bool Same(FeatureValue expected, FeatureValue actual)
    {
        if (!Close(expected.Number, actual.Number) || expected.Text != actual.Text)
        {
            return false;
        }

        var er = expected.Ranking ?? [];
        var ar = actual.Ranking ?? [];
        if (er.Count != ar.Count)
        {
            return false;
        }

        for (var i = 0; i < er.Count; i++)
        {
            if (er[i].Value != ar[i].Value || !Close(er[i].Weight, ar[i].Weight) || !Close(er[i].Share, ar[i].Share))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Close(double? a, double? b) =>
        a is null || b is null ? a is null && b is null
        : a.Value == b.Value || Math.Abs(a.Value - b.Value) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(a.Value), Math.Abs(b.Value)));
}

/// <summary>Records emissions and checks the emission contract as they arrive.</summary>
internal sealed class RecordingSink(Func<long> watermark) : IWindowResultSink
{
    private readonly Dictionary<(string, string, long, long), FeatureValue> _open = [];
    private readonly HashSet<(string, string, long, long)> _finalled = [];
    private readonly HashSet<(string, string, long, long)> _retracted = [];

    public List<WindowResult> All { get; } = [];

    /// <summary>The windows and their latest values after applying every Final, Update and Retract.</summary>
    public IReadOnlyDictionary<(string Customer, string Definition, long Start, long End), FeatureValue> Windows => _open;

    public void Emit(WindowResult result)
    {
        All.Add(result);
        var key = (result.CustomerKey, result.DefinitionId, result.StartMs, result.EndMs);
        if (_retracted.Contains(key))
        {
            Assert.Fail($"emission after retraction: {StreamTestKit.Show(result)}");
        }

        switch (result.Kind)
        {
            case WindowEmission.Final:
                if (watermark() < result.EndMs)
                {
                    Assert.Fail($"Final before the watermark ({watermark()}) passed the end: {StreamTestKit.Show(result)}");
                }

                if (!_finalled.Add(key))
                {
                    Assert.Fail($"second Final: {StreamTestKit.Show(result)}");
                }

                _open[key] = result.Value;
                break;
            case WindowEmission.Update:
                if (!_finalled.Contains(key))
                {
                    Assert.Fail($"Update of a window never emitted Final: {StreamTestKit.Show(result)}");
                }

                _open[key] = result.Value;
                break;
            case WindowEmission.Retract:
                if (!_open.Remove(key))
                {
                    Assert.Fail($"Retract of a window not open: {StreamTestKit.Show(result)}");
                }

                _retracted.Add(key);
                break;
        }
    }
}
