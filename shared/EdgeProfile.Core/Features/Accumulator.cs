using System.Runtime.InteropServices;

namespace EdgeProfile.Core.Features;

/// <summary>
/// The mergeable state of one aggregation over some events (a pane, a session, a window being read). Pure data:
/// what to add is decided by the compiled <see cref="Aggregator"/>, so state deserialises without the definitions.
/// Merging is commutative and associative, which makes values independent of event arrival order.
/// The same object carries the pane's bookkeeping (start, lineage, emission), so applying an event touches one
/// object per definition rather than two; ratio parts leave those fields unused.
/// </summary>
internal abstract class Accumulator
{
    public const byte CountTag = 1;
    public const byte NumericTag = 2;
    public const byte DistinctTag = 3;
    public const byte LastValueTag = 4;
    public const byte TimeSinceLastTag = 5;
    public const byte TopKTag = 6;
    public const byte RatioTag = 7;

    /// <summary>Pane start (sliding/tumbling, hop-aligned), session start (its first event), or 0 (lifetime).</summary>
    public long Start;

    /// <summary>Events added.</summary>
    public long Events;

    /// <summary>Earliest event time added.</summary>
    public long FirstMs = long.MaxValue;

    /// <summary>Latest event time added.</summary>
    public long LastMs = long.MinValue;

    /// <summary>Id of the latest event (ties on time: the larger id, ordinal).</summary>
    public string? LastId;

    /// <summary>Sessions: a Final went out under the current bounds.</summary>
    public bool Emitted;

    public abstract byte Tag { get; }

    public void Note(long ms, string? id)
    {
        Events++;
        if (ms < FirstMs)
        {
            FirstMs = ms;
        }

        if (ms > LastMs || (ms == LastMs && string.CompareOrdinal(id, LastId) > 0))
        {
            LastMs = ms;
            LastId = id;
        }
    }

    public void MergeStats(Accumulator other)
    {
        if (other.Events == 0)
        {
            return;
        }

        Events += other.Events;
        if (other.FirstMs < FirstMs)
        {
            FirstMs = other.FirstMs;
        }

        if (other.LastMs > LastMs || (other.LastMs == LastMs && string.CompareOrdinal(other.LastId, LastId) > 0))
        {
            LastMs = other.LastMs;
            LastId = other.LastId;
        }
    }

    /// <summary>Empties the accumulator and its bookkeeping, for reuse.</summary>
    public void Reset(long start)
    {
        Clear();
        Start = start;
        Events = 0;
        FirstMs = long.MaxValue;
        LastMs = long.MinValue;
        LastId = null;
        Emitted = false;
    }

    /// <summary>A pane: bookkeeping (times relative to the start, to stay small) then the accumulator.</summary>
    public void WritePane(StateWriter w)
    {
        w.VarInt(Start);
        w.VarUInt((ulong)Events);
        if (Events > 0)
        {
            // Wrapping differences decode exactly (two's complement), whatever the values.
            w.VarInt(unchecked(FirstMs - Start));
            w.VarInt(unchecked(LastMs - FirstMs));
            w.String(LastId);
        }

        w.Bool(Emitted);
        WriteTo(w);
    }

    public static Accumulator ReadPane(ref StateReader r)
    {
        var start = r.VarInt();
        var events = (long)r.VarUInt();
        long first = long.MaxValue, last = long.MinValue;
        string? lastId = null;
        if (events > 0)
        {
            first = unchecked(start + r.VarInt());
            last = unchecked(first + r.VarInt());
            lastId = r.String();
        }

        var emitted = r.Bool();
        var acc = ReadFrom(ref r);
        acc.Start = start;
        acc.Events = events;
        acc.FirstMs = first;
        acc.LastMs = last;
        acc.LastId = lastId;
        acc.Emitted = emitted;
        return acc;
    }

    /// <summary>Identifies the layout (tag, top-k slots, ratio parts), to check restored state against a definition.</summary>
    public virtual long Shape => Tag;

    public abstract void MergeFrom(Accumulator other);

    public abstract void Clear();

    public void WriteTo(StateWriter w)
    {
        w.Byte(Tag);
        WriteHeader(w);
        WritePayload(w);
    }

