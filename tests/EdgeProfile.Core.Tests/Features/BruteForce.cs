using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;

namespace EdgeProfile.Core.Tests.Features;

/// <summary>
/// The engine's semantics recomputed the slow, obvious way from whole event lists: no panes, no accumulators, no
/// engine code (only the model types' field accessors).
/// </summary>
internal static class BruteForce
{
    public const double DayMs = 86_400_000.0;

    /// <summary>The watermark rules written out: per-source max − out-of-orderness, min over non-idle sources, never decreasing.</summary>
    public sealed class Watermark(StreamOptions options)
    {
        private readonly Dictionary<string, long> _max = new(StringComparer.Ordinal);

        public long Current { get; private set; } = long.MinValue;

        public bool IsLate(long ts) => Current != long.MinValue && ts < Current - (long)options.AllowedLateness.TotalMilliseconds;

        public void Observe(string source, long ts)
        {
            _max[source] = _max.TryGetValue(source, out var m) ? Math.Max(m, ts) : ts;
            var greatest = _max.Values.Max();
            var idle = (long)options.SourceIdleTimeout.TotalMilliseconds;
            var combined = _max
                .Where(kv => greatest - kv.Value <= idle)
                .Min(kv => kv.Value - (long)(options.SourceOutOfOrderness.TryGetValue(kv.Key, out var o) ? o : options.MaxOutOfOrderness).TotalMilliseconds);
            Current = Math.Max(Current, combined);
        }
    }

    /// <summary>Every window of a tumbling, sliding or session definition that holds at least one of the (already accepted) events.</summary>
    public static IEnumerable<(long Start, long End, List<FeatureInput> Events)> Windows(FeatureDefinition d, IEnumerable<FeatureInput> accepted)
    {
        var events = accepted.Where(e => d.Accepts(e.Type, e.Category)).OrderBy(e => e.TimestampMs).ToList();
        switch (d.Window.Kind)
        {
            case WindowKind.Tumbling:
                {
                    var size = (long)d.Window.Size.TotalMilliseconds;
                    foreach (var g in events.GroupBy(e => Floor(e.TimestampMs, size)))
                    {
                        yield return (g.Key, g.Key + size, g.ToList());
                    }

                    break;
                }

            case WindowKind.Sliding:
                {
                    var size = (long)d.Window.Size.TotalMilliseconds;
                    var hop = (long)d.Window.Hop.TotalMilliseconds;
                    var starts = new SortedSet<long>();
                    foreach (var e in events)
                    {
                        for (var s = Floor(e.TimestampMs, hop); s > e.TimestampMs - size; s -= hop)
                        {
                            starts.Add(s);
                        }
                    }

                    foreach (var s in starts)
                    {
                        yield return (s, s + size, events.Where(e => e.TimestampMs >= s && e.TimestampMs < s + size).ToList());
                    }

                    break;
                }

            case WindowKind.Session:
                foreach (var s in Sessions(events, (long)d.Window.Gap.TotalMilliseconds))
                {
                    yield return s;
                }

                break;
            default:
                throw new InvalidOperationException("lifetime windows are never emitted");
        }
    }

    public static List<(long Start, long End, List<FeatureInput> Events)> Sessions(IEnumerable<FeatureInput> events, long gap)
    {
        var sorted = events.OrderBy(e => e.TimestampMs).ToList();
        var result = new List<(long, long, List<FeatureInput>)>();
        var current = new List<FeatureInput>();
        foreach (var e in sorted)
        {
            if (current.Count > 0 && e.TimestampMs - current[^1].TimestampMs >= gap)
            {
                result.Add((current[0].TimestampMs, current[^1].TimestampMs + gap, current));
                current = [];
            }

            current.Add(e);
        }

        if (current.Count > 0)
        {
            result.Add((current[0].TimestampMs, current[^1].TimestampMs + gap, current));
        }

        return result;
    }

