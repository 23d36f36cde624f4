namespace EdgeProfile.Core.Features;

/// <summary>
/// The event-time stream engine of customer features. <see cref="Process"/> applies one accepted event to every
/// definition of <see cref="Set"/> that takes it (sliding and tumbling windows as panes of one hop, sessions per
/// customer, lifetime), advances the watermarks, emits windows the watermark closed and purges state no longer
/// needed. <see cref="Read"/> serves online values with status and lineage.
/// <para>
/// Values never depend on the arrival order of the same accepted events: sums are exact (rounded once, when read),
/// last values break time ties by event id, top-k weights are counted per weight. A distinct count keeps at most
/// 10,000 values per pane, session or window and reads min(true count, 10,000).
/// </para>
/// <para>
/// State is purged per customer when that customer is processed or advanced, so call <see cref="Advance"/> for
/// customers without events now and then (it also emits their closed windows). Not thread-safe: one engine per
/// partition of customers, with its own <see cref="WatermarkTracker"/>; never call it from inside a sink.
/// </para>
/// </summary>
public sealed class FeatureEngine
{
    private readonly StreamPlan _plan;
    private readonly EventFacts _facts = new();
    private readonly Dictionary<string, CompiledDefinition> _adHoc = new(StringComparer.Ordinal);
    private readonly long _latenessMs;

