using System.Buffers;

namespace EdgeProfile.Core.Features;

/// <summary>
/// One customer's keyed stream state for every feature definition (by <see cref="FeatureDefinition.Id"/>): panes,
/// sessions and lifetime accumulators, emission progress and lineage. Serialises to compact, versioned binary
/// without needing the definitions. Not thread-safe: one writer per customer.
/// </summary>
public sealed class CustomerState
{
    /// <summary>2: exact sums (256-bit fixed point); 1 (still read): sums as decimals.</summary>
    private const byte FormatVersion = 2;

    [ThreadStatic]
    private static StateWriter? t_writer;

    private readonly Dictionary<string, DefinitionState> _states = new(StringComparer.Ordinal);
    private StreamPlan? _boundPlan;
    private DefinitionState?[] _slots = [];

    /// <summary>Empty state of <paramref name="customerKey"/>.</summary>
    public CustomerState(string customerKey)
    {
        ArgumentNullException.ThrowIfNull(customerKey);
        CustomerKey = customerKey;
    }

    /// <summary>
    /// Per slot of the bound plan: the smallest "watermark − lateness" at which that definition's state has something
    /// to purge (<see cref="long.MinValue"/>: not computed yet; <see cref="long.MaxValue"/>: nothing). Kept apart from
    /// the definition states so the engine finds the due ones without touching the others.
    /// </summary>
    internal long[] SlotPurgeAt { get; private set; } = [];

    /// <summary>Per slot: the smallest watermark at which a window of that definition may fire (same conventions).</summary>
    internal long[] SlotFireAt { get; private set; } = [];

    /// <summary>The smallest of <see cref="SlotPurgeAt"/>; <see cref="long.MinValue"/>: unknown.</summary>
    internal long PurgeAt { get; set; } = long.MinValue;

    /// <summary>The smallest of <see cref="SlotFireAt"/>; <see cref="long.MinValue"/>: unknown.</summary>
    internal long FireAt { get; set; } = long.MinValue;

    /// <summary>Forgets every deadline (after changes outside the engine's bookkeeping, such as a replay).</summary>
    internal void InvalidateDeadlines()
    {
        Array.Fill(SlotPurgeAt, long.MinValue);
        Array.Fill(SlotFireAt, long.MinValue);
        PurgeAt = long.MinValue;
        FireAt = long.MinValue;
    }

    /// <summary>The event ids this customer's panes refer to.</summary>
    internal EventIds Ids { get; } = new();

    /// <summary>
    /// Drops the event ids no pane refers to any more, once the table is full (the engine calls it after each event,
    /// so the table stays within twice the ids in use and no event ever finds it full).
    /// </summary>
    internal void CompactIdsIfFull()
    {
        if (!Ids.Full)
        {
            return;
        }

        var used = new bool[Ids.Count];
        foreach (var d in _states.Values)
        {
            for (var i = 0; i < d.Count; i++)
            {
                if (d[i].LastRef >= 0)
                {
                    used[d[i].LastRef] = true;
                }
            }
        }

        var remap = Ids.Compact(used);
        foreach (var d in _states.Values)
        {
            for (var i = 0; i < d.Count; i++)
            {
                if (d[i].LastRef >= 0)
                {
                    d[i].LastRef = remap[d[i].LastRef];
                }
            }
        }
    }

    /// <summary>The customer this state belongs to.</summary>
    public string CustomerKey { get; }

    /// <summary>The definitions that have state here.</summary>
    public IEnumerable<string> DefinitionIds => _states.Keys;

    /// <summary>Whether <paramref name="definitionId"/> has state here.</summary>
    public bool Has(string definitionId) => _states.ContainsKey(definitionId);

    /// <summary>Drops the state of one definition (a retired version, or before a fresh backfill).</summary>
    public void Remove(string definitionId)
    {
        if (_states.Remove(definitionId))
        {
            _boundPlan = null;
        }
    }

    /// <summary>The state as compact binary; the first byte is the format version.</summary>
    public byte[] Serialize() => Write(Scratch()).ToArray();

    /// <summary>
    /// The same bytes as <see cref="Serialize()"/>, appended to <paramref name="output"/>: a writer checkpointing
    /// thousands of customers a second reuses one buffer instead of growing a new array for each.
    /// </summary>
    public void Serialize(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(Write(Scratch()).Written);
    }