    /// <summary>The aggregate of <paramref name="spec"/> over <paramref name="events"/>, read at <paramref name="asOfMs"/>.</summary>
    public static FeatureValue Aggregate(AggregationSpec spec, IReadOnlyCollection<FeatureInput> events, long asOfMs)
    {
        switch (spec.Kind)
        {
            case AggregationKind.TopK:
                {
                    var weighted = events
                        .Where(e => spec.WeightOf(e.Type) > 0 && e.Text(spec.Field) is not null)
                        .GroupBy(e => e.Text(spec.Field)!, StringComparer.Ordinal)
                        .Select(g => (Value: g.Key, Weight: g.Sum(e => spec.WeightOf(e.Type))))
                        .ToList();
                    var total = weighted.Sum(x => x.Weight);
                    return new FeatureValue(Ranking: weighted
                        .OrderByDescending(x => x.Weight).ThenBy(x => x.Value, StringComparer.Ordinal)
                        .Take(spec.K)
                        .Select(x => new RankedValue(x.Value, x.Weight, x.Weight / total))
                        .ToList());
                }

            case AggregationKind.LastValue:
                {
                    var numeric = spec.Field is FeatureField.Amount or FeatureField.Quantity or FeatureField.Price or FeatureField.Hour or FeatureField.Day;
                    var last = events
                        .Where(e => numeric ? e.Number(spec.Field) is not null : e.Text(spec.Field) is not null)
                        .OrderBy(e => e.TimestampMs).ThenBy(e => e.EventId, StringComparer.Ordinal)
                        .LastOrDefault();
                    return last is null ? FeatureValue.None : numeric ? new FeatureValue(last.Number(spec.Field)) : new FeatureValue(Text: last.Text(spec.Field));
                }

            default:
                return Number(spec, events, asOfMs) is { } n ? new FeatureValue(n) : FeatureValue.None;
        }
    }

    private static double? Number(AggregationSpec spec, IReadOnlyCollection<FeatureInput> events, long asOfMs)
    {
        var values = events.Select(e => e.Number(spec.Field)).Where(v => v is not null).Select(v => v!.Value).ToList();
        switch (spec.Kind)
        {
            case AggregationKind.Count:
                return events.Count;
            case AggregationKind.Sum:
                return values.Sum();
            case AggregationKind.Mean:
                return values.Count == 0 ? null : values.Sum() / values.Count;
            case AggregationKind.Min:
                return values.Count == 0 ? null : values.Min();
            case AggregationKind.Max:
                return values.Count == 0 ? null : values.Max();
            case AggregationKind.DistinctCount:
                return Math.Min(10_000, events.Select(e => e.Text(spec.Field)).Where(t => t is not null).Distinct(StringComparer.Ordinal).Count());
            case AggregationKind.TimeSinceLast:
                return events.Count == 0 ? null : (asOfMs - events.Max(e => e.TimestampMs)) / DayMs;
            case AggregationKind.Ratio:
                var num = Number(spec.Numerator!, Part(spec.Numerator!, events), asOfMs);
                var den = Number(spec.Denominator!, Part(spec.Denominator!, events), asOfMs);
                return num is null || den is null || den == 0 ? null : num / den;
            default:
                throw new InvalidOperationException($"{spec.Kind} is not a number");
        }
    }

    private static List<FeatureInput> Part(AggregationSpec part, IReadOnlyCollection<FeatureInput> events) =>
        events.Where(e => part.EventTypes.Count == 0 || part.EventTypes.Contains(e.Type)).ToList();

    /// <summary>What an online read as of <paramref name="t"/> covers, per the documented rules.</summary>
    public static (long? Start, long? End, List<FeatureInput> Events) ReadWindow(FeatureDefinition d, IEnumerable<FeatureInput> accepted, long t)
    {
        var events = accepted.Where(e => d.Accepts(e.Type, e.Category)).ToList();
        switch (d.Window.Kind)
        {
            case WindowKind.Tumbling:
                {
                    var size = (long)d.Window.Size.TotalMilliseconds;
                    var start = Floor(t, size);
                    return (start, start + size, events.Where(e => e.TimestampMs >= start && e.TimestampMs < start + size).ToList());
                }

            case WindowKind.Sliding:
                {
                    var size = (long)d.Window.Size.TotalMilliseconds;
                    var hop = (long)d.Window.Hop.TotalMilliseconds;
                    var end = Floor(t, hop) + hop;
                    return (end - size, end, events.Where(e => e.TimestampMs >= end - size && e.TimestampMs < end).ToList());
                }

            case WindowKind.Session:
                {
                    var session = Sessions(events, (long)d.Window.Gap.TotalMilliseconds).LastOrDefault(s => s.Start <= t);
                    return session.Events is null ? (null, null, []) : (session.Start, session.End, session.Events);
                }

            default:
                return (null, null, events);
        }
    }

    public static long Floor(long value, long step) => (long)Math.Floor(value / (double)step) * step;
}