    /// <summary>
    /// An engine for <paramref name="set"/> (validated here). Lateness and purging use <paramref name="options"/>'s
    /// <see cref="StreamOptions.AllowedLateness"/>; a given <paramref name="watermarks"/> should use the same options.
    /// </summary>
    public FeatureEngine(FeatureSet set, StreamOptions options, WatermarkTracker? watermarks = null)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        set.Validate();
        Set = set;
        Options = options;
        Watermarks = watermarks ?? new WatermarkTracker(options);
        _plan = new StreamPlan(set.Definitions);
        _latenessMs = StreamMath.Ms(options.AllowedLateness);
    }

    /// <summary>The definitions computed.</summary>
    public FeatureSet Set { get; }

    /// <summary>The event-time settings.</summary>
    public StreamOptions Options { get; }

    /// <summary>The watermarks this engine decides lateness against and advances.</summary>
    public WatermarkTracker Watermarks { get; }

    /// <summary>
    /// Applies one event of <paramref name="state"/>'s customer. An event older than the combined watermark (before
    /// this event) minus the allowed lateness is <see cref="EventOutcome.Late"/> and changes nothing. Otherwise every
    /// accepting definition is updated, the event's source watermark advances, windows of this customer that the
    /// watermark closed are emitted to <paramref name="sink"/> (if given) and state no longer needed is purged.
    /// </summary>
    public EventOutcome Process(CustomerState state, FeatureInput input, IWindowResultSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(input);
        var wm = Watermarks.Current;
        if (wm != long.MinValue && input.TimestampMs < StreamMath.Sub(wm, _latenessMs))
        {
            return EventOutcome.Late;
        }

        var facts = _facts;
        facts.Reset(input);
        var slots = state.SlotsFor(_plan);
        var defs = _plan.Definitions;
        foreach (var i in _plan.ForType(facts.TypeIndex))
        {
            var cd = defs[i];
            if (!cd.AcceptsCategory(facts))
            {
                continue;
            }

            var st = slots[i] ?? state.GetOrCreate(cd);
            Apply(state.CustomerKey, cd, st, facts, sink, ref state.SlotPurgeAt[i], ref state.SlotFireAt[i]);
            if (state.SlotPurgeAt[i] < state.PurgeAt)
            {
                state.PurgeAt = state.SlotPurgeAt[i];
            }

            if (state.SlotFireAt[i] < state.FireAt)
            {
                state.FireAt = state.SlotFireAt[i];
            }
        }

        Watermarks.Observe(input.Source ?? "", input.TimestampMs);
        AdvanceSlots(state, slots, Watermarks.Current, sink);
        state.CompactIdsIfFull();
        return EventOutcome.Accepted;
    }

    /// <summary>
    /// Emits (to <paramref name="sink"/>, if given) this customer's windows that end at or before
    /// <paramref name="watermarkMs"/> and purges state the watermark made useless. Use the tracker's
    /// <see cref="WatermarkTracker.Current"/> for customers without new events, or <see cref="long.MaxValue"/> at the
    /// end of a stream; a value beyond the tracker's watermark purges state that later accepted events would need.
    /// </summary>
    public void Advance(CustomerState state, long watermarkMs, IWindowResultSink? sink)
    {
        ArgumentNullException.ThrowIfNull(state);
        AdvanceSlots(state, state.SlotsFor(_plan), watermarkMs, sink);
    }

    /// <summary>
    /// Backfill: applies an event to <paramref name="only"/> these definitions (they need not be in <see cref="Set"/>),
    /// with no lateness check, no watermark advance, no emission and no purge. Replay a customer's log in event-time
    /// order; replayed windows still held fire Final at the next <see cref="Advance"/> or <see cref="Process"/> with a sink.
    /// </summary>
    public void Replay(CustomerState state, FeatureInput input, IReadOnlyCollection<FeatureDefinition> only)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(only);
        var facts = _facts;
        facts.Reset(input);
        foreach (var d in only)
        {
            var cd = Resolve(d);
            if (cd.Accepts(facts))
            {
                long purgeAt = long.MinValue, fireAt = long.MinValue;
                Apply(state.CustomerKey, cd, state.GetOrCreate(cd), facts, null, ref purgeAt, ref fireAt);
            }
        }

        state.InvalidateDeadlines();
        state.CompactIdsIfFull();
    }

    /// <summary>Every definition of <see cref="Set"/> as of <paramref name="asOfMs"/>, in the set's order.</summary>
    public IReadOnlyList<FeatureReading> Read(CustomerState state, long asOfMs)
    {
        ArgumentNullException.ThrowIfNull(state);
        var defs = _plan.Definitions;
        var result = new FeatureReading[defs.Length];
        for (var i = 0; i < defs.Length; i++)
        {
            result[i] = ReadCore(state, defs[i], asOfMs);
        }

        return result;
    }

    /// <summary>
    /// One definition as of <paramref name="asOfMs"/>: tumbling — the window containing it; sliding — the window
    /// <c>[E − size, E)</c> with <c>E = floor(T/hop)·hop + hop</c>; session — the latest session starting at or before
    /// it; lifetime — everything held. Exact for moments not older than the watermark minus the allowed lateness
    /// (older panes, and sessions other than the latest, are purged). Status: missing when the definition never got
    /// an event for the customer, stale when its latest event is more than the TTL before <paramref name="asOfMs"/>.
    /// </summary>
    public FeatureReading Read(CustomerState state, FeatureDefinition definition, long asOfMs)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(definition);
        return ReadCore(state, Resolve(definition), asOfMs);
    }

    /// <summary>Drops the state of definitions that are not in <see cref="Set"/>; returns how many.</summary>
    public int Prune(CustomerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.RemoveWhere(id => !_plan.ById.ContainsKey(id));
    }

    private CompiledDefinition Resolve(FeatureDefinition d)
    {
        ArgumentNullException.ThrowIfNull(d);
        var id = d.Id;
        if (_plan.ById.TryGetValue(id, out var cd))
        {
            return cd;
        }

        if (!_adHoc.TryGetValue(id, out cd) || !Equals(cd.Definition, d))
        {
            cd = new CompiledDefinition(d, null, -1);
            _adHoc[id] = cd;
        }

        return cd;
    }

    /// <summary>Applies one event to one definition's state and keeps its deadlines (MinValue: unknown) current.</summary>
    private static void Apply(string customerKey, CompiledDefinition cd, DefinitionState st, EventFacts facts, IWindowResultSink? sink,
        ref long purgeAt, ref long fireAt)
    {
        st.Note(facts.TimestampMs);
        switch (cd.Kind)
        {
            case WindowKind.Tumbling or WindowKind.Sliding:
                ApplyWindowed(customerKey, cd, st, facts, sink, ref purgeAt, ref fireAt);
                break;
            case WindowKind.Session:
                ApplySession(customerKey, cd, st, facts, sink);
                UpdateDeadlines(cd, st, out purgeAt, out fireAt);
                break;
            default:
                if (st.Count == 0)
                {
                    st.Add(cd.NewPane(0));
                }

                var pane = st[0];
                pane.Note(facts.TimestampMs, facts.Input.EventId, st.Ids);
                cd.Aggregator.Add(pane, facts);
                purgeAt = long.MaxValue;
                fireAt = long.MaxValue;
                break;
        }
    }

    /// <summary>Recomputes when this definition's state next has something to purge or fire.</summary>
    private static void UpdateDeadlines(CompiledDefinition cd, DefinitionState st, out long purgeAt, out long fireAt)
    {
        var panes = st;
        switch (cd.Kind)
        {
            case WindowKind.Tumbling or WindowKind.Sliding:
                if (panes.Count == 0)
                {
                    purgeAt = long.MaxValue;
                    fireAt = long.MaxValue;
                    break;
                }

                purgeAt = StreamMath.Add(panes[0].Start, cd.SizeMs);
                fireAt = NextEnd(cd, st, panes[0].Start, panes[^1].Start);
                break;
            case WindowKind.Session:
                purgeAt = panes.Count > 1 ? StreamMath.Add(panes[0].LastMs, cd.GapMs) : long.MaxValue;
                var fire = long.MaxValue;
                for (var i = 0; i < panes.Count; i++)
                {
                    if (!panes[i].Emitted)
                    {
                        fire = Math.Min(fire, StreamMath.Add(panes[i].LastMs, cd.GapMs));
                    }
                }

                fireAt = fire;
                break;
            default:
                purgeAt = long.MaxValue;
                fireAt = long.MaxValue;
                break;
        }
    }

    /// <summary>
    /// The first window end after <see cref="DefinitionState.EmittedThrough"/> whose window may hold panes starting in
    /// [<paramref name="firstStart"/>, <paramref name="lastStart"/>]; <see cref="long.MaxValue"/> when none.
    /// </summary>
    private static long NextEnd(CompiledDefinition cd, DefinitionState st, long firstStart, long lastStart)
    {
        var end = StreamMath.Add(firstStart, cd.HopMs);
        if (st.EmittedThrough != long.MinValue)
        {
            end = Math.Max(end, StreamMath.Add(StreamMath.AlignDown(st.EmittedThrough, cd.HopMs), cd.HopMs));
        }

        return end <= StreamMath.Add(lastStart, cd.SizeMs) ? end : long.MaxValue;
    }

    private static void ApplyWindowed(string customerKey, CompiledDefinition cd, DefinitionState st, EventFacts facts, IWindowResultSink? sink,
        ref long purgeAt, ref long fireAt)
    {
        var panes = st;
        var start = StreamMath.AlignDown(facts.TimestampMs, cd.HopMs);
        int index;
        bool existed;
        var n = panes.Count;
        if (n > 0 && panes[n - 1].Start == start)
        {
            index = n - 1;
            existed = true;
        }
        else
        {
            index = FirstPaneAtOrAfter(panes, start);
            existed = index < n && panes[index].Start == start;
            if (!existed)
            {
                panes.Insert(index, cd.NewPane(start));
            }
        }

        if (!existed)
        {
            // A new pane: it may be the oldest (purge earlier) and may hold windows not yet fired.
            if (index == 0 && purgeAt != long.MinValue)
            {
                purgeAt = StreamMath.Add(start, cd.SizeMs);
            }

            if (fireAt != long.MinValue)
            {
                fireAt = Math.Min(fireAt, NextEnd(cd, st, start, start));
            }
        }

        var pane = panes[index];
        pane.Note(facts.TimestampMs, facts.Input.EventId, st.Ids);
        cd.Aggregator.Add(pane, facts);

        // Windows this pane belongs to that were already emitted get the change now; the rest fire when closed.
        if (sink is null || st.EmittedThrough == long.MinValue || StreamMath.Add(start, cd.HopMs) > st.EmittedThrough)
        {
            return;
        }

        var lastEnd = Math.Min(StreamMath.Add(start, cd.SizeMs), st.EmittedThrough);
        for (var end = start + cd.HopMs; end <= lastEnd; end += cd.HopMs)
        {
            var windowStart = end - cd.SizeMs;
            var hadEvents = existed
                || (index > 0 && panes[index - 1].Start >= windowStart)
                || (index + 1 < panes.Count && panes[index + 1].Start < end);
            EmitWindow(customerKey, cd, panes, end, hadEvents ? WindowEmission.Update : WindowEmission.Final, sink);
        }
    }

    private static void ApplySession(string customerKey, CompiledDefinition cd, DefinitionState st, EventFacts facts, IWindowResultSink? sink)
    {
        var panes = st;
        var t = facts.TimestampMs;
        var gap = cd.GapMs;

        // Sessions are disjoint and sorted, so their ends are sorted too: find those whose window [start, last + gap)
        // overlaps the event's [t, t + gap), i.e. that have an event closer than the gap.
        var lo = panes.Count;
        while (lo > 0 && StreamMath.Add(panes[lo - 1].LastMs, gap) > t)
        {
            lo--;
        }

        var hi = lo;
        var eventEnd = StreamMath.Add(t, gap);
        while (hi < panes.Count && panes[hi].Start < eventEnd)
        {
            hi++;
        }

        if (hi == lo)
        {
            var fresh = cd.NewPane(t);
            fresh.Note(t, facts.Input.EventId, st.Ids);
            cd.Aggregator.Add(fresh, facts);
            panes.Insert(lo, fresh);
            return;
        }

        var target = panes[lo];
        var sameBounds = hi - lo == 1 && t >= target.Start && t <= target.LastMs;
        if (sink is not null && !sameBounds)
        {
            for (var k = lo; k < hi; k++)
            {
                var p = panes[k];
                if (p.Emitted)
                {
                    var end = StreamMath.Add(p.LastMs, gap);
                    sink.Emit(new WindowResult(customerKey, cd.Id, p.Start, end, cd.Aggregator.Value(p, end), WindowEmission.Retract));
                }
            }
        }

        for (var k = lo + 1; k < hi; k++)
        {
            target.MergeFrom(panes[k]);
            target.MergeStats(panes[k], st.Ids);
        }

        if (hi - lo > 1)
        {
            panes.RemoveRange(lo + 1, hi - lo - 1, cd);
        }

        target.Note(t, facts.Input.EventId, st.Ids);
        cd.Aggregator.Add(target, facts);
        target.Start = target.FirstMs;
        if (!sameBounds)
        {
            // New bounds are a new window: it fires Final when the watermark passes its end.
            target.Emitted = false;
        }
        else if (sink is not null && target.Emitted)
        {
            var end = StreamMath.Add(target.LastMs, gap);
            sink.Emit(new WindowResult(customerKey, cd.Id, target.Start, end, cd.Aggregator.Value(target, end), WindowEmission.Update));
        }
    }

    private void AdvanceSlots(CustomerState state, DefinitionState?[] slots, long watermarkMs, IWindowResultSink? sink)
    {
        if (watermarkMs == long.MinValue)
        {
            return;
        }

        // Most events close nothing: the customer's earliest deadlines say so without visiting every definition.
        var purgeThrough = StreamMath.Sub(watermarkMs, _latenessMs);
        if ((purgeThrough < state.PurgeAt || state.PurgeAt == long.MaxValue) && (sink is null || watermarkMs < state.FireAt || state.FireAt == long.MaxValue))
        {
            return;
        }

        long purgeAt = long.MaxValue, fireAt = long.MaxValue;
        var defs = _plan.Definitions;
        var slotPurge = state.SlotPurgeAt;
        var slotFire = state.SlotFireAt;
        for (var i = 0; i < slots.Length; i++)
        {
            // Only definitions with a deadline due (or unknown) are visited; MaxValue means never (even at the end of a stream).
            if ((slotPurge[i] > purgeThrough || slotPurge[i] == long.MaxValue)
                && (sink is null || slotFire[i] > watermarkMs || slotFire[i] == long.MaxValue))
            {
                purgeAt = Math.Min(purgeAt, slotPurge[i]);
                fireAt = Math.Min(fireAt, slotFire[i]);
                continue;
            }

            var st = slots[i];
            var cd = defs[i];
            if (st is null || cd.Kind == WindowKind.Lifetime)
            {
                slotPurge[i] = slotFire[i] = long.MaxValue;
                continue;
            }

            if (slotPurge[i] == long.MinValue || slotFire[i] == long.MinValue)
            {
                UpdateDeadlines(cd, st, out slotPurge[i], out slotFire[i]);
            }

            var changed = false;
            if (sink is not null && slotFire[i] <= watermarkMs && slotFire[i] != long.MaxValue)
            {
                if (cd.Kind == WindowKind.Session)
                {
                    FireSessions(state.CustomerKey, cd, st, watermarkMs, sink);
                }
                else
                {
                    FireWindowed(state.CustomerKey, cd, st, watermarkMs, sink);
                }

                changed = true;
            }

            if (slotPurge[i] <= purgeThrough && slotPurge[i] != long.MaxValue)
            {
                if (cd.Kind == WindowKind.Session)
                {
                    PurgeSessions(cd, st, purgeThrough);
                }
                else
                {
                    PurgeWindowed(cd, st, purgeThrough);
                }

                changed = true;
            }

            if (changed)
            {
                UpdateDeadlines(cd, st, out slotPurge[i], out slotFire[i]);
            }

            purgeAt = Math.Min(purgeAt, slotPurge[i]);
            fireAt = Math.Min(fireAt, slotFire[i]);
        }

        state.PurgeAt = purgeAt;
        state.FireAt = fireAt;
    }

    private static void FireWindowed(string customerKey, CompiledDefinition cd, DefinitionState st, long watermarkMs, IWindowResultSink sink)
    {
        if (st.EmittedThrough >= watermarkMs)
        {
            return;
        }

        var panes = st;
        if (panes.Count > 0)
        {
            var hop = cd.HopMs;
            var end = StreamMath.Add(panes[0].Start, hop);
            if (st.EmittedThrough != long.MinValue)
            {
                end = Math.Max(end, StreamMath.Add(StreamMath.AlignDown(st.EmittedThrough, hop), hop));
            }

            var i = 0;
            while (end <= watermarkMs)
            {
                var windowStart = end - cd.SizeMs;
                while (i < panes.Count && panes[i].Start < windowStart)
                {
                    i++;
                }

                if (i == panes.Count)
                {
                    break;
                }

                if (panes[i].Start >= end)
                {
                    // No events in this window: jump to the first window holding the next pane.
                    end = StreamMath.Add(panes[i].Start, hop);
                    continue;
                }

                EmitWindow(customerKey, cd, panes, end, WindowEmission.Final, sink);
                if (end > long.MaxValue - hop)
                {
                    break;
                }

                end += hop;
            }
        }

        st.EmittedThrough = watermarkMs;
    }

    private static void EmitWindow(string customerKey, CompiledDefinition cd, DefinitionState panes, long end, WindowEmission kind, IWindowResultSink sink)
    {
        var start = end - cd.SizeMs;
        var merged = Merge(cd, panes, start, end);
        sink.Emit(new WindowResult(customerKey, cd.Id, start, end, cd.Aggregator.Value(merged, end), kind));
    }

    /// <summary>The panes starting in [<paramref name="start"/>, <paramref name="end"/>) merged into the definition's scratch pane.</summary>
    private static Accumulator Merge(CompiledDefinition cd, DefinitionState panes, long start, long end)
    {
        var scratch = cd.Scratch;
        scratch.Reset(start);
        for (var i = FirstPaneAtOrAfter(panes, start); i < panes.Count && panes[i].Start < end; i++)
        {
            scratch.MergeFrom(panes[i]);
            scratch.MergeStats(panes[i], panes.Ids);
        }

        return scratch;
    }

    private static void PurgeWindowed(CompiledDefinition cd, DefinitionState st, long purgeThrough)
    {
        // A pane is needed until its last window (ending at start + size) is older than the allowed lateness.
        var panes = st;
        var n = 0;
        while (n < panes.Count && StreamMath.Add(panes[n].Start, cd.SizeMs) <= purgeThrough)
        {
            n++;
        }

        if (n > 0)
        {
            panes.RemoveRange(0, n, cd);
        }
    }

    private static void FireSessions(string customerKey, CompiledDefinition cd, DefinitionState st, long watermarkMs, IWindowResultSink sink)
    {
        for (var i = 0; i < st.Count; i++)
        {
            var p = st[i];
            if (p.Emitted)
            {
                continue;
            }

            var end = StreamMath.Add(p.LastMs, cd.GapMs);
            if (end <= watermarkMs)
            {
                p.Emitted = true;
                sink.Emit(new WindowResult(customerKey, cd.Id, p.Start, end, cd.Aggregator.Value(p, end), WindowEmission.Final));
            }
        }
    }

    private static void PurgeSessions(CompiledDefinition cd, DefinitionState st, long purgeThrough)
    {
        // The latest session stays: it is what an online read returns until a new session starts.
        var panes = st;
        var n = 0;
        while (n < panes.Count - 1 && StreamMath.Add(panes[n].LastMs, cd.GapMs) <= purgeThrough)
        {
            n++;
        }

        if (n > 0)
        {
            panes.RemoveRange(0, n, cd);
        }
    }

    private static int FirstPaneAtOrAfter(DefinitionState panes, long start)
    {
        int lo = 0, hi = panes.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (panes[mid].Start < start)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static FeatureReading ReadCore(CustomerState state, CompiledDefinition cd, long asOfMs)
    {
        var st = state.Find(cd);
        Accumulator? source = null;
        long? windowStart = null, windowEnd = null;
        switch (cd.Kind)
        {
            case WindowKind.Tumbling or WindowKind.Sliding:
                var end = StreamMath.Add(StreamMath.AlignDown(asOfMs, cd.HopMs), cd.HopMs);
                var start = end - cd.SizeMs;
                windowStart = start;
                windowEnd = end;
                source = st is null ? null : Merge(cd, st, start, end);
                break;
            case WindowKind.Session when st is not null:
                for (var i = st.Count - 1; i >= 0; i--)
                {
                    if (st[i].Start <= asOfMs)
                    {
                        source = st[i];
                        windowStart = source.Start;
                        windowEnd = StreamMath.Add(source.LastMs, cd.GapMs);
                        break;
                    }
                }

                break;
            case WindowKind.Lifetime when st is not null && st.Count > 0:
                source = st[0];
                break;
        }

        if (source is null)
        {
            source = cd.Scratch;
            source.Reset(0);
        }

        var status = st is null || st.Events == 0 ? FeatureStatus.Missing
            : cd.TtlMs is { } ttl && StreamMath.Sub(asOfMs, st.LatestMs) > ttl ? FeatureStatus.Stale
            : FeatureStatus.Fresh;
        return new FeatureReading(cd.Definition, cd.Aggregator.Value(source, asOfMs), status, LineageOf(cd, source, state.Ids, windowStart, windowEnd));
    }

    internal static Lineage LineageOf(CompiledDefinition cd, Accumulator source, EventIds ids, long? windowStart, long? windowEnd) =>
        source.Events == 0
            ? new Lineage(cd.Id, 0, null, null, null, windowStart, windowEnd)
            : new Lineage(cd.Id, source.Events, source.FirstMs, source.LastMs, ids[source.LastRef], windowStart, windowEnd);
}