    public static Accumulator ReadFrom(ref StateReader r)
    {
        var tag = r.Byte();
        Accumulator acc = tag switch
        {
            CountTag => new CountAccumulator(),
            NumericTag => new NumericAccumulator(),
            DistinctTag => new DistinctAccumulator(),
            LastValueTag => new LastValueAccumulator(),
            TimeSinceLastTag => new TimeSinceLastAccumulator(),
            TopKTag => new TopKAccumulator(r.Count()),
            RatioTag => new RatioAccumulator(ReadFrom(ref r), ReadFrom(ref r)),
            _ => throw new InvalidDataException($"state: unknown accumulator tag {tag}"),
        };
        acc.ReadPayload(ref r);
        return acc;
    }

    /// <summary>What <see cref="ReadFrom"/> needs to construct the accumulator (top-k slots, ratio parts).</summary>
    protected virtual void WriteHeader(StateWriter w)
    {
    }

    protected abstract void WritePayload(StateWriter w);

    protected abstract void ReadPayload(ref StateReader r);

    protected static T Same<T>(Accumulator other)
        where T : Accumulator =>
        other as T ?? throw new InvalidOperationException($"cannot merge {other.GetType().Name} into {typeof(T).Name}");
}

/// <summary>Number of events.</summary>
internal sealed class CountAccumulator : Accumulator
{
    public long N;

    public override byte Tag => CountTag;

    public override void MergeFrom(Accumulator other) => N += Same<CountAccumulator>(other).N;

    public override void Clear() => N = 0;

    protected override void WritePayload(StateWriter w) => w.VarUInt((ulong)N);

    protected override void ReadPayload(ref StateReader r) => N = (long)r.VarUInt();
}

/// <summary>
/// Count, sum, min and max of a numeric field. The sum is exact (<see cref="ExactSum"/>), so it does not depend on the
/// order of additions; values it cannot hold (NaN, infinities, beyond 2^111) go to a plain double sum.
/// </summary>
internal sealed class NumericAccumulator : Accumulator
{
    public long N;
    public ExactSum Exact;
    public double Inexact;
    public double Min = double.PositiveInfinity;
    public double Max = double.NegativeInfinity;

    public override byte Tag => NumericTag;

    public double Sum => Inexact == 0 ? Exact.ToDouble() : Exact.ToDouble() + Inexact;

    public void Add(double v)
    {
        N++;
        if (!Exact.TryAdd(v))
        {
            Inexact += v;
        }

        Min = Math.Min(Min, v);
        Max = Math.Max(Max, v);
    }

    public override void MergeFrom(Accumulator other)
    {
        var o = Same<NumericAccumulator>(other);
        if (o.N == 0)
        {
            return;
        }

        N += o.N;
        Exact.Add(o.Exact);
        Inexact += o.Inexact;
        Min = Math.Min(Min, o.Min);
        Max = Math.Max(Max, o.Max);
    }

    public override void Clear()
    {
        N = 0;
        Exact = default;
        Inexact = 0;
        Min = double.PositiveInfinity;
        Max = double.NegativeInfinity;
    }

    protected override void WritePayload(StateWriter w)
    {
        w.VarUInt((ulong)N);
        if (N == 0)
        {
            return;
        }

        Exact.Write(w);
        w.Double(Inexact);
        w.Double(Min);
        w.Double(Max);
    }

    protected override void ReadPayload(ref StateReader r)
    {
        N = (long)r.VarUInt();
        if (N == 0)
        {
            return;
        }

        if (r.Version == 1)
        {
            // Version 1 kept the sum as a decimal: carried over as its nearest double.
            var legacy = (double)r.LegacyDecimal();
            Exact = default;
            if (!Exact.TryAdd(legacy))
            {
                Inexact = legacy;
            }
        }
        else
        {
            Exact = ExactSum.Read(ref r);
        }

        Inexact += r.Double();
        Min = r.Double();
        Max = r.Double();
    }
}

/// <summary>
/// The set of distinct text values, capped at <see cref="Cap"/>: beyond it new values are dropped, so a distinct
/// count reads min(true count, <see cref="Cap"/>) whatever the order of events and merges.
/// </summary>
internal sealed class DistinctAccumulator : Accumulator
{
    /// <summary>Most distinct values kept per pane, session or window.</summary>
    public const int Cap = 10_000;

    public readonly HashSet<string> Values = new(StringComparer.Ordinal);

