namespace EdgeProfile.Core.Features;

/// <summary>
/// Event-time watermarks per source and combined. A source's watermark is its newest event time minus its
/// out-of-orderness; the combined watermark (<see cref="Current"/>) is the smallest over active sources, where a
/// source is idle when its newest event is more than <see cref="StreamOptions.SourceIdleTimeout"/> behind the newest
/// event of any source. The combined watermark never decreases (a source coming back from idleness holds it until it
/// catches up). Everything is event time, so replaying the same events gives the same watermarks. Not thread-safe.
/// </summary>
public sealed class WatermarkTracker
{
    private const byte FormatVersion = 1;

    private readonly Dictionary<string, SourceClock> _byName = new(StringComparer.Ordinal);
    private readonly List<SourceClock> _sources = [];
    private readonly long _latenessMs;
    private readonly long _idleMs;
    private long _current = long.MinValue;
    private long _greatest = long.MinValue;

    /// <summary>A tracker that has seen no event.</summary>
    public WatermarkTracker(StreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _latenessMs = StreamMath.Ms(options.AllowedLateness);
        _idleMs = StreamMath.Ms(options.SourceIdleTimeout);
    }

    /// <summary>The settings.</summary>
    public StreamOptions Options { get; }

    /// <summary>The combined watermark in Unix milliseconds; <see cref="long.MinValue"/> before any event.</summary>
    public long Current => _current;

    /// <summary>The newest event time of any source; <see cref="long.MinValue"/> before any event.</summary>
    public long GreatestEventMs => _greatest;

    /// <summary>The sources seen so far, in order of first appearance.</summary>
    public IEnumerable<string> Sources
    {
        get
        {
            foreach (var s in _sources)
            {
                yield return s.Name;
            }
        }
    }

    /// <summary>The watermark of one source; <see cref="long.MinValue"/> for a source never seen.</summary>
    public long SourceWatermark(string source) =>
        _byName.TryGetValue(source ?? "", out var c) ? StreamMath.Sub(c.MaxMs, c.OutOfOrdernessMs) : long.MinValue;

    /// <summary>Whether <paramref name="source"/> is seen and currently idle (excluded from <see cref="Current"/>).</summary>
    public bool IsIdle(string source) =>
        _byName.TryGetValue(source ?? "", out var c) && StreamMath.Sub(_greatest, c.MaxMs) > _idleMs;

    /// <summary>Whether an event at <paramref name="timestampMs"/> is late: older than <see cref="Current"/> minus the allowed lateness.</summary>
    public bool IsLate(long timestampMs) =>
        _current != long.MinValue && timestampMs < StreamMath.Sub(_current, _latenessMs);

    /// <summary>Notes an event of <paramref name="source"/> at <paramref name="timestampMs"/>; may advance <see cref="Current"/>.</summary>
    public void Observe(string source, long timestampMs)
    {
        source ??= "";
        if (_byName.TryGetValue(source, out var clock))
        {
            if (timestampMs <= clock.MaxMs)
            {
                return;
            }

            clock.MaxMs = timestampMs;
        }
        else
        {
            clock = new SourceClock(source, StreamMath.Ms(Options.OutOfOrdernessOf(source))) { MaxMs = timestampMs };
            _byName.Add(source, clock);
            _sources.Add(clock);
        }

        if (timestampMs > _greatest)
        {
            _greatest = timestampMs;
        }

        Recompute();
    }

    /// <summary>The tracker as compact binary; the first byte is the format version. Options are not included.</summary>
    public byte[] Serialize()
    {
        var w = new StateWriter(16 + (_sources.Count * 24));
        w.Byte(FormatVersion);
        w.VarInt(_current);
        w.VarUInt((ulong)_sources.Count);
        foreach (var s in _sources)
        {
            w.String(s.Name);
            w.VarInt(s.MaxMs);
        }

        return w.ToArray();
    }

    /// <summary>Restores a tracker written by <see cref="Serialize"/>; out-of-orderness comes from <paramref name="options"/>.</summary>
    public static WatermarkTracker Deserialize(ReadOnlySpan<byte> data, StreamOptions options)
    {
        var tracker = new WatermarkTracker(options);
        var r = new StateReader(data);
        var version = r.Byte();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"watermarks: format version {version} is not supported (expected {FormatVersion})");
        }

        var current = r.VarInt();
        var count = r.Count();
        for (var i = 0; i < count; i++)
        {
            var name = r.RequiredString();
            var max = r.VarInt();
            var clock = new SourceClock(name, StreamMath.Ms(options.OutOfOrdernessOf(name))) { MaxMs = max };
            if (!tracker._byName.TryAdd(name, clock))
            {
                throw new InvalidDataException($"watermarks: source '{name}' appears twice");
            }

            tracker._sources.Add(clock);
            tracker._greatest = Math.Max(tracker._greatest, max);
        }

        if (!r.AtEnd)
        {
            throw new InvalidDataException("watermarks: trailing bytes");
        }

        tracker._current = current;
        tracker.Recompute();
        return tracker;
    }

    private void Recompute()
    {
        var min = long.MaxValue;
        foreach (var s in _sources)
        {
            if (StreamMath.Sub(_greatest, s.MaxMs) > _idleMs)
            {
                continue;
            }

            var w = StreamMath.Sub(s.MaxMs, s.OutOfOrdernessMs);
            if (w < min)
            {
                min = w;
            }
        }

        if (min != long.MaxValue && min > _current)
        {
            _current = min;
        }
    }

    private sealed class SourceClock(string name, long outOfOrdernessMs)
    {
        public string Name { get; } = name;

        public long OutOfOrdernessMs { get; } = outOfOrdernessMs;

        public long MaxMs { get; set; }
    }
}
