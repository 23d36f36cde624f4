namespace EdgeProfile.Core.Features;

/// <summary>
/// Offline, exact feature values as they were just before a cutoff, for training sets: the same accumulators as the
/// online engine, applied directly to one customer's events (no panes, no watermarks). Unlike the online read, the
/// sliding window is <c>[cutoff − size, cutoff)</c>, not hop-aligned. Thread-safe (no shared state).
/// </summary>
public static class PointInTime
{
    /// <summary>
    /// Every definition of <paramref name="set"/> over one customer's accepted <paramref name="events"/> (any order)
    /// with <see cref="FeatureInput.TimestampMs"/> &lt; <paramref name="cutoffMs"/>: sliding —
    /// <c>[cutoff − size, cutoff)</c>; tumbling — <c>[floor(cutoff/size)·size, cutoff)</c>; session — the latest
    /// session of those events; lifetime — all of them. Time since last and staleness are measured to the cutoff.
    /// </summary>
    public static IReadOnlyList<FeatureReading> Compute(FeatureSet set, IEnumerable<FeatureInput> events, long cutoffMs)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(events);
        var plan = new StreamPlan(set.Definitions);
        var defs = plan.Definitions;
        var n = defs.Length;
        var windows = new Accumulator[n];
        var starts = new long[n];
        var latest = new long[n];
        var seen = new bool[n];
        var sessionEvents = new List<FeatureInput>?[n];
        for (var i = 0; i < n; i++)
        {
            var cd = defs[i];
            windows[i] = cd.Aggregator.Create();
            latest[i] = long.MinValue;
            starts[i] = cd.Kind switch
            {
                WindowKind.Sliding => StreamMath.Sub(cutoffMs, cd.SizeMs),
                WindowKind.Tumbling => StreamMath.AlignDown(cutoffMs, cd.SizeMs),
                _ => long.MinValue,
            };
        }

        var facts = new EventFacts();
        var ids = new EventIds();
        foreach (var e in events)
        {
            if (e is null || e.TimestampMs >= cutoffMs)
            {
                continue;
            }

            facts.Reset(e);
            foreach (var i in plan.ForType(facts.TypeIndex))
            {
                var cd = defs[i];
                if (!cd.AcceptsCategory(facts))
                {
                    continue;
                }

                seen[i] = true;
                latest[i] = Math.Max(latest[i], e.TimestampMs);
                if (cd.Kind == WindowKind.Session)
                {
                    (sessionEvents[i] ??= []).Add(e);
                }
                else if (e.TimestampMs >= starts[i])
                {
                    windows[i].Note(e.TimestampMs, e.EventId, ids);
                    cd.Aggregator.Add(windows[i], facts);
                }
            }
        }

        var result = new FeatureReading[n];
        for (var i = 0; i < n; i++)
        {
            var cd = defs[i];
            long? windowStart = cd.Kind is WindowKind.Sliding or WindowKind.Tumbling ? starts[i] : null;
            long? windowEnd = cd.Kind is WindowKind.Sliding or WindowKind.Tumbling ? cutoffMs : null;
            if (sessionEvents[i] is { } list)
            {
                var session = LatestSession(list, cd.GapMs);
                foreach (var e in session)
                {
                    facts.Reset(e);
                    windows[i].Note(e.TimestampMs, e.EventId, ids);
                    cd.Aggregator.Add(windows[i], facts);
                }

                windowStart = windows[i].FirstMs;
                windowEnd = StreamMath.Add(windows[i].LastMs, cd.GapMs);
            }

            var status = !seen[i] ? FeatureStatus.Missing
                : cd.TtlMs is { } ttl && StreamMath.Sub(cutoffMs, latest[i]) > ttl ? FeatureStatus.Stale
                : FeatureStatus.Fresh;
            result[i] = new FeatureReading(cd.Definition, cd.Aggregator.Value(windows[i], cutoffMs), status,
                FeatureEngine.LineageOf(cd, windows[i], ids, windowStart, windowEnd));
        }

        return result;
    }

    /// <summary>The events of the last session: walking back from the latest, until a silence of at least the gap.</summary>
    private static IEnumerable<FeatureInput> LatestSession(List<FeatureInput> events, long gapMs)
    {
        events.Sort(static (a, b) => a.TimestampMs.CompareTo(b.TimestampMs));
        var first = events.Count - 1;
        while (first > 0 && events[first].TimestampMs - events[first - 1].TimestampMs < gapMs)
        {
            first--;
        }

        for (var i = first; i < events.Count; i++)
        {
            yield return events[i];
        }
    }
}