    // One writer per thread, kept between calls: it grows to the largest state serialised and stays that size.
    private static StateWriter Scratch()
    {
        var w = t_writer ??= new StateWriter(4096);
        w.Reset();
        return w;
    }

    private StateWriter Write(StateWriter w)
    {
        w.Ids = Ids;
        w.Byte(FormatVersion);
        w.String(CustomerKey);
        w.VarUInt((ulong)_states.Count);
        foreach (var s in _states.Values)
        {
            s.Write(w);
        }

        return w;
    }

    /// <summary>Restores state written by <see cref="Serialize()"/>; malformed input throws <see cref="InvalidDataException"/>.</summary>
    public static CustomerState Deserialize(ReadOnlySpan<byte> data)
    {
        var r = new StateReader(data);
        var version = r.Byte();
        if (version is < 1 or > FormatVersion)
        {
            throw new InvalidDataException($"customer state: format version {version} is not supported (expected 1 to {FormatVersion})");
        }

        r.Version = version;

        var state = new CustomerState(r.RequiredString());
        r.Ids = state.Ids;
        var n = r.Count();
        for (var i = 0; i < n; i++)
        {
            var d = DefinitionState.Read(ref r);
            if (!state._states.TryAdd(d.Id, d))
            {
                throw new InvalidDataException($"customer state: definition '{d.Id}' appears twice");
            }
        }

        if (!r.AtEnd)
        {
            throw new InvalidDataException("customer state: trailing bytes");
        }

        return state;
    }

    /// <summary>
    /// The states of <paramref name="plan"/>'s definitions by index, bound once per plan so the hot path indexes an
    /// array. Restored state whose layout does not fit its definition (an id reused for another shape) is dropped.
    /// </summary>
    internal DefinitionState?[] SlotsFor(StreamPlan plan)
    {
        if (ReferenceEquals(_boundPlan, plan))
        {
            return _slots;
        }

        var n = plan.Definitions.Length;
        var slots = new DefinitionState?[n];
        foreach (var cd in plan.Definitions)
        {
            slots[cd.Index] = Find(cd);
        }

        _slots = slots;
        _boundPlan = plan;
        SlotPurgeAt = new long[n];
        SlotFireAt = new long[n];
        for (var i = 0; i < n; i++)
        {
            // Unknown for restored state, nothing to do for absent state (a new one starts from there).
            SlotPurgeAt[i] = slots[i] is null ? long.MaxValue : long.MinValue;
            SlotFireAt[i] = SlotPurgeAt[i];
        }

        PurgeAt = long.MinValue;
        FireAt = long.MinValue;
        return slots;
    }

    /// <summary>The state of <paramref name="cd"/>, or null.</summary>
    internal DefinitionState? Find(CompiledDefinition cd)
    {
        if (ReferenceEquals(cd.Plan, _boundPlan) && cd.Plan is not null)
        {
            return _slots[cd.Index];
        }

        if (!_states.TryGetValue(cd.Id, out var s))
        {
            return null;
        }

        if (!cd.Fits(s))
        {
            _states.Remove(cd.Id);
            _boundPlan = null;
            return null;
        }

        return s;
    }

    /// <summary>The state of <paramref name="cd"/>, created when absent.</summary>
    internal DefinitionState GetOrCreate(CompiledDefinition cd)
    {
        if (Find(cd) is { } s)
        {
            return s;
        }

        s = cd.NewState(Ids);
        _states[cd.Id] = s;
        if (cd.Plan is not null && ReferenceEquals(cd.Plan, _boundPlan))
        {
            _slots[cd.Index] = s;
        }
        else
        {
            _boundPlan = null;
        }

        return s;
    }

    /// <summary>Removes every definition state whose id <paramref name="drop"/> selects; returns how many.</summary>
    internal int RemoveWhere(Func<string, bool> drop)
    {
        var gone = _states.Keys.Where(drop).ToList();
        foreach (var id in gone)
        {
            _states.Remove(id);
        }

        if (gone.Count > 0)
        {
            _boundPlan = null;
        }

        return gone.Count;
    }
}
