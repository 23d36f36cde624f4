namespace EdgeProfile.Core.Features;

/// <summary>
/// One customer's state for one definition: panes (sliding/tumbling, sorted by start), sessions (sorted, disjoint)
/// or the single lifetime pane, plus what lineage and status need beyond purged panes.
/// </summary>
internal sealed class DefinitionState(string id, WindowKind kind, long sizeMs, long hopMs, long gapMs, long shape, EventIds ids)
{
    public string Id { get; } = id;

    /// <summary>The customer's event ids, which the panes' <see cref="Accumulator.LastRef"/> index.</summary>
    public EventIds Ids { get; } = ids;

    public WindowKind Kind { get; } = kind;

    public long SizeMs { get; } = sizeMs;

    public long HopMs { get; } = hopMs;

    public long GapMs { get; } = gapMs;

    public long Shape { get; } = shape;

    /// <summary>Events ever applied (0: the definition is missing for the customer).</summary>
    public long Events { get; set; }

    /// <summary>Latest event time ever applied, for staleness.</summary>
    public long LatestMs { get; set; } = long.MinValue;

    /// <summary>Sliding/tumbling: every window ending at or before this has had its Final (if it had events).</summary>
    public long EmittedThrough { get; set; } = long.MinValue;

    private Accumulator[] _panes = [];
    private int _count;

    /// <summary>Panes, sessions or the lifetime pane held, sorted by start.</summary>
    public int Count => _count;

    public Accumulator this[int index] => _panes[index];

    public void Note(long ms)
    {
        Events++;
        if (ms > LatestMs)
        {
            LatestMs = ms;
        }
    }

    public void Insert(int index, Accumulator pane)
    {
        if (_count == _panes.Length)
        {
            Array.Resize(ref _panes, Math.Max(4, _count * 2));
        }

        Array.Copy(_panes, index, _panes, index + 1, _count - index);
        _panes[index] = pane;
        _count++;
    }

    public void Add(Accumulator pane) => Insert(_count, pane);

    /// <summary>Removes <paramref name="n"/> panes from <paramref name="index"/>, handing them to <paramref name="recycle"/>.</summary>
    public void RemoveRange(int index, int n, CompiledDefinition? recycle = null)
    {
        if (recycle is not null)
        {
            for (var i = index; i < index + n; i++)
            {
                recycle.Recycle(_panes[i]);
            }
        }

        Array.Copy(_panes, index + n, _panes, index, _count - index - n);
        _count -= n;
        Array.Clear(_panes, _count, n);
    }

    public void Write(StateWriter w)
    {
        w.String(Id);
        w.Byte((byte)Kind);
        w.VarInt(SizeMs);
        w.VarInt(HopMs);
        w.VarInt(GapMs);
        w.VarInt(Shape);
        w.VarUInt((ulong)Events);
        w.VarInt(LatestMs);
        w.VarInt(EmittedThrough);
        w.VarUInt((ulong)_count);
        for (var i = 0; i < _count; i++)
        {
            _panes[i].WritePane(w);
        }
    }

    public static DefinitionState Read(ref StateReader r)
    {
        var id = r.RequiredString();
        var kindByte = r.Byte();
        if (kindByte > (byte)WindowKind.Lifetime)
        {
            throw new InvalidDataException($"state: '{id}' has unknown window kind {kindByte}");
        }

        var state = new DefinitionState(id, (WindowKind)kindByte, r.VarInt(), r.VarInt(), r.VarInt(), r.VarInt(), r.Ids ?? throw new InvalidOperationException("state reader without an event-id table"))
        {
            Events = (long)r.VarUInt(),
            LatestMs = r.VarInt(),
            EmittedThrough = r.VarInt(),
        };
        var n = r.Count();
        state._panes = new Accumulator[n];
        for (var i = 0; i < n; i++)
        {
            var pane = Accumulator.ReadPane(ref r);
            if (pane.Shape != state.Shape)
            {
                throw new InvalidDataException($"state: '{id}' has a pane of another layout");
            }

            if (i > 0 && pane.Start <= state._panes[i - 1].Start)
            {
                throw new InvalidDataException($"state: '{id}' has panes out of order");
            }

            state._panes[i] = pane;
            state._count = i + 1;
        }

        return state;
    }
}