    public override byte Tag => DistinctTag;

    public int Count => Values.Count;

    public void Add(string value)
    {
        if (Values.Count < Cap)
        {
            Values.Add(value);
        }
    }

    public override void MergeFrom(Accumulator other)
    {
        foreach (var v in Same<DistinctAccumulator>(other).Values)
        {
            if (Values.Count >= Cap)
            {
                return;
            }

            Values.Add(v);
        }
    }

    public override void Clear() => Values.Clear();

    protected override void WritePayload(StateWriter w)
    {
        w.VarUInt((ulong)Values.Count);
        foreach (var v in Values)
        {
            w.String(v);
        }
    }

    protected override void ReadPayload(ref StateReader r)
    {
        var n = r.Count();
        Values.EnsureCapacity(n);
        for (var i = 0; i < n; i++)
        {
            Values.Add(r.RequiredString());
        }
    }
}

/// <summary>The field value of the latest event by (time, event id ordinal).</summary>
internal sealed class LastValueAccumulator : Accumulator
{
    public bool Has;
    public long Ms;
    public string? Id;
    public bool IsNumber;
    public double Number;
    public string? Text;

    public override byte Tag => LastValueTag;

    public bool Beats(long ms, string? id) =>
        !Has || ms > Ms || (ms == Ms && string.CompareOrdinal(id, Id) > 0);

    public void Set(long ms, string? id, double number)
    {
        Has = true;
        Ms = ms;
        Id = id;
        IsNumber = true;
        Number = number;
        Text = null;
    }

    public void Set(long ms, string? id, string text)
    {
        Has = true;
        Ms = ms;
        Id = id;
        IsNumber = false;
        Number = 0;
        Text = text;
    }

    public override void MergeFrom(Accumulator other)
    {
        var o = Same<LastValueAccumulator>(other);
        if (o.Has && Beats(o.Ms, o.Id))
        {
            Has = true;
            Ms = o.Ms;
            Id = o.Id;
            IsNumber = o.IsNumber;
            Number = o.Number;
            Text = o.Text;
        }
    }

    public override void Clear()
    {
        Has = false;
        Ms = 0;
        Id = null;
        IsNumber = false;
        Number = 0;
        Text = null;
    }

    protected override void WritePayload(StateWriter w)
    {
        w.Bool(Has);
        if (!Has)
        {
            return;
        }

        w.VarInt(Ms);
        w.String(Id);
        w.Bool(IsNumber);
        if (IsNumber)
        {
            w.Double(Number);
        }
        else
        {
            w.String(Text);
        }
    }

    protected override void ReadPayload(ref StateReader r)
    {
        Has = r.Bool();
        if (!Has)
        {
            return;
        }

        Ms = r.VarInt();
        Id = r.String();
        IsNumber = r.Bool();
        if (IsNumber)
        {
            Number = r.Double();
        }
        else
        {
            Text = r.String();
        }
    }
}

/// <summary>The latest event time.</summary>
internal sealed class TimeSinceLastAccumulator : Accumulator
{
    public bool Has;
    public long MaxMs = long.MinValue;

    public override byte Tag => TimeSinceLastTag;

    public void Add(long ms)
    {
        Has = true;
        if (ms > MaxMs)
        {
            MaxMs = ms;
        }
    }

    public override void MergeFrom(Accumulator other)
    {
        var o = Same<TimeSinceLastAccumulator>(other);
        if (o.Has)
        {
            Add(o.MaxMs);
        }
    }

    public override void Clear()
    {
        Has = false;
        MaxMs = long.MinValue;
    }

    protected override void WritePayload(StateWriter w)
    {
        w.Bool(Has);
        if (Has)
        {
            w.VarInt(MaxMs);
        }
    }

    protected override void ReadPayload(ref StateReader r)
    {
        Has = r.Bool();
        MaxMs = Has ? r.VarInt() : long.MinValue;
    }
}

/// <summary>
/// Top-k weights, kept as event counts per value and weight slot (one slot per distinct non-zero weight). Weights
/// are multiplied in at read time in slot order, so the totals do not depend on the order events were added.
/// Counts live in one flat array (row per value), so adding an event touches no per-value object.
/// </summary>
internal sealed class TopKAccumulator(int slots) : Accumulator
{
    private readonly Dictionary<string, int> _rows = new(StringComparer.Ordinal);
    private long[] _counts = new long[Math.Max(1, slots) * 4];

