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

    /// <summary>
    /// Index, in the owning customer's <see cref="EventIds"/>, of the latest event's id (ties on time: the larger id,
    /// ordinal); -1: none.
    /// </summary>
    public int LastRef = -1;

    /// <summary>Sessions: a Final went out under the current bounds.</summary>
    public bool Emitted;

    public abstract byte Tag { get; }

    public void Note(long ms, string? id, EventIds ids)
    {
        Events++;
        if (ms < FirstMs)
        {
            FirstMs = ms;
        }

        if (ms > LastMs || (ms == LastMs && ids.Compare(id, LastRef) > 0))
        {
            LastMs = ms;
            LastRef = ids.Ref(id);
        }
    }

    /// <summary>Adds <paramref name="other"/>'s counts and times; both belong to the customer whose ids are <paramref name="ids"/>.</summary>
    public void MergeStats(Accumulator other, EventIds ids)
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

        if (other.LastMs > LastMs || (other.LastMs == LastMs && ids.Compare(other.LastRef, LastRef) > 0))
        {
            LastMs = other.LastMs;
            LastRef = other.LastRef;
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
        LastRef = -1;
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
            w.Id(LastRef);
        }

        w.Bool(Emitted);
        WriteTo(w);
    }

    public static Accumulator ReadPane(ref StateReader r)
    {
        var start = r.VarInt();
        var events = (long)r.VarUInt();
        long first = long.MaxValue, last = long.MinValue;
        var lastRef = -1;
        if (events > 0)
        {
            first = unchecked(start + r.VarInt());
            last = unchecked(first + r.VarInt());
            lastRef = r.Ids!.Ref(r.String());
        }

        var emitted = r.Bool();
        var acc = ReadFrom(ref r);
        acc.Start = start;
        acc.Events = events;
        acc.FirstMs = first;
        acc.LastMs = last;
        acc.LastRef = lastRef;
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
/// count reads min(true count, <see cref="Cap"/>) whatever the order of events and merges. Most panes hold one or a
/// few values, so the first <see cref="InlineValues"/> live in fields and a hash set is made only past them: every
/// new pane is kept until its windows expire, and a set per pane (three more objects) was most of what the engine's
/// state added per event. Values are enumerated in the order they were first added, as with the set alone.
/// </summary>
internal sealed class DistinctAccumulator : Accumulator
{
    /// <summary>Most distinct values kept per pane, session or window.</summary>
    public const int Cap = 10_000;

    /// <summary>Values held in fields before a hash set is made.</summary>
    public const int InlineValues = 4;

    private string? _v0;
    private string? _v1;
    private string? _v2;
    private string? _v3;
    private int _inline;
    private HashSet<string>? _set;

    public override byte Tag => DistinctTag;

    public int Count => _set?.Count ?? _inline;

    public void Add(string value)
    {
        if (_set is not null)
        {
            if (_set.Count < Cap)
            {
                _set.Add(value);
            }

            return;
        }

        for (var i = 0; i < _inline; i++)
        {
            if (string.Equals(Inline(i), value, StringComparison.Ordinal))
            {
                return;
            }
        }

        switch (_inline)
        {
            case 0:
                _v0 = value;
                break;
            case 1:
                _v1 = value;
                break;
            case 2:
                _v2 = value;
                break;
            case 3:
                _v3 = value;
                break;
            default:
                // Past the fields: a set, filled in the same order so enumeration (and so the state's bytes) is unchanged.
                _set = new HashSet<string>(InlineValues * 2, StringComparer.Ordinal) { _v0!, _v1!, _v2!, _v3!, value };
                _v0 = _v1 = _v2 = _v3 = null;
                _inline = 0;
                return;
        }

        _inline++;
    }

    public override void MergeFrom(Accumulator other)
    {
        var o = Same<DistinctAccumulator>(other);
        if (o._set is not null)
        {
            foreach (var v in o._set)
            {
                if (Count >= Cap)
                {
                    return;
                }

                Add(v);
            }

            return;
        }

        for (var i = 0; i < o._inline; i++)
        {
            if (Count >= Cap)
            {
                return;
            }

            Add(o.Inline(i));
        }
    }

    public override void Clear()
    {
        // A recycled pane keeps its set (and its capacity), as before.
        _set?.Clear();
        _v0 = _v1 = _v2 = _v3 = null;
        _inline = 0;
    }

    protected override void WritePayload(StateWriter w)
    {
        w.VarUInt((ulong)Count);
        if (_set is not null)
        {
            foreach (var v in _set)
            {
                w.String(v);
            }

            return;
        }

        for (var i = 0; i < _inline; i++)
        {
            w.String(Inline(i));
        }
    }

    protected override void ReadPayload(ref StateReader r)
    {
        var n = r.Count();
        if (n > InlineValues)
        {
            _set ??= new HashSet<string>(n, StringComparer.Ordinal);
            _set.EnsureCapacity(n);
        }

        for (var i = 0; i < n; i++)
        {
            Add(r.RequiredString());
        }
    }

    private string Inline(int i) => i switch
    {
        0 => _v0!,
        1 => _v1!,
        2 => _v2!,
        _ => _v3!,
    };
}

/// <summary>The field value of the latest event by (time, event id ordinal).</summary>
internal sealed class LastValueAccumulator : Accumulator
{
    public bool Has;
    public long Ms;
    public bool IsNumber;
    public double Number;
    public string? Text;

    // The id of the event that set the value, as characters in a buffer this pane keeps (null: -1): storing each
    // event's new id string here made every young collection scan this long-lived object.
    private char[] _id = [];
    private int _idLength = -1;

    public override byte Tag => LastValueTag;

    public bool Beats(long ms, string? id) => Beats(ms, id, id is null);

    public void Set(long ms, string? id, double number)
    {
        Has = true;
        Ms = ms;
        SetId(id);
        IsNumber = true;
        Number = number;
        Text = null;
    }

    public void Set(long ms, string? id, string text)
    {
        Has = true;
        Ms = ms;
        SetId(id);
        IsNumber = false;
        Number = 0;
        Text = text;
    }

    public override void MergeFrom(Accumulator other)
    {
        var o = Same<LastValueAccumulator>(other);
        if (o.Has && Beats(o.Ms, o.StoredId, o._idLength < 0))
        {
            Has = true;
            Ms = o.Ms;
            SetId(o.StoredId, o._idLength < 0);
            IsNumber = o.IsNumber;
            Number = o.Number;
            Text = o.Text;
        }
    }

    public override void Clear()
    {
        Has = false;
        Ms = 0;
        _idLength = -1;
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
        if (_idLength < 0)
        {
            w.String(null);
        }
        else
        {
            w.String(StoredId);
        }

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
        SetId(r.String());
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

    private ReadOnlySpan<char> StoredId => _id.AsSpan(0, Math.Max(_idLength, 0));

    // Whether an event at ms with this id (isNull: none) replaces the value: later, or as late with the ordinal-larger
    // id (no id orders first, as string.CompareOrdinal orders null).
    private bool Beats(long ms, ReadOnlySpan<char> id, bool isNull) =>
        !Has || ms > Ms || (ms == Ms && !isNull && (_idLength < 0 || id.SequenceCompareTo(StoredId) > 0));

    private void SetId(string? id) => SetId(id, id is null);

    private void SetId(ReadOnlySpan<char> id, bool isNull)
    {
        if (isNull)
        {
            _idLength = -1;
            return;
        }

        if (_id.Length < id.Length)
        {
            _id = new char[Math.Max(id.Length, 16)];
        }

        id.CopyTo(_id);
        _idLength = id.Length;
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
/// Counts live in one flat array (the totals, then a row per value), so adding an event touches no per-value object.
/// Values are found by a linear search while there are few (a pane usually holds one or two), and through a
/// dictionary made only past <see cref="LinearValues"/>: every new pane is kept until its windows expire, and a
/// dictionary per pane was most of what a top-k definition added to the heap per event.
/// </summary>
internal sealed class TopKAccumulator(int slots) : Accumulator
{
    /// <summary>Values searched linearly before a dictionary is made.</summary>
    public const int LinearValues = 8;

    private readonly int _slots = slots;
    private string[] _values = [];
    private int _count;
    private Dictionary<string, int>? _index;
    private long[] _counts = new long[Math.Max(1, slots) * 3];

    /// <summary>Events counted per slot, over every value.</summary>
    public ReadOnlySpan<long> Totals => _counts.AsSpan(0, _slots);

    public int Slots => _slots;

    /// <summary>Distinct values held.</summary>
    public int ValueCount => _count;

    public override byte Tag => TopKTag;

    public override long Shape => TopKTag | ((long)Slots << 8);

    /// <summary>The values (in the order they were first added) and their counts per slot (a row of <see cref="Slots"/> numbers).</summary>
    public IEnumerable<(string Value, ReadOnlyMemory<long> Counts)> Entries
    {
        get
        {
            for (var i = 0; i < _count; i++)
            {
                yield return (_values[i], _counts.AsMemory(RowOffset(i), _slots));
            }
        }
    }

    public void Add(string value, int slot)
    {
        // RowOf may grow the array: take the offset first.
        var row = RowOf(value);
        _counts[row + slot]++;
        _counts[slot]++;
    }

    public override void MergeFrom(Accumulator other)
    {
        var o = Same<TopKAccumulator>(other);
        if (o.Slots != Slots)
        {
            throw new InvalidOperationException($"cannot merge top-k state of {o.Slots} slots into {Slots}");
        }

        for (var r = 0; r < o._count; r++)
        {
            var mine = RowOf(o._values[r]);
            var theirs = o.RowOffset(r);
            for (var i = 0; i < _slots; i++)
            {
                _counts[mine + i] += o._counts[theirs + i];
            }
        }

        for (var i = 0; i < _slots; i++)
        {
            _counts[i] += o._counts[i];
        }
    }

    public override void Clear()
    {
        Array.Clear(_values, 0, _count);
        _count = 0;
        _index?.Clear();
        Array.Clear(_counts, 0, _slots);
    }

    private int RowOffset(int row) => (row + 1) * _slots;

    /// <summary>The row of <paramref name="value"/>, or -1.</summary>
    private int IndexOf(string value)
    {
        if (_index is not null)
        {
            return _index.TryGetValue(value, out var row) ? row : -1;
        }

        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(_values[i], value, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Offset of <paramref name="value"/>'s row in the counts, adding a zeroed row for a new value.</summary>
    private int RowOf(string value)
    {
        var row = IndexOf(value);
        if (row >= 0)
        {
            return RowOffset(row);
        }

        row = _count;
        if (row == _values.Length)
        {
            Array.Resize(ref _values, Math.Max(2, row * 2));
        }

        _values[row] = value;
        _count++;
        if (_index is not null)
        {
            _index[value] = row;
        }
        else if (_count > LinearValues)
        {
            _index = new Dictionary<string, int>(_count * 2, StringComparer.Ordinal);
            for (var i = 0; i < _count; i++)
            {
                _index[_values[i]] = i;
            }
        }

        var needed = RowOffset(row + 1);
        if (needed > _counts.Length)
        {
            Array.Resize(ref _counts, Math.Max(needed, _counts.Length * 2));
        }

        Array.Clear(_counts, RowOffset(row), _slots);
        return RowOffset(row);
    }

    protected override void WriteHeader(StateWriter w) => w.VarUInt((ulong)Slots);

    protected override void WritePayload(StateWriter w)
    {
        w.VarUInt((ulong)_count);
        for (var r = 0; r < _count; r++)
        {
            w.String(_values[r]);
            var offset = RowOffset(r);
            for (var i = 0; i < _slots; i++)
            {
                w.VarUInt((ulong)_counts[offset + i]);
            }
        }
    }

    protected override void ReadPayload(ref StateReader r)
    {
        var n = r.Count();
        for (var i = 0; i < n; i++)
        {
            var value = r.RequiredString();
            if (IndexOf(value) >= 0)
            {
                throw new InvalidDataException($"state: top-k value '{value}' appears twice");
            }

            var row = RowOf(value);
            for (var s = 0; s < _slots; s++)
            {
                var c = (long)r.VarUInt();
                _counts[row + s] = c;
                _counts[s] += c;
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