    public readonly long[] Totals = new long[slots];

    public int Slots => Totals.Length;

    /// <summary>Distinct values held.</summary>
    public int ValueCount => _rows.Count;

    public override byte Tag => TopKTag;

    public override long Shape => TopKTag | ((long)Slots << 8);

    /// <summary>The values and their counts per slot (a row of <see cref="Slots"/> numbers).</summary>
    public IEnumerable<(string Value, ReadOnlyMemory<long> Counts)> Entries
    {
        get
        {
            foreach (var (value, row) in _rows)
            {
                yield return (value, _counts.AsMemory(row * Slots, Slots));
            }
        }
    }

    public void Add(string value, int slot)
    {
        // RowOf may grow the array: take the offset first.
        var row = RowOf(value);
        _counts[row + slot]++;
        Totals[slot]++;
    }

    public override void MergeFrom(Accumulator other)
    {
        var o = Same<TopKAccumulator>(other);
        if (o.Slots != Slots)
        {
            throw new InvalidOperationException($"cannot merge top-k state of {o.Slots} slots into {Slots}");
        }

        foreach (var (value, row) in o._rows)
        {
            var mine = RowOf(value);
            var theirs = row * Slots;
            for (var i = 0; i < Slots; i++)
            {
                _counts[mine + i] += o._counts[theirs + i];
            }
        }

        for (var i = 0; i < Totals.Length; i++)
        {
            Totals[i] += o.Totals[i];
        }
    }

    public override void Clear()
    {
        _rows.Clear();
        Array.Clear(Totals);
    }

    /// <summary>Offset of <paramref name="value"/>'s row in the counts, adding a zeroed row for a new value.</summary>
    private int RowOf(string value)
    {
        ref var row = ref CollectionsMarshal.GetValueRefOrAddDefault(_rows, value, out var exists);
        if (!exists)
        {
            row = _rows.Count - 1;
            var needed = (row + 1) * Slots;
            if (needed > _counts.Length)
            {
                Array.Resize(ref _counts, Math.Max(needed, _counts.Length * 2));
            }

            Array.Clear(_counts, row * Slots, Slots);
        }

        return row * Slots;
    }

    protected override void WriteHeader(StateWriter w) => w.VarUInt((ulong)Slots);

    protected override void WritePayload(StateWriter w)
    {
        w.VarUInt((ulong)_rows.Count);
        foreach (var (value, row) in _rows)
        {
            w.String(value);
            for (var i = 0; i < Slots; i++)
            {
                w.VarUInt((ulong)_counts[(row * Slots) + i]);
            }
        }
    }

    protected override void ReadPayload(ref StateReader r)
    {
        var n = r.Count();
        for (var i = 0; i < n; i++)
        {
            var value = r.RequiredString();
            if (_rows.ContainsKey(value))
            {
                throw new InvalidDataException($"state: top-k value '{value}' appears twice");
            }

            var row = RowOf(value);
            for (var s = 0; s < Slots; s++)
            {
                var c = (long)r.VarUInt();
                _counts[row + s] = c;
                Totals[s] += c;
            }
        }
    }
}

/// <summary>Numerator and denominator parts of a ratio.</summary>
internal sealed class RatioAccumulator(Accumulator numerator, Accumulator denominator) : Accumulator
{
    public Accumulator Numerator { get; } = numerator;

    public Accumulator Denominator { get; } = denominator;

    public override byte Tag => RatioTag;

    public override long Shape => RatioTag | (Numerator.Shape << 8) | (Denominator.Shape << 24);

    public override void MergeFrom(Accumulator other)
    {
        var o = Same<RatioAccumulator>(other);
        Numerator.MergeFrom(o.Numerator);
        Denominator.MergeFrom(o.Denominator);
    }

    public override void Clear()
    {
        Numerator.Clear();
        Denominator.Clear();
    }

    protected override void WriteHeader(StateWriter w)
    {
        Numerator.WriteTo(w);
        Denominator.WriteTo(w);
    }

    // The parts are the header: ReadFrom reads them to construct the ratio.
    protected override void WritePayload(StateWriter w)
    {
    }

    protected override void ReadPayload(ref StateReader r)
    {
    }
}
